/**
 * The one entry point that turns input bytes into a Verdict: bundles (docs/bundle-format.md),
 * detached signatures over a raw module, the old console's tenant folder or zip, and unsigned
 * modules. Only the keys passed in are trusted; a key shipped with the input never is.
 *
 * verify() never throws and never stops at the first problem when later checks still mean
 * something: a bundle with a digest mismatch and an untrusted signer reports both. An
 * unexpected exception becomes the reason `input.internal` (a bug, never an expected outcome).
 */
import { bytesEqual } from './bytes';
import { DEFAULT_MAX_MODULE_BYTES, pae, parseBundle, type ParsedBundle } from './bundle';
import { sha256Hex } from './digest';
import { publicKeyProblem, verifyStrict } from './ed25519';
import { detectSignatureFormat, verifyDetachedSignature } from './formats/detached';
import { readTenantFiles, unzipTenant, verifyTenant } from './formats/tenant';
import { parseManifest, type Manifest } from './manifest';
import {
  reason,
  type DetachedVerification,
  type InputFormat,
  type Reason,
  type TrustedKey
} from './verdict';

export type VerifyInput =
  | { kind: 'bundle'; bytes: Uint8Array }
  | { kind: 'detached'; module: Uint8Array; signature: Uint8Array; name: string }
  | { kind: 'tenant'; files: ReadonlyMap<string, Uint8Array> }
  | { kind: 'tenant-zip'; bytes: Uint8Array }
  | { kind: 'unsigned'; module: Uint8Array; name: string };

export interface VerifyOptions {
  /** The current time in epoch milliseconds, for expiry; default Date.now(). */
  now?: number;
  /** Distinct trusted keys whose signatures must verify; default 1. */
  threshold?: number;
  /** SSHSIG namespace for detached OpenSSH signatures; default `nightcore`. */
  namespace?: string;
  /** Largest module accepted, in bytes; default 64 MiB. */
  maxModuleBytes?: number;
}

export interface Verdict {
  /** True only when there is no reason: signed by enough trusted keys and everything matched. */
  ok: boolean;
  format: InputFormat | 'unsigned';
  /** Why it failed; empty when ok. */
  reasons: Reason[];
  /** What the reviewer should see either way (untrusted extra signatures, unknown fields…). */
  notes: Reason[];
  /** Distinct canonical ids of the trusted keys whose signatures verified. */
  signers: string[];
  /** SHA-256 (lowercase hex) and length of the module bytes, when there were module bytes. */
  module: { sha256: string; size: number } | null;
  moduleBytes: Uint8Array | null;
  /** The bundle's manifest whenever it parsed, even when ok is false (then it is unverified). */
  manifest: Manifest | null;
  /** The manifest exactly as signed (bundles only). */
  manifestBytes: Uint8Array | null;
  manifestSha256: string | null;
  unknownManifestKeys: string[];
  /** The module's name: the manifest's for a bundle, the file name for a detached signature. */
  name: string | null;
  trustedComment?: string;
  untrustedComment?: string;
  /** Tenant input: canonical id of the key in pubkey.b64 (shown, never trusted by presence). */
  claimedKeyId?: string | null;
}

/** How far in the future a manifest's `created` may be before it is noted (clock skew). */
export const CREATED_FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

interface Resolved {
  now: number;
  threshold: number;
  namespace: string | undefined;
  maxModuleBytes: number;
}

/** Verifies any supported input against the pinned keys. Never throws. */
export async function verify(
  input: VerifyInput,
  keys: readonly TrustedKey[],
  options: VerifyOptions = {}
): Promise<Verdict> {
  let format: Verdict['format'] = 'unknown';
  try {
    format = formatOf(input);
    const problem = checkArguments(input, keys, options);
    if (problem !== null) return finish(emptyVerdict(format), [problem]);
    const resolved: Resolved = {
      now: options.now ?? Date.now(),
      threshold: options.threshold ?? 1,
      namespace: options.namespace,
      maxModuleBytes: options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
    };
    switch (input.kind) {
      case 'bundle':
        return await verifyBundle(input.bytes, keys, resolved);
      case 'detached':
        return await verifyDetached(input.module, input.signature, input.name, keys, resolved);
      case 'tenant':
        return await verifyTenantFiles(input.files, keys, resolved);
      case 'tenant-zip': {
        const unzipped = unzipTenant(input.bytes);
        if (!unzipped.ok) return finish(emptyVerdict('tenant'), [unzipped.reason]);
        return await verifyTenantFiles(unzipped.files, keys, resolved);
      }
      case 'unsigned':
        return await verifyUnsigned(input.module, input.name, resolved);
    }
  } catch (error) {
    let detail = 'an unprintable error';
    try {
      detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } catch {
      // keep the placeholder: describing the error must not throw either
    }
    return finish(emptyVerdict(format), [
      reason(
        'input.internal',
        `Night Core hit an internal error while verifying (${detail.slice(0, 200)}); the input is refused.`
      )
    ]);
  }
}

