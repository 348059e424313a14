/**
 * Byte helpers shared by every parser in core. Decoders are strict: they reject anything that is
 * not the canonical text for some bytes, and they report what was wrong instead of guessing.
 */

/** A decoding error: malformed input, reported as a value (parsers turn it into a reason). */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Decodes hex (either case, even length, nothing else). Throws DecodeError. */
export function fromHex(text: string, what = 'hex'): Uint8Array {
  if (!HEX_RE.test(text))
    throw new DecodeError(`${what}: not hex (odd length or a non-hex character)`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

interface Base64Host {
  Buffer?: {
    from(text: string, encoding: 'base64'): Uint8Array;
    from(bytes: Uint8Array): { toString(encoding: 'base64'): string };
  };
}
interface Base64Native {
  fromBase64?: (
    text: string,
    options?: { alphabet?: 'base64' | 'base64url'; lastChunkHandling?: 'strict' }
  ) => Uint8Array;
}
interface Base64NativeProto {
  setFromBase64?: (
    this: Uint8Array,
    text: string,
    options?: { alphabet?: 'base64' | 'base64url'; lastChunkHandling?: 'strict' }
  ) => { read: number; written: number };
  toBase64?: (
    this: Uint8Array,
    options?: { alphabet?: 'base64' | 'base64url'; omitPadding?: boolean }
  ) => string;
}

// With the length a multiple of 4, this is exactly "quads, then an optional padded quad". The
// grouped form, /^(?:[…]{4})*…$/, overflows V8's regex stack on text over about 6 MB (a 4 MiB module).
const STD_B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const nativeFromBase64 = (Uint8Array as unknown as Base64Native).fromBase64;
const nativeToBase64 = (Uint8Array.prototype as unknown as Base64NativeProto).toBase64;
const nativeSetFromBase64 = (Uint8Array.prototype as unknown as Base64NativeProto).setFromBase64;
const nodeBuffer = (globalThis as unknown as Base64Host).Buffer;

/**
 * Decodes standard, padded base64 (RFC 4648 section 4) strictly: no whitespace, no URL alphabet,
 * correct padding, and zero bits where padding leaves bits unused (so each byte string has exactly
 * one accepted text). Uses the native decoder where there is one (fast for 10 MiB modules).
 */
export function fromBase64(text: string, what = 'base64'): Uint8Array {
  const fast = fromBase64Native(text);
  if (fast !== null) return fast;
  if (text.length % 4 !== 0 || !STD_B64_RE.test(text)) {
    throw new DecodeError(`${what}: not standard padded base64`);
  }
  let bytes: Uint8Array;
  if (nativeFromBase64) {
    try {
      bytes = nativeFromBase64(text, { alphabet: 'base64', lastChunkHandling: 'strict' });
    } catch {
      throw new DecodeError(`${what}: non-canonical base64 (unused bits are not zero)`);
    }
    return bytes;
  }
  if (nodeBuffer) {
    bytes = new Uint8Array(nodeBuffer.from(text, 'base64'));
  } else {
    bytes = decodeBase64Slow(text);
  }
  // Buffer ignores non-zero unused bits: re-encode to insist on the one canonical text.
  if (toBase64(bytes) !== text) {
    throw new DecodeError(`${what}: non-canonical base64 (unused bits are not zero)`);
  }
  return bytes;
}

/**
 * The fast path for canonical input (Chromium: a 10 MiB module in about half the time of
 * fromBase64 plus the regex): decode straight into an array of the exact size the text implies.
 * The native decoder checks the alphabet, the padding and the unused bits (strict); it skips ASCII
 * whitespace, but then it writes fewer bytes than the length implies (whitespace takes at least 4
 * of the characters counted), so `written` being exactly that size rules whitespace out. Null
 * when there is no native decoder or the text is not canonical: the slow path then says why.
 */
function fromBase64Native(text: string): Uint8Array | null {
  if (!nativeSetFromBase64 || text.length % 4 !== 0) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const size = (text.length / 4) * 3 - pad;
  if (size < 0) return null;
  const out = new Uint8Array(size);
  try {
    const { read, written } = nativeSetFromBase64.call(out, text, {
      alphabet: 'base64',
      lastChunkHandling: 'strict'
    });
    return read === text.length && written === size ? out : null;
  } catch {
    return null;
  }
}

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes unpadded base64url (RFC 4648 section 5, as links carry it) strictly: only the URL
 * alphabet, no "=" padding, no whitespace, no length that cannot come from whole bytes, and zero
 * bits where the last character leaves bits unused (one accepted text per byte string).
 */
export function fromBase64Url(text: string, what = 'base64url'): Uint8Array {
  if (text.includes('=')) throw new DecodeError(`${what}: padded ("=") base64url is not accepted`);
  if (!B64URL_RE.test(text)) {
    throw new DecodeError(`${what}: not base64url (only A-Z, a-z, 0-9, "-" and "_")`);
  }
  if (text.length % 4 === 1) throw new DecodeError(`${what}: truncated base64url`);
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = standard + '='.repeat((4 - (standard.length % 4)) % 4);
  return fromBase64(padded, what);
}

/** Unpadded base64url of `bytes` (the form fromBase64Url reads). */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function toBase64(bytes: Uint8Array): string {
  if (nativeToBase64) return nativeToBase64.call(bytes);
  if (nodeBuffer) return nodeBuffer.from(bytes).toString('base64');
  return encodeBase64Slow(bytes);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeBase64Slow(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of clean) {
    value = (value << 6) | ALPHABET.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function encodeBase64Slow(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a = 0, b = 0, c = 0] = [bytes[i], bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | (b << 8) | c;
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63]! : '=';
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, rejecting invalid sequences (no silent U+FFFD). Throws DecodeError. */
export function fromUtf8(bytes: Uint8Array, what = 'text'): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new DecodeError(`${what}: not valid UTF-8`);
  }
}

/** A new array (ArrayBuffer-backed, so it can go straight to WebAssembly.compile). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Constant-time for equal lengths (digests are public, but the habit costs nothing). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
