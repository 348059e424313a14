import { readFileSync } from 'node:fs';
import { BLAKE2B_WASM } from '../../src/lib/core/blake2b/blake2b-wasm';
import { describe, expect, it } from 'vitest';
import { blake2b512, blake2b512Js, blake2bBackend, blake2bReady } from '../../src/lib/core/digest';
import { toHex } from '../../src/lib/core/bytes';

describe('BLAKE2b-512 (WebAssembly)', () => {
  it('runs as WebAssembly in Node (as in the browser) once ready', async () => {
    await blake2bReady();
    expect(blake2bBackend()).toBe('wasm');
  });

  it('matches the RFC 7693 test vector for "abc"', () => {
    expect(toHex(blake2b512(new TextEncoder().encode('abc')))).toBe(
      'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1' +
        '7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923'
    );
  });

  it('matches @noble/hashes at every length around block and chunk edges', () => {
    const sizes = [0, 1, 127, 128, 129, 255, 256, 257, 65535, 65536, 65537, 131072, 200000];
    for (const size of sizes) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 131 + size) & 0xff);
      expect(toHex(blake2b512(bytes)), `size ${size}`).toBe(toHex(blake2b512Js(bytes)));
    }
  });

  it('leaves no state behind between calls', () => {
    const a = new Uint8Array(1000).fill(7);
    expect(toHex(blake2b512(a))).toBe(toHex(blake2b512(a)));
  });
});

describe('the committed wasm', () => {
  it('is the base64 copy the app loads, byte for byte (build.sh writes both)', () => {
    const file = readFileSync(new URL('../../src/lib/core/blake2b/blake2b.wasm', import.meta.url));
    expect(Buffer.from(BLAKE2B_WASM, 'base64').equals(file)).toBe(true);
  });
});
