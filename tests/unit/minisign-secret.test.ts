// The minisign secret key encoder and parser (core/keys/minisign-secret.ts) and the private key
// detector the bundle tool uses (core/keys/private-key.ts). Interop with the real minisign binary
// is in minisign-secret-interop.test.ts.
import { blake2b } from '@noble/hashes/blake2.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, toBase64, toHex } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, randomSecretKey } from '../../src/lib/core/ed25519';
import {
  encodeMinisignPublicKey,
  encodePkcs8PrivateKeyPem,
  encodeMinisignSecretKey,
  parseMinisignSecretKey,
  parsePrivateKey,
  parsePublicKeys,
  publicKeyNumber
} from '../../src/lib/core/keys';
import { minisignSecretChecksum } from '../../src/lib/core/keys/minisign-secret';

const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const publicKey = publicKeyFromSecret(seed);
const keyNumber = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

/** The key line's bytes, changed by `edit`, back in a file. */
function edited(text: string, edit: (bytes: Uint8Array) => void): string {
  const [comment, line] = text.split('\n');
  const bytes = fromBase64(line!);
  edit(bytes);
  return `${comment}\n${toBase64(bytes)}\n`;
}

describe('encodeMinisignSecretKey', () => {
  const text = encodeMinisignSecretKey(seed, keyNumber);
  const bytes = fromBase64(text.split('\n')[1]!);

  it('writes minisign -G -W layout, byte for byte', () => {
    expect(
      text.startsWith('untrusted comment: minisign unencrypted secret key 807060504030201\n')
    ).toBe(true);
    expect(bytes.length).toBe(158);
    expect(toHex(bytes.subarray(0, 6))).toBe('456400004232'); // "Ed" 00 00 "B2"
    expect(bytes.subarray(6, 54).every((b) => b === 0)).toBe(true); // salt, opslimit, memlimit
    expect(bytes.subarray(54, 62)).toEqual(keyNumber);
    expect(bytes.subarray(62, 94)).toEqual(seed);
    expect(bytes.subarray(94, 126)).toEqual(publicKey);
    // The checksum, computed here independently of the module's helper.
    const expected = blake2b(concatBytes(Uint8Array.of(0x45, 0x64), keyNumber, seed, publicKey), {
      dkLen: 32
    });
    expect(toHex(bytes.subarray(126))).toBe(toHex(expected));
    expect(minisignSecretChecksum(keyNumber, concatBytes(seed, publicKey))).toEqual(expected);
  });

  it('round-trips through the parser', () => {
    const parsed = parseMinisignSecretKey(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.seed).toEqual(seed);
    expect(parsed.publicKey).toEqual(publicKey);
    expect(parsed.keyNumber).toEqual(keyNumber);
    expect(parsed.comment).toBe('minisign unencrypted secret key 807060504030201');
  });

  it('round-trips random keys, with CRLF and surrounding blank space', () => {
    for (let i = 0; i < 20; i++) {
      const s = randomSecretKey();
      const n = crypto.getRandomValues(new Uint8Array(8));
      const file = `\n${encodeMinisignSecretKey(s, n, 'ci key').replace(/\n/g, '\r\n')}\n`;
      const parsed = parseMinisignSecretKey(file);
      expect(
        parsed.ok && toHex(parsed.seed) === toHex(s) && toHex(parsed.keyNumber) === toHex(n)
      ).toBe(true);
    }
  });

  it('refuses a bad seed, key number or a comment with a line break', () => {
    expect(() => encodeMinisignSecretKey(seed.subarray(1), keyNumber)).toThrow(TypeError);
    expect(() => encodeMinisignSecretKey(seed, keyNumber.subarray(1))).toThrow(TypeError);
    expect(() => encodeMinisignSecretKey(seed, keyNumber, 'a\nb')).toThrow(TypeError);
  });

  it('pairs with the public key file the CLI writes (same key number)', async () => {
    const number = await publicKeyNumber(publicKey);
    const pub = await parsePublicKeys(encodeMinisignPublicKey(publicKey, number));
    const sec = parseMinisignSecretKey(encodeMinisignSecretKey(seed, number));
    expect(pub.ok && sec.ok).toBe(true);
    if (!pub.ok || !sec.ok) return;
    expect(pub.keys[0]!.publicKey).toEqual(sec.publicKey);
    expect(pub.keys[0]!.keyNumber).toBe(toHex(sec.keyNumber));
  });
});

