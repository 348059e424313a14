/**
 * The audit log's hashing primitives, shared by record.ts, chain.ts, merkle.ts and the export:
 * SHA-256 of a canonical record text without per-record allocations (one reused SHA-256 state,
 * one growing UTF-8 buffer), lowercase hex in and out, and the two shape checks every record field
 * and chain position goes through (isHashHex, isCount).
 */
import { sha256 } from '@noble/hashes/sha2.js';

interface EncodeIntoEncoder {
  encode(input: string): Uint8Array;
  encodeInto(input: string, destination: Uint8Array): { read: number; written: number };
}

// encodeInto is in Node 20 and every supported browser; types/core-platform.d.ts declares
// only encode, hence the cast.
const utf8Encoder = new TextEncoder() as unknown as EncodeIntoEncoder;
const pristine = sha256.create();
const hasher = sha256.create();
const DIGEST = new Uint8Array(32);
let scratch = new Uint8Array(4096);

function digestText(text: string, out: Uint8Array): Uint8Array {
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = utf8Encoder.encodeInto(text, scratch);
  pristine._cloneInto(hasher);
  hasher.update(scratch.subarray(0, written));
  hasher.digestInto(out);
  return out;
}

/** The UTF-8 of a string (the encoder the digests use). */
export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** SHA-256 of the UTF-8 of a canonical record text (a new 32-byte array). */
export function digestRecordText(text: string): Uint8Array {
  return digestText(text, new Uint8Array(32));
}

/** Lowercase hex SHA-256 of the UTF-8 of a canonical record text. */
export function hashRecordText(text: string): string {
  return hexOf(digestText(text, DIGEST));
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex, by table (toHex in bytes.ts is the general one; this is the hot path). */
export function hexOf(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_BYTE[bytes[i]!]!;
  return out;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

/** The 32 bytes of a 64-digit lowercase hex hash (TypeError for anything else). */
export function hashFromHex(hex: string): Uint8Array {
  if (!isHashHex(hex)) throw new TypeError('not a 64-digit lowercase hex hash');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)]!;
  }
  return out;
}

/** 64 lowercase hex digits. */
export function isHashHex(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** A non-negative safe integer other than -0. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && !Object.is(value, -0);
}
