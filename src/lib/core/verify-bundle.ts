/**
 * The bundle branch of verify() (docs/bundle-format.md, "Verification, in order"): signatures over
 * PAE(payloadType, manifest bytes) by the pinned keys, then the manifest, the module it names,
 * and its times. The signature's key hint is a hint only: every pinned key is tried.
 */
import { bytesEqual } from './bytes';
import { pae, parseBundle, type ParsedBundle } from './bundle';
import { sha256Hex } from './digest';
import { publicKeyProblem, verifyStrict } from './ed25519';
import { parseManifest } from './manifest';
import { reason, type Reason, type TrustedKey } from './verdict';
import type { Resolved, Verdict } from './verify';

/** How far in the future a manifest's `created` may be before it is noted (clock skew). */
export const CREATED_FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * Verifies a bundle: fills in `verdict` (a fresh one of format "bundle") and returns the reasons
 * it fails, empty when it passes. Never throws on bad input.
 */
export async function verifyBundle(
  bytes: Uint8Array,
  keys: readonly TrustedKey[],
  options: Resolved,
  verdict: Verdict
): Promise<Reason[]> {
  const parsed = parseBundle(bytes, { maxModuleBytes: options.maxModuleBytes });
  if (!parsed.ok) return parsed.reasons;
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
    return reasons;
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
  if (m.expiresMs !== null && m.expiresMs <= options.now) {
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
  return reasons;
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

/** The reason a verification has too few distinct trusted signers (bundles and detached). */
export function thresholdReason(count: number, threshold: number): Reason {
  return reason(
    'signature.threshold',
    `${count} trusted key${count === 1 ? '' : 's'} signed; the policy requires ${threshold} distinct trusted keys.`
  );
}