describe('parseMinisignSecretKey refusals', () => {
  const good = encodeMinisignSecretKey(seed, keyNumber);
  const cases: [string, string, string][] = [
    ['wrong checksum', edited(good, (b) => (b[140]! ^= 1)), 'key.checksum'],
    [
      'changed seed (checksum no longer matches)',
      edited(good, (b) => (b[70]! ^= 1)),
      'key.checksum'
    ],
    ['encrypted (kdf "Sc")', edited(good, (b) => b.set([0x53, 0x63], 2)), 'key.encrypted'],
    ['unknown kdf', edited(good, (b) => b.set([0x41, 0x41], 2)), 'key.unsupported-type'],
    ['not Ed', edited(good, (b) => b.set([0x45, 0x44], 0)), 'key.unsupported-type'],
    [
      'unknown checksum algorithm',
      edited(good, (b) => b.set([0x42, 0x33], 4)),
      'key.unsupported-type'
    ],
    ['no comment line', good.split('\n')[1]!.replace(/^/, 'x'), 'key.format-unknown'],
    ['no key line', 'untrusted comment: x\n', 'key.length'],
    ['a second key after', `${good}${good}`, 'key.trailing-data'],
    ['bad base64', 'untrusted comment: x\nRWQ!!!\n', 'key.base64'],
    ['a public key', encodeMinisignPublicKey(publicKey, keyNumber), 'key.public-key'],
    ['wrong length', `untrusted comment: x\n${toBase64(new Uint8Array(100))}\n`, 'key.length'],
    ['huge', `untrusted comment: ${'x'.repeat(5000)}`, 'key.too-large']
  ];
  for (const [name, text, code] of cases) {
    it(`${name} -> ${code}`, () => {
      const parsed = parseMinisignSecretKey(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason.code).toBe(code);
    });
  }

  it('accepts the all-zero checksum minisign 0.11 writes with -W', () => {
    const zero = edited(good, (b) => b.fill(0, 126));
    const parsed = parseMinisignSecretKey(zero);
    expect(parsed.ok && toHex(parsed.seed) === toHex(seed)).toBe(true);
  });

  it('refuses a public half that does not belong to the seed, even with a fixed-up checksum', () => {
    const other = publicKeyFromSecret(randomSecretKey());
    const forged = edited(good, (b) => {
      b.set(other, 94);
      b.set(minisignSecretChecksum(keyNumber, b.subarray(62, 126)), 126);
    });
    const parsed = parseMinisignSecretKey(forged);
    expect(parsed.ok ? 'ok' : parsed.reason.code).toBe('key.mismatch');
  });
});

describe('parsePrivateKey (the bundle tool input)', () => {
  it('reads PKCS#8 PEM and minisign secret keys to the same seed', () => {
    for (const text of [encodePkcs8PrivateKeyPem(seed), encodeMinisignSecretKey(seed, keyNumber)]) {
      const parsed = parsePrivateKey(`  ${text}  `);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        expect(parsed.seed).toEqual(seed);
        expect(parsed.publicKey).toEqual(publicKey);
      }
    }
    const bare = parsePrivateKey(encodeMinisignSecretKey(seed, keyNumber).split('\n')[1]!);
    expect(bare.ok && bare.format === 'minisign').toBe(true);
  });

  const cases: [string, string, string][] = [
    ['empty', '  ', 'key.empty'],
    ['raw 32-byte seed in base64 (wrong length for a key file)', toBase64(seed), 'key.length'],
    ['64 bytes', toBase64(new Uint8Array(64)), 'key.length'],
    [
      'a public key PEM',
      '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA' +
        'A'.repeat(43) +
        '=\n-----END PUBLIC KEY-----\n',
      'key.armor'
    ],
    [
      'an encrypted PEM',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n',
      'key.encrypted'
    ],
    [
      'an encrypted minisign key',
      edited(encodeMinisignSecretKey(seed, keyNumber), (b) => b.set([0x53, 0x63], 2)),
      'key.encrypted'
    ],
    ['prose', 'hello <b>world</b>', 'key.format-unknown']
  ];
  for (const [name, text, code] of cases) {
    it(`${name} -> ${code}`, () => {
      const parsed = parsePrivateKey(text);
      expect(parsed.ok ? 'ok' : parsed.reason.code).toBe(code);
    });
  }
});

describe('fromBase64 on a large module (bundles of tens of MiB)', () => {
  it('decodes 48 MiB of base64 text strictly (the old pattern overflowed the regex stack)', () => {
    const bytes = new Uint8Array(36 * 1024 * 1024);
    bytes[bytes.length - 1] = 7;
    const text = toBase64(bytes);
    expect(fromBase64(text).length).toBe(bytes.length);
    for (const bad of ['AAA', 'AA=A', 'A===', '====', 'AAAA====', 'AA-A', 'AA A']) {
      expect(() => fromBase64(bad), bad).toThrow();
    }
    expect(fromBase64('AA==')).toEqual(Uint8Array.of(0));
    expect(fromBase64('AAA=')).toEqual(Uint8Array.of(0, 0));
  });
});
