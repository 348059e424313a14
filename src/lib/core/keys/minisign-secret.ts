/**
 * minisign secret key files, unencrypted only (what `minisign -G -W` writes). The file is
 * `untrusted comment: …` then the base64 of 158 bytes (minisign's SeckeyStruct):
 *
 *   offset  size  field
 *   0       2     sig_alg   "Ed"
 *   2       2     kdf_alg   0x00 0x00 (none; "Sc" = scrypt-encrypted, refused here)
 *   4       2     chk_alg   "B2"
 *   6       32    kdf_salt  (unused without a KDF; we write zeros, as minisign -W does)
 *   38      8     opslimit  little-endian u64 (unused; we write 0, as minisign -W does)
 *   46      8     memlimit  little-endian u64 (unused; 0)
 *   54      8     key_num   the key number, the same 8 bytes as in the public key
 *   62      64    secret    Ed25519 seed (32) ‖ public key (32), libsodium's secret key form
 *   126     32    checksum  BLAKE2b-256(sig_alg ‖ key_num ‖ secret)
 *
 * minisign 0.11 computes the checksum only when it encrypts, so its -W files carry 32 zero bytes
 * there and it never checks the field for an unencrypted key. We write the real checksum (older
 * readers and other implementations check it) and accept either it or all zeros; any other value
 * means the file was damaged. The public half must match the seed, or a signature made with the
 * file would not verify under its own public key.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { DecodeError, bytesEqual, concatBytes, fromBase64, toBase64 } from '../bytes';
import { publicKeyFromSecret } from '../ed25519';
import { reason, type Reason } from '../verdict';
import { KEY_NUMBER_LENGTH, minisignKeyId } from './minisign';
import { assertBytes, assertOneLine } from './types';

export const MINISIGN_SECRET_KEY_LENGTH = 158;
const SIG_ALG = Uint8Array.of(0x45, 0x64); // "Ed"
const KDF_NONE = Uint8Array.of(0, 0);
const KDF_SCRYPT = Uint8Array.of(0x53, 0x63); // "Sc"
const CHK_ALG = Uint8Array.of(0x42, 0x32); // "B2"
const SALT_LENGTH = 32;
const CHECKSUM_LENGTH = 32;
const OFFSET_KEY_NUMBER = 54;
const OFFSET_SECRET = OFFSET_KEY_NUMBER + KEY_NUMBER_LENGTH;
const OFFSET_CHECKSUM = OFFSET_SECRET + 64;
const COMMENT_PREFIX = 'untrusted comment:';
/** A key file is two short lines; anything much larger is not one. */
const MAX_TEXT_LENGTH = 4096;

export interface MinisignSecretKey {
  /** The 32-byte Ed25519 seed (what createBundle and the other signers take). */
  seed: Uint8Array;
  publicKey: Uint8Array;
  keyNumber: Uint8Array;
  /** The untrusted comment line's text (after the prefix). */
  comment: string;
}

export type MinisignSecretResult =
  ({ ok: true } & MinisignSecretKey) | { ok: false; reason: Reason };

/** BLAKE2b-256 over sig_alg ‖ key_num ‖ secret (seed ‖ public key), minisign's seckey_chk. */
export function minisignSecretChecksum(keyNumber: Uint8Array, secret: Uint8Array): Uint8Array {
  assertBytes(keyNumber, KEY_NUMBER_LENGTH, 'keyNumber');
  assertBytes(secret, 64, 'secret');
  return blake2b(concatBytes(SIG_ALG, keyNumber, secret), { dkLen: CHECKSUM_LENGTH });
}

/**
 * An unencrypted minisign secret key file for `seed`. The comment defaults to one that says
 * what the file is; minisign ignores it.
 */
export function encodeMinisignSecretKey(
  seed: Uint8Array,
  keyNumber: Uint8Array,
  comment?: string
): string {
  assertBytes(seed, 32, 'seed');
  assertBytes(keyNumber, KEY_NUMBER_LENGTH, 'keyNumber');
  const text =
    comment === undefined
      ? `minisign unencrypted secret key ${minisignKeyId(keyNumber)}`
      : assertOneLine(comment, 'comment');
  const secret = concatBytes(seed, publicKeyFromSecret(seed));
  const body = concatBytes(
    SIG_ALG,
    KDF_NONE,
    CHK_ALG,
    new Uint8Array(SALT_LENGTH),
    new Uint8Array(8),
    new Uint8Array(8),
    keyNumber,
    secret,
    minisignSecretChecksum(keyNumber, secret)
  );
  secret.fill(0);
  return `${COMMENT_PREFIX} ${text}\n${toBase64(body)}\n`;
}

