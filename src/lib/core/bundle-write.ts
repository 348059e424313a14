/**
 * Writes bundle format v1 (docs/bundle-format.md): createBundle signs a new bundle, addSignature
 * adds a signer to an existing one without re-encoding what is already there. bundle.ts parses.
 *
 * The writers throw only for a programmer's mistake (a seed that is not 32 bytes, no signer); a
 * bundle given to addSignature that does not parse comes back as reasons.
 */
import { toBase64, utf8 } from './bytes';
import {
  BUNDLE_VERSION,
  MANIFEST_PAYLOAD_TYPE,
  pae,
  parseBundleText,
  type BundleLimits
} from './bundle';
import { sha256Hex } from './digest';
import { publicKeyFromSecret, sign, SECRET_KEY_LENGTH } from './ed25519';
import type { Reason } from './verdict';

export interface BundleSigner {
  /** 32-byte Ed25519 secret key (seed). */
  seed: Uint8Array;
  /** The hint to write; default: the canonical key id (SHA-256 hex of the public key). */
  keyid?: string;
}

/**
 * Writes a bundle: the module, the manifest bytes exactly as given (not checked here: parse them
 * with parseManifest first), and one signature per signer over PAE(payloadType, manifest).
 */
export async function createBundle(input: {
  module: Uint8Array;
  manifest: Uint8Array;
  signers: readonly BundleSigner[];
}): Promise<Uint8Array> {
  if (!(input.module instanceof Uint8Array)) throw new TypeError('module: expected Uint8Array');
  if (!(input.manifest instanceof Uint8Array)) throw new TypeError('manifest: expected Uint8Array');
  if (input.signers.length === 0) throw new RangeError('signers: a bundle needs at least one');
  const message = pae(MANIFEST_PAYLOAD_TYPE, input.manifest);
  const signatures: { keyid: string; sig: string }[] = [];
  for (const signer of input.signers) signatures.push(await signEntry(message, signer));
  return serialize(toBase64(input.module), toBase64(input.manifest), signatures);
}

/**
 * Adds one signature to a bundle. The module and payload base64 text is kept exactly; the
 * other signatures are kept in order. Adding a signature already present changes nothing.
 * A bundle that does not parse is returned as reasons.
 */
export async function addSignature(
  bundleBytes: Uint8Array,
  seed: Uint8Array,
  keyid?: string,
  limits: BundleLimits = {}
): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; reasons: Reason[] }> {
  const parsed = parseBundleText(bundleBytes, limits);
  if (!parsed.ok) return parsed;
  const message = pae(parsed.payloadType, parsed.manifestBytes);
  const signer: BundleSigner = keyid === undefined ? { seed } : { seed, keyid };
  const added = await signEntry(message, signer);
  const signatures = parsed.signatures.map((s) => ({ keyid: s.keyid, sig: toBase64(s.sig) }));
  if (!signatures.some((s) => s.sig === added.sig)) signatures.push(added);
  const bytes = serialize(parsed.moduleBase64, parsed.payloadBase64, signatures);
  return { ok: true, bytes };
}

async function signEntry(
  message: Uint8Array,
  signer: BundleSigner
): Promise<{ keyid: string; sig: string }> {
  if (!(signer.seed instanceof Uint8Array) || signer.seed.length !== SECRET_KEY_LENGTH) {
    throw new RangeError(`seed: expected ${SECRET_KEY_LENGTH} bytes`);
  }
  const keyid = signer.keyid ?? (await sha256Hex(publicKeyFromSecret(signer.seed)));
  return { keyid, sig: toBase64(sign(message, signer.seed)) };
}

function serialize(
  moduleBase64: string,
  payloadBase64: string,
  signatures: { keyid: string; sig: string }[]
): Uint8Array {
  const bundle = {
    nightcoreBundle: BUNDLE_VERSION,
    module: moduleBase64,
    envelope: { payloadType: MANIFEST_PAYLOAD_TYPE, payload: payloadBase64, signatures }
  };
  return utf8(`${JSON.stringify(bundle, null, 2)}\n`);
}
