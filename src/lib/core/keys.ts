/**
 * Public keys in every format Night Core imports, all reduced to the same 32-byte Ed25519 key:
 * raw (hex, base64 or 32 binary bytes), minisign, signify, an OpenSSH `ssh-ed25519` line, an
 * allowed_signers file, and PEM SPKI. The format is detected from the input; a key is accepted only
 * if it is a canonical, non-small-order point (publicKeyProblem). Bad input yields a `key.*`
 * Reason, never a throw. The encoders the CLI's keygen writes with live beside the parsers.
 */
import { DecodeError, fromBase64, fromHex, fromUtf8, toHex } from './bytes';
import { sha256Hex } from './digest';
import { publicKeyProblem } from './ed25519';
import { reason } from './verdict';
import type { Reason, TrustedKey } from './verdict';
import {
  minisignKeyId,
  isCommentLine,
  parseMinisignFile,
  parseMinisignKeyBytes
} from './keys/minisign';
import { looksLikePem, parsePemPublicKey, parseSpkiDer } from './keys/pem';
import {
  contentLines,
  looksLikeSshKeyType,
  parseAllowedSigners,
  parseSshLines,
  sshFingerprint
} from './keys/ssh';
import { assertBytes, at } from './keys/types';
import type { FoundKeys, ParsedKeysResult, ParsedPublicKey } from './keys/types';

export type { KeyFormat, ParsedKeysResult, ParsedPublicKey } from './keys/types';
export { encodeMinisignPublicKey, encodeSignifyPublicKey, minisignKeyId } from './keys/minisign';
export { encodePemSpki, encodePkcs8PrivateKeyPem, parsePkcs8PrivateKeyPem } from './keys/pem';
export type { Pkcs8Result } from './keys/pem';
export { encodeSshPublicKey, sshFingerprint } from './keys/ssh';
export {
  encodeMinisignSecretKey,
  parseMinisignSecretKey,
  MINISIGN_SECRET_KEY_LENGTH
} from './keys/minisign-secret';
export type { MinisignSecretKey, MinisignSecretResult } from './keys/minisign-secret';
export { parsePrivateKey } from './keys/private-key';
export type { PrivateKeyFormat, PrivateKeyResult } from './keys/private-key';

/** The largest key input read (an allowed_signers file with thousands of keys fits easily). */
export const MAX_KEY_INPUT_BYTES = 1024 * 1024;

/**
 * The minisign/signify key number of a key Night Core makes: the first 8 bytes of SHA-256(public
 * key), so the same key always has the same number (the CLI and the browser share this).
 */
export async function publicKeyNumber(publicKey: Uint8Array): Promise<Uint8Array> {
  return fromHex((await canonicalKeyId(publicKey)).slice(0, 16));
}

/** Canonical key id: lowercase hex SHA-256 of the raw 32-byte key. */
export async function canonicalKeyId(publicKey: Uint8Array): Promise<string> {
  return sha256Hex(assertBytes(publicKey, 32, 'publicKey'));
}

/**
 * Parses one or more Ed25519 public keys, detecting the format. A Uint8Array is read as text when
 * it is UTF-8 without control characters; otherwise it must be 32 raw key bytes or a DER SPKI.
 * Several keys come back only from an allowed_signers file or several ssh-ed25519 lines; any bad
 * key or line fails the whole input (the reason names the line).
 */
export async function parsePublicKeys(input: Uint8Array | string): Promise<ParsedKeysResult> {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new TypeError('input must be a string or a Uint8Array');
  }
  if (input.length === 0) return fail('key.empty', 'no key: the input is empty');
  if (input.length > MAX_KEY_INPUT_BYTES) {
    return fail(
      'key.too-large',
      `the key input is ${input.length} bytes; a key file is at most ${MAX_KEY_INPUT_BYTES}`
    );
  }
  const found = typeof input === 'string' ? parseText(input) : parseBinary(input);
  if (!found.ok) return found;
  const keys: ParsedPublicKey[] = [];
  for (const key of found.keys) {
    const problem = publicKeyProblem(key.publicKey);
    if (problem !== null) return fail('key.unusable', at(key.where, problem));
    const publicKey = key.publicKey.slice();
    const parsed: ParsedPublicKey = {
      id: await canonicalKeyId(publicKey),
      publicKey,
      format: key.format,
      nativeId: key.keyNumber ? minisignKeyId(key.keyNumber) : await sshFingerprint(publicKey)
    };
    if (key.keyNumber) parsed.keyNumber = toHex(key.keyNumber);
    if (key.comment !== undefined) parsed.comment = key.comment;
    if (key.principals) parsed.principals = [...key.principals];
    if (key.namespaces) parsed.namespaces = [...key.namespaces];
    if (key.validAfter !== undefined) parsed.validAfter = key.validAfter;
    if (key.validBefore !== undefined) parsed.validBefore = key.validBefore;
    keys.push(parsed);
  }
  return { ok: true, keys };
}

