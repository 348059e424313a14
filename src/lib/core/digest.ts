/**
 * Hashes. SHA-256 and SHA-512 through WebCrypto (native speed in browsers and Node); BLAKE2b-512
 * through @noble/hashes (WebCrypto has none), streamed so big modules are not copied.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { toHex } from './bytes';

// WebCrypto's types want ArrayBuffer-backed views; our byte arrays never sit on shared memory.
type Digestible = Uint8Array<ArrayBuffer>;

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Digestible));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}

export async function sha512(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-512', bytes as Digestible));
}

const BLAKE2B_CHUNK = 1 << 20;

/** BLAKE2b-512 (minisign's prehash), fed in 1 MiB chunks. */
export function blake2b512(bytes: Uint8Array): Uint8Array {
  const hash = blake2b.create({ dkLen: 64 });
  for (let offset = 0; offset < bytes.length; offset += BLAKE2B_CHUNK) {
    hash.update(bytes.subarray(offset, offset + BLAKE2B_CHUNK));
  }
  return hash.digest();
}
