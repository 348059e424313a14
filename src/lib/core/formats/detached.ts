/**
 * Detached signatures over a raw .wasm: recognise the format from the signature bytes alone, then
 * verify with that format's rules. minisign and signify files look alike (both start with
 * "untrusted comment: "): minisign has a third line "trusted comment: " (and algorithm ED or Ed),
 * signify has two lines only.
 */
import { utf8 } from '../bytes';
import {
  reason,
  type DetachedOptions,
  type DetachedVerification,
  type TrustedKey
} from '../verdict';
import { looksLikeMinisign, verifyMinisign } from './minisign';
import { looksLikeRawSignature, verifyRaw } from './raw';
import { SSHSIG_BEGIN, verifySshsig } from './sshsig';
import {
  detachedResult,
  inputProblem,
  MAX_SIGNATURE_FILE_BYTES,
  signatureLines,
  UNTRUSTED_COMMENT_PREFIX
} from './common';
import { verifySignify } from './signify';

export type DetachedFormat = 'minisign' | 'sshsig' | 'signify' | 'raw-ed25519';

const SSH_PREFIX = utf8(SSHSIG_BEGIN);
const COMMENT_PREFIX = utf8(UNTRUSTED_COMMENT_PREFIX);

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Which detached signature format these bytes are in, or null when none. Never throws. */
export function detectSignatureFormat(signature: Uint8Array): DetachedFormat | null {
  if (!(signature instanceof Uint8Array) || signature.length === 0) return null;
  if (signature.length > MAX_SIGNATURE_FILE_BYTES) return null;
  if (startsWith(signature, SSH_PREFIX)) return 'sshsig';
  if (startsWith(signature, COMMENT_PREFIX)) {
    const split = signatureLines(signature);
    // Unreadable text still gets the format's own, more specific, parse error.
    if (!split.ok) return 'signify';
    return looksLikeMinisign(split.lines) ? 'minisign' : 'signify';
  }
  return looksLikeRawSignature(signature) ? 'raw-ed25519' : null;
}

/**
 * Verifies a detached signature over message against the pinned keys, in whichever supported
 * format it is. Never throws: every problem is a reason with a stable code.
 */
export async function verifyDetachedSignature(
  signature: Uint8Array,
  message: Uint8Array,
  keys: readonly TrustedKey[],
  options: DetachedOptions = {}
): Promise<DetachedVerification> {
  const problem = inputProblem(signature, message, keys);
  if (problem) return detachedResult('unknown', [], [problem], []);
  if (signature.length > MAX_SIGNATURE_FILE_BYTES) {
    return detachedResult(
      'unknown',
      [],
      [
        reason(
          'signature.too-large',
          `The signature file is ${signature.length} bytes; no supported format is over 64 KiB.`
        )
      ],
      []
    );
  }
  const format = detectSignatureFormat(signature);
  try {
    switch (format) {
      case 'minisign':
        return await verifyMinisign(signature, message, keys);
      case 'sshsig':
        return await verifySshsig(signature, message, keys, options ?? {});
      case 'signify':
        return await verifySignify(signature, message, keys);
      case 'raw-ed25519':
        return await verifyRaw(signature, message, keys);
      case null:
        return detachedResult(
          'unknown',
          [],
          [
            reason(
              'signature.format-unknown',
              'Not a signature format Night Core reads: expected a minisign .minisig, an SSH ' +
                `signature ("${SSHSIG_BEGIN}"), a signify .sig, or a raw 64-byte Ed25519 ` +
                'signature (binary, base64 or hex).'
            )
          ],
          []
        );
    }
  } catch (error) {
    // Not expected (parsers return reasons); a bug must still not become an accepted module.
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return detachedResult(
      format ?? 'unknown',
      [],
      [reason('signature.internal-error', `Verification failed unexpectedly (${detail}).`)],
      []
    );
  }
}