/** Whether text looks like a minisign secret key file (comment line, then a key line). */
export function looksLikeMinisignSecretKey(text: string): boolean {
  return typeof text === 'string' && text.trimStart().startsWith(COMMENT_PREFIX);
}

/** Reads an unencrypted minisign secret key file; every refusal is a `key.*` Reason. */
export function parseMinisignSecretKey(text: string): MinisignSecretResult {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.length > MAX_TEXT_LENGTH) {
    return fail('key.too-large', 'a minisign secret key file is two short lines; this is larger');
  }
  const lines = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .trim()
    .split('\n')
    .map((line) => line.trim());
  const [commentLine = '', keyLine = '', ...rest] = lines;
  if (!commentLine.startsWith(COMMENT_PREFIX)) {
    return fail('key.format-unknown', `a minisign secret key starts with "${COMMENT_PREFIX}"`);
  }
  if (keyLine === '') return fail('key.length', 'the minisign key file has no key line');
  if (rest.some((line) => line !== '')) {
    return fail('key.trailing-data', 'the minisign key file has more after its key line');
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(keyLine, 'minisign secret key');
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return fail('key.base64', `the minisign key line is not valid base64 (${error.message})`);
  }
  if (bytes.length === 42) {
    return fail('key.public-key', 'this is a minisign public key: signing needs the secret key');
  }
  if (bytes.length !== MINISIGN_SECRET_KEY_LENGTH) {
    return fail(
      'key.length',
      `a minisign secret key decodes to ${MINISIGN_SECRET_KEY_LENGTH} bytes, this one to ${bytes.length}`
    );
  }
  try {
    return readSecretBytes(bytes, commentLine.slice(COMMENT_PREFIX.length).trim());
  } finally {
    bytes.fill(0);
  }
}

function readSecretBytes(bytes: Uint8Array, comment: string): MinisignSecretResult {
  if (!bytesEqual(bytes.subarray(0, 2), SIG_ALG)) {
    return fail('key.unsupported-type', 'the minisign secret key is not an Ed25519 ("Ed") key');
  }
  const kdf = bytes.subarray(2, 4);
  if (bytesEqual(kdf, KDF_SCRYPT)) {
    return fail(
      'key.encrypted',
      'the minisign secret key is encrypted with a password: Night Core reads unencrypted keys only (make one with minisign -G -W, or use a PKCS#8 PEM key)'
    );
  }
  if (!bytesEqual(kdf, KDF_NONE)) {
    return fail('key.unsupported-type', 'the minisign secret key names an unknown key derivation');
  }
  if (!bytesEqual(bytes.subarray(4, 6), CHK_ALG)) {
    return fail(
      'key.unsupported-type',
      'the minisign secret key names an unknown checksum ("B2" expected)'
    );
  }
  const keyNumber = bytes.slice(OFFSET_KEY_NUMBER, OFFSET_SECRET);
  const secret = bytes.subarray(OFFSET_SECRET, OFFSET_CHECKSUM);
  const checksum = bytes.subarray(OFFSET_CHECKSUM);
  const expected = minisignSecretChecksum(keyNumber, secret);
  if (!bytesEqual(checksum, expected) && !checksum.every((b) => b === 0)) {
    return fail(
      'key.checksum',
      'the minisign secret key checksum does not match: the file is damaged'
    );
  }
  const seed = secret.slice(0, 32);
  const publicKey = secret.slice(32);
  if (!bytesEqual(publicKeyFromSecret(seed), publicKey)) {
    seed.fill(0);
    return fail(
      'key.mismatch',
      'the minisign secret key holds a public key that does not belong to its seed'
    );
  }
  return { ok: true, seed, publicKey, keyNumber, comment };
}

function fail(code: `key.${string}`, message: string): { ok: false; reason: Reason } {
  return { ok: false, reason: reason(code, message) };
}
