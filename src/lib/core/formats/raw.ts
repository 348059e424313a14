/**
 * Raw Ed25519 signatures over a module: the 64 signature bytes as they are (binary), or as text in
 * standard padded base64 (88 characters) or hex (128 characters, either case) — the forms the old
 * console's module.sig came in. Text may be surrounded by spaces, tabs and line breaks; binary is
 * exactly 64 bytes. A raw signature does not name its key, so every pinned key is tried.
 */
import { DecodeError, fromBase64, fromHex, fromUtf8 } from '../bytes';
import { sign, verifyStrict } from '../ed25519';
import { reason, type DetachedVerification, type Reason, type TrustedKey } from '../verdict';
import { checkSeed, detachedResult, inputProblem, noKeysPinned } from './common';

export const RAW_SIGNATURE_LENGTH = 64;
/** Longest text form we read: 128 hex digits plus generous surrounding whitespace. */
const MAX_RAW_TEXT_BYTES = 1024;

export type RawEncoding = 'binary' | 'base64' | 'hex';

export type RawParse =
  { ok: true; signature: Uint8Array; encoding: RawEncoding } | { ok: false; reason: Reason };

/** Reads a raw signature in any of its three forms. Never throws. */
export function parseRawSignature(bytes: Uint8Array): RawParse {
  if (!(bytes instanceof Uint8Array)) {
    return { ok: false, reason: reason('input.type', 'The signature is not bytes.') };
  }
  if (bytes.length === RAW_SIGNATURE_LENGTH) {
    return { ok: true, signature: bytes.slice(), encoding: 'binary' };
  }
  if (bytes.length > MAX_RAW_TEXT_BYTES) {
    return {
      ok: false,
      reason: reason(
        'raw.length',
        `The signature is ${bytes.length} bytes; a raw Ed25519 signature is 64 bytes ` +
          '(or 88 characters of base64, or 128 of hex).'
      )
    };
  }
  let text: string;
  try {
    text = fromUtf8(bytes).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  } catch {
    return { ok: false, reason: notRaw(bytes.length) };
  }
  if (/^[0-9a-fA-F]+$/.test(text)) {
    if (text.length !== RAW_SIGNATURE_LENGTH * 2)
      return { ok: false, reason: wrongLength('hex', text.length / 2) };
    return { ok: true, signature: fromHex(text), encoding: 'hex' };
  }
  let decoded: Uint8Array;
  try {
    decoded = fromBase64(text, 'raw signature');
  } catch (error) {
    if (error instanceof DecodeError && /^[A-Za-z0-9+/=]+$/.test(text)) {
      return {
        ok: false,
        reason: reason('raw.encoding', `The signature text is not valid base64: ${error.message}.`)
      };
    }
    return { ok: false, reason: notRaw(bytes.length) };
  }
  if (decoded.length !== RAW_SIGNATURE_LENGTH) {
    return { ok: false, reason: wrongLength('base64', decoded.length) };
  }
  return { ok: true, signature: decoded, encoding: 'base64' };
}

function notRaw(length: number): Reason {
  return reason(
    'raw.encoding',
    `The signature (${length} bytes) is neither 64 binary bytes nor base64 or hex text.`
  );
}

function wrongLength(encoding: 'hex' | 'base64', length: number): Reason {
  return reason(
    'raw.length',
    `The ${encoding} text decodes to ${length} bytes; an Ed25519 signature is 64.`
  );
}

/**
 * Whether bytes look like a raw signature, broken or not (for format detection): 64 bytes, or
 * text that is all hex or all base64 characters of about the right length. Parsing decides.
 */
export function looksLikeRawSignature(bytes: Uint8Array): boolean {
  if (bytes.length === RAW_SIGNATURE_LENGTH) return true;
  if (bytes.length > MAX_RAW_TEXT_BYTES) return false;
  let text: string;
  try {
    text = fromUtf8(bytes).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  } catch {
    return false;
  }
  return /^[0-9a-fA-F]{96,160}$/.test(text) || /^[A-Za-z0-9+/]{60,120}={0,2}$/.test(text);
}

/** Verifies a raw signature under every pinned key; each key that verifies is a signer. */
export async function verifyRaw(
  signature: Uint8Array,
  message: Uint8Array,
  keys: readonly TrustedKey[]
): Promise<DetachedVerification> {
  const problem = inputProblem(signature, message, keys);
  if (problem) return detachedResult('raw-ed25519', [], [problem], []);
  const parsed = parseRawSignature(signature);
  if (!parsed.ok) return detachedResult('raw-ed25519', [], [parsed.reason], []);
  const signers = keys
    .filter((key) => verifyStrict(parsed.signature, message, key.publicKey))
    .map((key) => key.id);
  const notes = [
    reason(
      'raw.keyless',
      `Raw Ed25519 signature (${parsed.encoding}); it does not name its key, so each pinned key was tried.`
    )
  ];
  if (signers.length > 0) return detachedResult('raw-ed25519', signers, [], notes);
  const why =
    keys.length === 0
      ? noKeysPinned()
      : reason(
          'signature.untrusted',
          `None of the ${keys.length} pinned key(s) verifies this raw signature: the module or ` +
            'the signature was changed, or it was made by a key you have not pinned (a raw ' +
            'signature does not name its key, so the two cannot be told apart).'
        );
  return detachedResult('raw-ed25519', [], [why], notes);
}

/** The 64-byte raw Ed25519 signature of message (write it as is, or as base64 / hex text). */
export async function signRaw(message: Uint8Array, seed: Uint8Array): Promise<Uint8Array> {
  if (!(message instanceof Uint8Array)) throw new TypeError('message: expected Uint8Array');
  checkSeed(seed);
  return sign(message, seed);
}