/**
 * The TrustedKey verification needs. `label` is the user's name for the key (never the untrusted
 * comment). For an allowed_signers key the SSHSIG namespace is the line's first namespace, or
 * `namespace` when the line lists it.
 */
export function toTrustedKey(
  parsed: ParsedPublicKey,
  options: { label?: string; namespace?: string } = {}
): TrustedKey {
  if (typeof parsed !== 'object' || parsed === null) throw new TypeError('parsed must be a key');
  const trusted: TrustedKey = {
    id: parsed.id,
    publicKey: assertBytes(parsed.publicKey, 32, 'publicKey').slice()
  };
  if (options.label !== undefined) trusted.label = options.label;
  if (parsed.keyNumber !== undefined) trusted.keyNumber = parsed.keyNumber;
  // The namespace a key signs under is the user's choice (options.namespace). An allowed_signers
  // line's namespaces only restrict it: taking its first namespace would let a signature made for
  // another tool ("git", "file") count as approval to run a module.
  if (options.namespace !== undefined) trusted.sshNamespace = options.namespace;
  if (parsed.format === 'allowed-signers' && parsed.namespaces !== undefined) {
    trusted.sshAllowedNamespaces = [...parsed.namespaces];
  }
  return trusted;
}

function fail(code: `key.${string}`, message: string): { ok: false; reason: Reason } {
  return { ok: false, reason: reason(code, message) };
}

/** Bytes: text if it reads as text, else 32 raw key bytes or a DER SubjectPublicKeyInfo. */
function parseBinary(bytes: Uint8Array): FoundKeys {
  let text: string | null = null;
  try {
    text = fromUtf8(bytes);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
  }
  if (text !== null && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    return parseText(text);
  }
  if (bytes.length === 32) return { ok: true, keys: [{ publicKey: bytes, format: 'raw' }] };
  if (bytes[0] === 0x30) return parseSpkiDer(bytes);
  return fail(
    'key.format-unknown',
    `binary input of ${bytes.length} bytes is neither a raw 32-byte key nor a DER public key`
  );
}

const HEX_TOKEN_RE = /^[0-9a-fA-F]+$/;
const BASE64_TOKEN_RE = /^[A-Za-z0-9+/=_-]+$/;

function parseText(input: string): FoundKeys {
  const text = input
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .trim();
  if (text === '') return fail('key.empty', 'no key: the input is blank');
  if (looksLikePem(text)) return parsePemPublicKey(text);
  const lines = text.split('\n');
  if (isCommentLine(lines[0] ?? '')) return parseMinisignFile(lines);
  const content = contentLines(text);
  const first = content[0]?.text.trim() ?? '';
  if (content.length === 1 && !/\s/.test(first)) return parseToken(first);
  const tokens = content.map((line) => line.text.trim().split(/[ \t]+/));
  if (tokens.every((words) => looksLikeSshKeyType(words[0] ?? ''))) return parseSshLines(text);
  if (tokens.some((words) => words.slice(1).some(looksLikeSshKeyType))) {
    return parseAllowedSigners(text);
  }
  return fail(
    'key.format-unknown',
    'not a public key Night Core recognizes (raw hex or base64, minisign, signify, ssh-ed25519, allowed_signers, PEM)'
  );
}

/** One word: 64 hex digits, base64 of 32 bytes, or minisign's base64 line ("RW…"). */
function parseToken(token: string): FoundKeys {
  if (HEX_TOKEN_RE.test(token)) {
    if (token.length !== 64) {
      return fail(
        'key.length',
        `a hex public key is 64 hex digits (32 bytes), this one is ${token.length}`
      );
    }
    return { ok: true, keys: [{ publicKey: fromHex(token), format: 'raw' }] };
  }
  if (!BASE64_TOKEN_RE.test(token)) {
    return fail('key.format-unknown', 'not a public key Night Core recognizes');
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(token, 'public key');
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return fail('key.base64', `the key is not valid standard base64 (${error.message})`);
  }
  if (bytes.length === 32) return { ok: true, keys: [{ publicKey: bytes, format: 'raw' }] };
  // "E…": minisign's or signify's layout (a key, or a signature or secret key pasted by mistake).
  if (bytes[0] === 0x45 && [42, 74, 104, 158].includes(bytes.length)) {
    return parseMinisignKeyBytes(bytes, 'minisign');
  }
  return fail(
    'key.length',
    `a base64 public key decodes to 32 bytes (raw) or 42 (minisign), this one to ${bytes.length}`
  );
}
