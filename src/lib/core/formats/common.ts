/**
 * What the detached formats share, minisign and signify above all: the "untrusted comment: "
 * line, the 8-byte key number and picking pinned keys by it, checks on a signer's arguments, and
 * the result every detached verifier returns.
 *
 * Text rules of signature files (signatureLines; minisign, signify and the SSHSIG armor): the file
 * is strict UTF-8; lines end in LF or CRLF; the final line ending is optional; nothing else is
 * allowed (no blank lines, no trailing lines, no spaces around base64, no byte-order mark). The
 * tools themselves ignore what follows the lines they read; we refuse it, so one signature file
 * has one meaning.
 */
import { DecodeError, fromBase64, fromHex, fromUtf8, toHex, utf8 } from '../bytes';
import { sha256 } from '../digest';
import { escapeHidden } from '../hidden-text';
import { SECRET_KEY_LENGTH } from '../ed25519';
import {
  reason,
  type DetachedVerification,
  type InputFormat,
  type Reason,
  type TrustedKey
} from '../verdict';

export const UNTRUSTED_COMMENT_PREFIX = 'untrusted comment: ';
export const KEY_NUMBER_LENGTH = 8;
/** No signature file we read is anywhere near this; bigger input is refused before parsing. */
export const MAX_SIGNATURE_FILE_BYTES = 64 * 1024;

export type LinesResult = { ok: true; lines: string[] } | { ok: false; problem: string };

/** Splits a signature file into lines under the rules in the header comment. */
export function signatureLines(bytes: Uint8Array): LinesResult {
  if (bytes.length > MAX_SIGNATURE_FILE_BYTES) {
    return { ok: false, problem: `it is ${bytes.length} bytes, over the 64 KiB limit` };
  }
  let text: string;
  try {
    text = fromUtf8(bytes, 'signature file');
  } catch {
    return { ok: false, problem: 'it is not UTF-8 text' };
  }
  if (text.endsWith('\n')) text = text.slice(0, -1);
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.some((line) => line === '')) {
    return { ok: false, problem: 'it has an empty line' };
  }
  return { ok: true, lines };
}

/** Decodes one strict base64 line of an exact length, or says what is wrong with it. */
export function base64Field(
  line: string,
  length: number,
  what: string
): { ok: true; bytes: Uint8Array } | { ok: false; code: 'base64' | 'length'; problem: string } {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(line, what);
  } catch (error) {
    const detail = error instanceof DecodeError ? error.message : `${what}: not base64`;
    return { ok: false, code: 'base64', problem: `${detail} (truncated or altered?)` };
  }
  if (bytes.length !== length) {
    return {
      ok: false,
      code: 'length',
      problem: `${what} decodes to ${bytes.length} bytes, expected ${length}`
    };
  }
  return { ok: true, bytes };
}

/** minisign prints a key number as the 8 bytes read little-endian, in uppercase hex. */
export function displayKeyId(keyNumber: Uint8Array): string {
  return toHex(keyNumber.slice().reverse()).toUpperCase();
}

/** Night Core's own convention: the key number is the first 8 bytes of SHA-256(public key). */
export async function keyNumberForPublicKey(publicKey: Uint8Array): Promise<Uint8Array> {
  return (await sha256(publicKey)).slice(0, KEY_NUMBER_LENGTH);
}

