/**
 * minisign and signify public keys. Both are `untrusted comment: …` then the base64 of 42 bytes:
 * the algorithm "Ed", an 8-byte key number (random, names the key in signatures) and the 32-byte
 * Ed25519 key. minisign writes `minisign public key <ID>`; signify writes `<comment> public key`.
 * minisign's <ID> is the key number read as a little-endian u64, uppercase hex, unpadded.
 */
import { DecodeError, concatBytes, fromBase64, toBase64 } from '../bytes';
import { reason } from '../verdict';
import { assertBytes, assertOneLine, quote } from './types';
import type { FoundKey, FoundKeys, KeyFormat } from './types';

export const KEY_NUMBER_LENGTH = 8;
/** "Ed" + key number + key. */
export const MINISIGN_PUBLIC_KEY_LENGTH = 2 + KEY_NUMBER_LENGTH + 32;
/** "Ed" + key number + signature: what a minisign or signify signature line decodes to. */
const SIGNATURE_LENGTH = 2 + KEY_NUMBER_LENGTH + 64;
/** What minisign's (158) and signify's (104) secret key lines decode to. */
const SECRET_KEY_LENGTHS = [158, 104];
const COMMENT_PREFIX = 'untrusted comment:';

/** The key number as minisign prints it: `%PRIX64` of the little-endian u64 (no leading zeros). */
export function minisignKeyId(keyNumber: Uint8Array): string {
  assertBytes(keyNumber, KEY_NUMBER_LENGTH, 'keyNumber');
  let hex = '';
  for (let i = keyNumber.length - 1; i >= 0; i--) {
    hex += keyNumber[i]!.toString(16).padStart(2, '0');
  }
  return hex.replace(/^0+(?=.)/, '').toUpperCase();
}

export function isCommentLine(line: string): boolean {
  return line.startsWith(COMMENT_PREFIX);
}

/** Decodes the base64 key line of a minisign or signify key (strict, standard, padded). */
export function parseMinisignKeyLine(line: string, format: KeyFormat, comment?: string): FoundKeys {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(line, `${format} public key`);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return {
      ok: false,
      reason: reason(
        'key.base64',
        `the ${format} public key is not valid base64 (${error.message})`
      )
    };
  }
  return parseMinisignKeyBytes(bytes, format, comment);
}

export function parseMinisignKeyBytes(
  bytes: Uint8Array,
  format: KeyFormat,
  comment?: string
): FoundKeys {
  if (SECRET_KEY_LENGTHS.includes(bytes.length)) {
    return {
      ok: false,
      reason: reason(
        'key.private-key',
        'this is a minisign or signify secret key: import the public key (.pub) instead, and keep this file private'
      )
    };
  }
  if (bytes.length === SIGNATURE_LENGTH) {
    return {
      ok: false,
      reason: reason(
        'key.not-a-key',
        `this is the size of a ${format} signature, not a public key (import the .pub file)`
      )
    };
  }
  if (bytes.length !== MINISIGN_PUBLIC_KEY_LENGTH) {
    return {
      ok: false,
      reason: reason(
        'key.length',
        `a ${format} public key decodes to ${MINISIGN_PUBLIC_KEY_LENGTH} bytes, this one to ${bytes.length}`
      )
    };
  }
  const algorithm = String.fromCharCode(bytes[0]!, bytes[1]!);
  if (algorithm !== 'Ed') {
    return {
      ok: false,
      reason: reason(
        'key.unsupported-type',
        `the ${format} public key names the algorithm ${quote(algorithm)}, not "Ed" (Ed25519)`
      )
    };
  }
  const key: FoundKey = {
    publicKey: bytes.subarray(2 + KEY_NUMBER_LENGTH),
    format,
    keyNumber: bytes.subarray(2, 2 + KEY_NUMBER_LENGTH)
  };
  if (comment) key.comment = comment;
  return { ok: true, keys: [key] };
}

/**
 * A whole minisign or signify public key file: the comment line, the key line, nothing else. The
 * comment decides the name: `<x> public key` not starting with "minisign" is signify's.
 */
export function parseMinisignFile(lines: string[]): FoundKeys {
  const [commentLine = '', keyLine, ...rest] = lines.map((line) => line.trim());
  const comment = commentLine.slice(COMMENT_PREFIX.length).trim();
  const format: KeyFormat =
    !/^minisign\b/i.test(comment) && /\bpublic key$/i.test(comment) ? 'signify' : 'minisign';
  if (keyLine === undefined || keyLine === '') {
    return {
      ok: false,
      reason: reason('key.length', `the ${format} key file has a comment line but no key line`)
    };
  }
  const found = parseMinisignKeyLine(keyLine, format, comment);
  if (found.ok && rest.some((line) => line !== '')) {
    return {
      ok: false,
      reason: reason(
        'key.trailing-data',
        `the ${format} key file has more after its key line (a second key?)`
      )
    };
  }
  return found;
}

function encodeKeyFile(publicKey: Uint8Array, keyNumber: Uint8Array, comment: string): string {
  assertBytes(publicKey, 32, 'publicKey');
  assertBytes(keyNumber, KEY_NUMBER_LENGTH, 'keyNumber');
  const body = concatBytes(new Uint8Array([0x45, 0x64]), keyNumber, publicKey);
  return `${COMMENT_PREFIX} ${comment}\n${toBase64(body)}\n`;
}

/**
 * A minisign public key file, as `minisign -G` writes it. The comment defaults to minisign's own,
 * `minisign public key <ID>`.
 */
export function encodeMinisignPublicKey(
  publicKey: Uint8Array,
  keyNumber: Uint8Array,
  comment?: string
): string {
  const text =
    comment === undefined
      ? `minisign public key ${minisignKeyId(keyNumber)}`
      : assertOneLine(comment, 'comment');
  return encodeKeyFile(publicKey, keyNumber, text);
}

/**
 * A signify public key file, as `signify -G` writes it. Like signify's `-c`, `comment` is the part
 * before " public key" (default "signify"), so the file reads back as signify.
 */
export function encodeSignifyPublicKey(
  publicKey: Uint8Array,
  keyNumber: Uint8Array,
  comment = 'signify'
): string {
  return encodeKeyFile(publicKey, keyNumber, `${assertOneLine(comment, 'comment')} public key`);
}