async function verifyBundle(
  bytes: Uint8Array,
  keys: readonly TrustedKey[],
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict('bundle');
  const parsed = parseBundle(bytes, { maxModuleBytes: options.maxModuleBytes });
  if (!parsed.ok) return finish(verdict, parsed.reasons);
  const reasons: Reason[] = [];
  verdict.moduleBytes = parsed.module;
  verdict.manifestBytes = parsed.manifestBytes;
  verdict.module = { sha256: await sha256Hex(parsed.module), size: parsed.module.length };
  verdict.manifestSha256 = await sha256Hex(parsed.manifestBytes);

  // 1. Signatures, over PAE(payloadType, manifest bytes as signed).
  await checkSignatures(parsed, keys, options.threshold, verdict, reasons);

  // 2. The manifest, parsed from the exact payload bytes.
  const manifest = parseManifest(parsed.manifestBytes);
  verdict.notes.push(...manifest.notes);
  verdict.unknownManifestKeys = manifest.unknownKeys;
  if (!manifest.ok) {
    reasons.push(...manifest.reasons);
    return finish(verdict, reasons);
  }
  const m = manifest.manifest;
  verdict.manifest = m;
  verdict.name = m.name;

  // 3. The module is the one the manifest names.
  if (m.module.sha256 !== verdict.module.sha256) {
    reasons.push(
      reason(
        'module.digest-mismatch',
        `The module's SHA-256 is ${verdict.module.sha256}, but the signed manifest says ${m.module.sha256}: the module is not the one that was signed.`
      )
    );
  }
  if (m.module.size !== verdict.module.size) {
    reasons.push(
      reason(
        'module.size-mismatch',
        `The module is ${verdict.module.size} bytes, but the signed manifest says ${m.module.size}.`
      )
    );
  }

  // 4. Time.
  if (m.expiresMs !== null && m.expiresMs < options.now) {
    reasons.push(
      reason('manifest.expired', `The bundle expired at ${m.expires}; it is no longer accepted.`)
    );
  }
  if (m.createdMs !== null && m.createdMs > options.now + CREATED_FUTURE_TOLERANCE_MS) {
    verdict.notes.push(
      reason(
        'manifest.created-in-future',
        `The manifest says it was created at ${m.created}, which is in the future (check the clocks).`
      )
    );
  }
  return finish(verdict, reasons);
}

interface UsableKey {
  id: string;
  publicKey: Uint8Array;
  /** Texts a signature's keyid hint may use to name this key (lowercase). */
  names: Set<string>;
}

async function checkSignatures(
  bundle: ParsedBundle,
  keys: readonly TrustedKey[],
  threshold: number,
  verdict: Verdict,
  reasons: Reason[]
): Promise<void> {
  const usable = await usableKeys(keys, verdict.notes);
  const message = pae(bundle.payloadType, bundle.manifestBytes);
  const signers = new Set<string>();
  let invalidFromTrusted = 0;
  bundle.signatures.forEach(({ keyid, sig }, index) => {
    const hint = keyid.toLowerCase();
    const hinted = usable.filter((key) => key.names.has(hint));
    // The hint is unauthenticated: try the hinted keys first, then every other trusted key.
    const ordered = [...hinted, ...usable.filter((key) => !key.names.has(hint))];
    const by = ordered.find((key) => verifyStrict(sig, message, key.publicKey));
    const label = `Signature ${index + 1}${keyid === '' ? '' : ` (key hint ${JSON.stringify(keyid.slice(0, 80))})`}`;
    if (by !== undefined) {
      signers.add(by.id);
    } else if (hinted.length > 0) {
      invalidFromTrusted++;
      verdict.notes.push(
        reason(
          'signature.invalid',
          `${label} names a trusted key but does not verify: the manifest or the signature was changed, or the signature is malformed.`
        )
      );
    } else {
      verdict.notes.push(
        reason('signature.untrusted', `${label} does not verify under any trusted key.`)
      );
    }
  });
  verdict.signers = [...signers];
  if (signers.size === 0) {
    if (invalidFromTrusted > 0) {
      reasons.push(
        reason(
          'signature.invalid',
          'No signature verifies: a signature naming a trusted key fails, so the manifest or the signature was changed.'
        )
      );
    } else {
      const why =
        usable.length === 0 ? 'no usable key is pinned' : 'none of them is by a pinned key';
      reasons.push(
        reason(
          'signature.untrusted',
          `The bundle has ${bundle.signatures.length} signature${bundle.signatures.length === 1 ? '' : 's'}, but ${why}.`
        )
      );
    }
  } else if (signers.size < threshold) {
    reasons.push(thresholdReason(signers.size, threshold));
  }
}