/** A key number given as 8 bytes or as 16 hex digits (file order). Throws on a bad one. */
export function keyNumberBytes(keyNumber: Uint8Array | string): Uint8Array {
  const bytes = typeof keyNumber === 'string' ? fromHex(keyNumber, 'keyNumber') : keyNumber;
  if (!(bytes instanceof Uint8Array)) throw new TypeError('keyNumber: expected Uint8Array or hex');
  if (bytes.length !== KEY_NUMBER_LENGTH) {
    throw new RangeError(`keyNumber: expected 8 bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Throws unless a comment can sit on one line of a signature file. */
export function checkComment(comment: string, maxBytes: number, what: string): string {
  if (typeof comment !== 'string') throw new TypeError(`${what}: expected a string`);
  if (/[\r\n\0]/.test(comment)) throw new RangeError(`${what}: must be one line (no CR, LF, NUL)`);
  if (utf8(comment).length > maxBytes) {
    throw new RangeError(`${what}: longer than ${maxBytes} bytes`);
  }
  return comment;
}

export function checkSeed(seed: Uint8Array): Uint8Array {
  if (!(seed instanceof Uint8Array)) throw new TypeError('seed: expected Uint8Array');
  if (seed.length !== SECRET_KEY_LENGTH) {
    throw new RangeError(`seed: expected ${SECRET_KEY_LENGTH} bytes, got ${seed.length}`);
  }
  return seed;
}

/** One attempt with one key: verified, did not verify, or verified but failed another check. */
export type Attempt = true | false | Reason;

export interface KeyNumberOutcome {
  signers: string[];
  reasons: Reason[];
  notes: Reason[];
}

const describeKey = (key: TrustedKey) =>
  key.label ? `"${key.label}" (${key.id.slice(0, 16)}…)` : `${key.id.slice(0, 16)}…`;

/**
 * Tries the pinned keys a signature naming `keyNumber` may come from: first the keys recorded with
 * that number; when none verifies, the keys with no recorded number (imported as raw, SSH or PEM).
 * Keys recorded with another number are never tried.
 */
export function verifyByKeyNumber(
  area: 'minisign' | 'signify',
  keyNumber: Uint8Array,
  keys: readonly TrustedKey[],
  attempt: (key: TrustedKey) => Attempt
): KeyNumberOutcome {
  const wanted = toHex(keyNumber);
  const shown = area === 'minisign' ? `key ID ${displayKeyId(keyNumber)}` : `key number ${wanted}`;
  const named = keys.filter((key) => key.keyNumber?.toLowerCase() === wanted);
  const unnumbered = keys.filter((key) => key.keyNumber === undefined);
  const numbered = keys.length - unnumbered.length;
  const signers: string[] = [];
  const specific: Reason[] = [];
  const notes: Reason[] = [];
  const run = (key: TrustedKey) => {
    const result = attempt(key);
    if (result === true) signers.push(key.id);
    else if (result !== false) specific.push(result);
    return result === true;
  };
  for (const key of named) run(key);
  if (signers.length === 0) {
    for (const key of unnumbered) {
      if (run(key)) {
        notes.push(
          reason(
            `${area}.key-number-unknown`,
            `Pinned key ${describeKey(key)} has no recorded key number; the signature names ` +
              `${shown}. It was accepted because that key verifies it.`
          )
        );
      }
    }
  }
  if (signers.length > 0) return { signers, reasons: [], notes };
  if (specific.length > 0) return { signers, reasons: specific, notes };
  if (keys.length === 0) {
    return { signers, reasons: [noKeysPinned()], notes };
  }
  if (named.length > 0) {
    const reasonText =
      `The signature names ${shown}, pinned as ${named.map(describeKey).join(', ')}, but it ` +
      'does not verify: the module or the signature was changed after signing.';
    return { signers, reasons: [reason('signature.invalid', reasonText)], notes };
  }
  if (numbered > 0) {
    const others = unnumbered.length
      ? `, and none of the ${unnumbered.length} pinned key(s) without a key number verifies it`
      : '';
    return {
      signers,
      reasons: [
        reason(
          `${area}.key-number-mismatch`,
          `The signature names ${shown}; no pinned key has that key number${others}. ` +
            'It was signed by a key you have not pinned (or the signature file was altered).'
        )
      ],
      notes
    };
  }
  return {
    signers,
    reasons: [
      reason(
        'signature.untrusted',
        `No pinned key verifies this signature (it names ${shown}): it was made by a key you ` +
          'have not pinned, or the module or the signature was changed.'
      )
    ],
    notes
  };
}

export function noKeysPinned(): Reason {
  return reason('signature.untrusted', 'No keys are pinned, so no signature can be trusted yet.');
}

/** Builds the result every detached verifier returns. ok needs a signer and no reason. */
export function detachedResult(
  format: InputFormat,
  signers: string[],
  reasons: Reason[],
  notes: Reason[],
  comments: { trustedComment?: string; untrustedComment?: string } = {}
): DetachedVerification {
  const result: DetachedVerification = {
    format,
    ok: reasons.length === 0 && signers.length > 0,
    signers: [...new Set(signers)],
    reasons,
    notes
  };
  if (comments.trustedComment !== undefined) result.trustedComment = comments.trustedComment;
  if (comments.untrustedComment !== undefined) result.untrustedComment = comments.untrustedComment;
  return result;
}

/** Rejects non-byte input and non-array key lists as a reason (verifiers never throw). */
export function inputProblem(signature: unknown, message: unknown, keys: unknown): Reason | null {
  if (!(signature instanceof Uint8Array))
    return reason('input.type', 'The signature is not bytes.');
  if (!(message instanceof Uint8Array)) return reason('input.type', 'The module is not bytes.');
  if (!Array.isArray(keys)) return reason('input.type', 'The pinned keys are not a list.');
  return null;
}

/** The note quotes the comment with its hidden characters escaped (`\u202e`), never live. */
export function untrustedCommentNote(area: 'minisign' | 'signify', comment: string): Reason {
  return reason(
    `${area}.untrusted-comment`,
    `Untrusted comment (covered by no signature; anyone could have written it): ${escapeHidden(JSON.stringify(comment))}`
  );
}
