/**
 * Private keys a user hands the bundle tool: PKCS#8 PEM (nightcore keygen, openssl genpkey) or an
 * unencrypted minisign secret key file. The format is detected from the text; every refusal is a
 * `key.*` Reason that says what was given and what is wanted, never a throw.
 */
import { DecodeError, fromBase64 } from '../bytes';
import { publicKeyFromSecret } from '../ed25519';
import { reason, type Reason } from '../verdict';
import { looksLikeMinisignSecretKey, parseMinisignSecretKey } from './minisign-secret';
import { looksLikePem, parsePkcs8PrivateKeyPem } from './pem';

export type PrivateKeyFormat = 'pkcs8' | 'minisign';

export type PrivateKeyResult =
  | { ok: true; seed: Uint8Array; publicKey: Uint8Array; format: PrivateKeyFormat }
  | { ok: false; reason: Reason };

/** Longer than any key file: a pasted module or bundle is refused before it is scanned. */
const MAX_PRIVATE_KEY_TEXT = 16 * 1024;

export function parsePrivateKey(text: string): PrivateKeyResult {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const clean = text.replace(/^\uFEFF/, '').trim();
  if (clean === '') return fail('key.empty', 'no private key: paste one or choose a key file');
  if (clean.length > MAX_PRIVATE_KEY_TEXT) {
    return fail('key.too-large', 'this is far larger than a private key file');
  }
  if (looksLikePem(clean)) {
    const parsed = parsePkcs8PrivateKeyPem(clean);
    if (!parsed.ok) return parsed;
    return {
      ok: true,
      seed: parsed.seed,
      publicKey: publicKeyFromSecret(parsed.seed),
      format: 'pkcs8'
    };
  }
  if (looksLikeMinisignSecretKey(clean)) return fromMinisign(clean);
  // A lone base64 line: minisign's key line without its comment, or a raw key of the wrong size.
  if (/^[A-Za-z0-9+/]+=*$/.test(clean)) {
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(clean, 'private key');
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      return fail('key.base64', `the key is not valid base64 (${error.message})`);
    }
    const length = bytes.length;
    bytes.fill(0);
    if (length === 158) return fromMinisign(`untrusted comment:\n${clean}`);
    return fail(
      'key.length',
      `a bare base64 key of ${length} bytes is not a private key Night Core reads: use a PKCS#8 PEM file or a minisign secret key file`
    );
  }
  return fail(
    'key.format-unknown',
    'not a private key Night Core reads: expected "-----BEGIN PRIVATE KEY-----" (PKCS#8 PEM) or an unencrypted minisign secret key'
  );
}

function fromMinisign(text: string): PrivateKeyResult {
  const parsed = parseMinisignSecretKey(text);
  if (!parsed.ok) return parsed;
  return { ok: true, seed: parsed.seed, publicKey: parsed.publicKey, format: 'minisign' };
}

function fail(code: `key.${string}`, message: string): { ok: false; reason: Reason } {
  return { ok: false, reason: reason(code, message) };
}