/** The pinned keys that can verify anything, deduplicated by canonical id; notes the rest. */
async function usableKeys(keys: readonly TrustedKey[], notes: Reason[]): Promise<UsableKey[]> {
  const out: UsableKey[] = [];
  for (const key of keys) {
    const problem = publicKeyProblem(key.publicKey);
    const label = typeof key.label === 'string' ? JSON.stringify(key.label.slice(0, 80)) : key.id;
    if (problem !== null) {
      notes.push(reason('key.unusable', `The pinned key ${label} is ignored: ${problem}.`));
      continue;
    }
    const id = await sha256Hex(key.publicKey);
    const existing = out.find((k) => bytesEqual(k.publicKey, key.publicKey));
    const names = existing?.names ?? new Set<string>([id]);
    if (typeof key.id === 'string' && key.id !== '') names.add(key.id.toLowerCase());
    if (existing === undefined) out.push({ id, publicKey: key.publicKey, names });
  }
  return out;
}

function thresholdReason(count: number, threshold: number): Reason {
  return reason(
    'signature.threshold',
    `${count} trusted key${count === 1 ? '' : 's'} signed; the policy requires ${threshold} distinct trusted keys.`
  );
}

async function verifyDetached(
  module: Uint8Array,
  signature: Uint8Array,
  name: string,
  keys: readonly TrustedKey[],
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict(detectSignatureFormat(signature) ?? 'unknown');
  verdict.name = name;
  const tooBig = await takeModule(verdict, module, options);
  if (tooBig !== null) return finish(verdict, [tooBig]);
  const detachedOptions = options.namespace === undefined ? {} : { namespace: options.namespace };
  const result = await verifyDetachedSignature(signature, module, keys, detachedOptions);
  if (result.trustedComment !== undefined) verdict.trustedComment = result.trustedComment;
  if (result.untrustedComment !== undefined) verdict.untrustedComment = result.untrustedComment;
  return finishDetached(verdict, result, options.threshold);
}

async function verifyTenantFiles(
  files: ReadonlyMap<string, Uint8Array>,
  keys: readonly TrustedKey[],
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict('tenant');
  const read = readTenantFiles(files);
  if (!read.ok) return finish(verdict, [read.reason]);
  verdict.name = 'module.wasm';
  const tooBig = await takeModule(verdict, read.layout.module, options);
  if (tooBig !== null) return finish(verdict, [tooBig]);
  const tenantOptions = options.namespace === undefined ? {} : { namespace: options.namespace };
  const result = await verifyTenant(read.layout, keys, tenantOptions);
  verdict.claimedKeyId = result.claimedKeyId;
  return finishDetached(verdict, result, options.threshold);
}

async function verifyUnsigned(
  module: Uint8Array,
  name: string,
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict('unsigned');
  verdict.name = name;
  const tooBig = await takeModule(verdict, module, options);
  if (tooBig !== null) return finish(verdict, [tooBig]);
  return finish(verdict, [
    reason('signature.missing', 'The module is not signed, so no pinned key vouches for it.')
  ]);
}

/** Records the module and its digest, or returns why it is refused for its size. */
async function takeModule(
  verdict: Verdict,
  module: Uint8Array,
  options: Resolved
): Promise<Reason | null> {
  if (module.length > options.maxModuleBytes) {
    const limit = `${options.maxModuleBytes}-byte limit`;
    return reason('module.too-large', `The module is ${module.length} bytes, over the ${limit}.`);
  }
  verdict.moduleBytes = module;
  verdict.module = { sha256: await sha256Hex(module), size: module.length };
  return null;
}

/** Folds a detached (or tenant) verification into the verdict, adding the threshold rule. */
function finishDetached(
  verdict: Verdict,
  result: DetachedVerification,
  threshold: number
): Verdict {
  verdict.format = result.format;
  verdict.notes.push(...result.notes);
  verdict.signers = [...new Set(result.signers)];
  const reasons = [...result.reasons];
  if (!result.ok && reasons.length === 0) {
    reasons.push(reason('signature.invalid', 'The signature does not verify.'));
  }
  if (result.ok && verdict.signers.length < threshold) {
    reasons.push(thresholdReason(verdict.signers.length, threshold));
  }
  return finish(verdict, reasons);
}

// ---------------------------------------------------------------------------------------------

function formatOf(input: VerifyInput): Verdict['format'] {
  const kind = (input as { kind?: unknown } | null)?.kind;
  if (kind === 'bundle') return 'bundle';
  if (kind === 'tenant' || kind === 'tenant-zip') return 'tenant';
  if (kind === 'unsigned') return 'unsigned';
  return 'unknown';
}

