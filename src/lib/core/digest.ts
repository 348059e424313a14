/**
 * Hashes. SHA-256 and SHA-512 through WebCrypto (native speed in browsers and Node); BLAKE2b-512
 * (WebCrypto has none) in a small WebAssembly module, with @noble/hashes as the fallback.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { BLAKE2B_WASM } from './blake2b/blake2b-wasm';
import { fromBase64, toHex } from './bytes';

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

interface Blake2bWasm {
  memory: { buffer: ArrayBuffer };
  input_ptr(): number;
  out_ptr(): number;
  chunk_size(): number;
  init(): void;
  update(length: number): void;
  digest(): void;
}

// undefined: not compiled (yet); null: WebAssembly unavailable (or refused by a CSP), use JS.
let wasm: Blake2bWasm | null | undefined;
let compiling: Promise<void> | null = null;

/**
 * Compiles the WebAssembly BLAKE2b (blake2b/blake2b.c, about 10x the JS one) once. Asynchronous:
 * at 7 KB it is over the 4 KB Chromium compiles synchronously on the main thread. Until it is
 * ready blake2b512 uses the JS one (same digest, slower); callers that can wait await this.
 */
export function blake2bReady(): Promise<void> {
  compiling ??= WebAssembly.instantiate(fromBase64(BLAKE2B_WASM) as Uint8Array<ArrayBuffer>, {})
    .then((result) => {
      wasm = result.instance.exports as unknown as Blake2bWasm;
    })
    .catch(() => {
      wasm = null;
    });
  return compiling;
}

/** Which BLAKE2b blake2b512 uses here (tests, diagnostics). */
export function blake2bBackend(): 'wasm' | 'js' {
  return wasm ? 'wasm' : 'js';
}

/** BLAKE2b-512 (minisign's prehash): WebAssembly once blake2bReady() has settled, else JS. */
export function blake2b512(bytes: Uint8Array): Uint8Array {
  const w = wasm;
  if (!w) return blake2b512Js(bytes);
  const chunk = w.chunk_size();
  const input = w.input_ptr();
  w.init();
  for (let offset = 0; offset < bytes.length; offset += chunk) {
    const part = bytes.subarray(offset, offset + chunk);
    // The memory never grows (no allocation in the module), so the view stays valid.
    new Uint8Array(w.memory.buffer, input, part.length).set(part);
    w.update(part.length);
  }
  w.digest();
  return new Uint8Array(w.memory.buffer, w.out_ptr(), 64).slice();
}

/** BLAKE2b-512 by @noble/hashes, fed in 1 MiB chunks (the fallback, and the tests' reference). */
export function blake2b512Js(bytes: Uint8Array): Uint8Array {
  const hash = blake2b.create({ dkLen: 64 });
  for (let offset = 0; offset < bytes.length; offset += BLAKE2B_CHUNK) {
    hash.update(bytes.subarray(offset, offset + BLAKE2B_CHUNK));
  }
  return hash.digest();
}