/** Checks the caller's arguments (verify is a boundary; TypeScript types are not enough). */
function checkArguments(
  input: VerifyInput,
  keys: readonly TrustedKey[],
  options: VerifyOptions
): Reason | null {
  const bad = (message: string): Reason => reason('input.invalid', message);
  const isBytes = (value: unknown): boolean => value instanceof Uint8Array;
  if (typeof input !== 'object' || input === null) return bad('The input is not an object.');
  switch (input.kind) {
    case 'bundle':
    case 'tenant-zip':
      if (!isBytes(input.bytes)) return bad('The input bytes are not a Uint8Array.');
      break;
    case 'detached':
      if (!isBytes(input.module) || !isBytes(input.signature)) {
        return bad('The module and the signature must be Uint8Arrays.');
      }
      if (typeof input.name !== 'string') return bad('The module name must be a string.');
      break;
    case 'unsigned':
      if (!isBytes(input.module)) return bad('The module must be a Uint8Array.');
      if (typeof input.name !== 'string') return bad('The module name must be a string.');
      break;
    case 'tenant':
      if (!(input.files instanceof Map)) return bad('The tenant files must be a Map.');
      break;
    default:
      return bad(
        `Unknown input kind ${JSON.stringify(String((input as { kind?: unknown }).kind))}.`
      );
  }
  if (
    !Array.isArray(keys) ||
    !keys.every((k) => typeof k === 'object' && k !== null && isBytes(k.publicKey))
  ) {
    return bad('The trusted keys must be an array of {id, publicKey: Uint8Array}.');
  }
  if (typeof options !== 'object' || options === null) return bad('The options are not an object.');
  const { now, threshold, namespace, maxModuleBytes } = options;
  if (now !== undefined && !Number.isFinite(now))
    return bad('The option now must be a finite number of milliseconds.');
  if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 1)) {
    return bad('The option threshold must be a whole number of at least 1.');
  }
  if (namespace !== undefined && typeof namespace !== 'string')
    return bad('The option namespace must be a string.');
  if (
    maxModuleBytes !== undefined &&
    !(Number.isSafeInteger(maxModuleBytes) && maxModuleBytes >= 0)
  ) {
    return bad('The option maxModuleBytes must be a whole number of bytes.');
  }
  return null;
}

function emptyVerdict(format: Verdict['format']): Verdict {
  return {
    ok: false,
    format,
    reasons: [],
    notes: [],
    signers: [],
    module: null,
    moduleBytes: null,
    manifest: null,
    manifestBytes: null,
    manifestSha256: null,
    unknownManifestKeys: [],
    name: null
  };
}

function finish(verdict: Verdict, reasons: Reason[]): Verdict {
  verdict.reasons = reasons;
  verdict.ok = reasons.length === 0;
  return verdict;
}

// ---------------------------------------------------------------------------------------------

export type DetectedInput = 'bundle' | 'wasm' | 'zip' | 'signature' | 'unknown';

const BUNDLE_MARKER = new TextEncoder().encode('"nightcoreBundle"');
const SIGNATURE_EXTENSIONS = ['.minisig', '.sig', '.sshsig'];

/**
 * What some bytes look like, to route them at intake: a wasm module (magic), a zip (local file
 * or empty-archive header), a bundle (a JSON object naming "nightcoreBundle" near the start, or
 * a `.ncb` file), a detached signature (any format formats/detached recognizes, or a signature
 * file extension). A guess only: verify() decides.
 */
export function detectInput(bytes: Uint8Array, name?: string): DetectedInput {
  if (!(bytes instanceof Uint8Array)) return 'unknown';
  const lower = typeof name === 'string' ? name.toLowerCase() : '';
  const startsWith = (...prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
  if (startsWith(0x00, 0x61, 0x73, 0x6d)) return 'wasm';
  if (startsWith(0x50, 0x4b, 0x03, 0x04) || startsWith(0x50, 0x4b, 0x05, 0x06)) return 'zip';
  let first = 0;
  while (first < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[first]!)) first++;
  if (bytes[first] === 0x7b) {
    const head = bytes.subarray(first, first + 64 * 1024);
    if (lower.endsWith('.ncb') || indexOf(head, BUNDLE_MARKER) >= 0) return 'bundle';
  }
  try {
    if (detectSignatureFormat(bytes) !== null) return 'signature';
  } catch {
    // A detector that throws has not recognized the bytes.
  }
  if (SIGNATURE_EXTENSIONS.some((ext) => lower.endsWith(ext))) return 'signature';
  return 'unknown';
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
