// Conformance and attack tests for the one Ed25519 verifier (src/lib/core/ed25519.ts): every
// Wycheproof vector, RFC 8032 section 7.1, and hand-built attacks (identity forgery, small-order
// and non-canonical points, S >= L, bit flips, wrong lengths). Each case names what it checks.
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/lib/core/bytes';
import {
  isUsablePublicKey,
  publicKeyFromSecret,
  publicKeyProblem,
  sign,
  verifyStrict
} from '../../src/lib/core/ed25519';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

/** The group order L and the field prime p. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

const numberToLE = (value: bigint, length = 32): Uint8Array => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
};
const leToNumber = (bytes: Uint8Array): bigint =>
  bytes.reduceRight((value, byte) => (value << 8n) | BigInt(byte), 0n);
const concat = (...parts: Uint8Array[]): Uint8Array => ed.etc.concatBytes(...parts);
/** k = SHA-512(R || A || M) mod L, the challenge of RFC 8032 section 5.1.7. */
const challenge = (R: Uint8Array, A: Uint8Array, message: Uint8Array): bigint =>
  leToNumber(sha512(concat(R, A, message))) % L;

/** The eight points of small order (the torsion subgroup), canonically encoded. */
const SMALL_ORDER_POINTS = [
  ['identity (order 1)', '0100000000000000000000000000000000000000000000000000000000000000'],
  ['order 2 (y = -1)', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['order 4 (y = 0, x even)', '0000000000000000000000000000000000000000000000000000000000000000'],
  ['order 4 (y = 0, x odd)', '0000000000000000000000000000000000000000000000000000000000000080'],
  ['order 8 (a)', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'],
  ['order 8 (b)', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85'],
  ['order 8 (c)', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'],
  ['order 8 (d)', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa']
] as const;

/** A fixed key pair (RFC 8032 TEST 1's secret) and a valid signature under it. */
const SECRET = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const PUBLIC = publicKeyFromSecret(SECRET);
const MESSAGE = utf8('night core: the bytes that run are the bytes that were verified');
const SIGNATURE = sign(MESSAGE, SECRET);

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WycheproofFile {
  numberOfTests: number;
  testGroups: { publicKey: { pk: string }; tests: WycheproofTest[] }[];
}

describe('Wycheproof ed25519_test.json', () => {
  const file = fixture('wycheproof/ed25519_test.json') as WycheproofFile;
  const cases = file.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ ...test, pk: group.publicKey.pk }))
  );

  it('has all 151 tests and no "acceptable" results', () => {
    expect(cases).toHaveLength(file.numberOfTests);
    expect(cases).toHaveLength(151);
    expect(cases.filter((test) => test.result === 'acceptable').map((test) => test.tcId)).toEqual(
      []
    );
  });

  for (const test of cases) {
    const label = test.comment || test.flags.join(', ');
    it(`(tcId ${test.tcId}, ${test.result}): ${label}`, () => {
      const verified = verifyStrict(fromHex(test.sig), fromHex(test.msg), fromHex(test.pk));
      expect(verified, `tcId ${test.tcId} [${test.flags.join(', ')}]`).toBe(
        test.result === 'valid'
      );
    });
  }
});

describe('RFC 8032 section 7.1', () => {
  const { vectors } = fixture('rfc8032.json') as {
    vectors: {
      name: string;
      secretKey: string;
      publicKey: string;
      message: string;
      signature: string;
    }[];
  };

  it('holds TEST 1, 2 and 3', () => {
    expect(vectors.map((vector) => vector.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3']);
  });

  for (const vector of vectors) {
    it(`${vector.name}: sign() reproduces the signature and verifyStrict accepts it`, () => {
      const secret = fromHex(vector.secretKey);
      const message = fromHex(vector.message);
      expect(toHex(publicKeyFromSecret(secret))).toBe(vector.publicKey);
      expect(toHex(sign(message, secret))).toBe(vector.signature);
      expect(verifyStrict(fromHex(vector.signature), message, fromHex(vector.publicKey))).toBe(
        true
      );
      expect(
        verifyStrict(fromHex(vector.signature), utf8('other'), fromHex(vector.publicKey))
      ).toBe(false);
    });
  }
});

describe('attacks', () => {
  it('the fixed test signature verifies (so every refusal below is the attack, not the setup)', () => {
    expect(verifyStrict(SIGNATURE, MESSAGE, PUBLIC)).toBe(true);
  });

  it('identity forgery (A = identity, R = identity, S = 0) fails on every message', () => {
    const identity = fromHex(SMALL_ORDER_POINTS[0][1]);
    const forgery = concat(identity, new Uint8Array(32));
    for (const message of ['', 'hello', 'night core', '\u0000'.repeat(1000)].map(utf8)) {
      // The cofactored equation holds for every message: this is a real universal forgery...
      expect(ed.verify(forgery, message, identity, { zip215: true })).toBe(true);
      // ...which the strict verifier refuses.
      expect(verifyStrict(forgery, message, identity)).toBe(false);
    }
  });

  it('the torsion list is the 8 distinct small-order points', () => {
    const encodings = new Set(SMALL_ORDER_POINTS.map(([, hex]) => hex));
    expect(encodings.size).toBe(8);
    for (const [name, hex] of SMALL_ORDER_POINTS) {
      const point = ed.Point.fromBytes(fromHex(hex), false);
      expect(point.isSmallOrder(), name).toBe(true);
      expect(point.multiplyUnsafe(8n).is0(), name).toBe(true);
    }
  });

  for (const [name, hex] of SMALL_ORDER_POINTS) {
    it(`small-order A (${name}) fails, even with a signature that satisfies the equation`, () => {
      const A = fromHex(hex);
      expect(isUsablePublicKey(A)).toBe(false);
      expect(publicKeyProblem(A)).toMatch(/small-order/);
      // With S = 0 and R = -[k]A the cofactorless equation [S]B = R + [k]A holds. [k]A takes at
      // most 8 values, so a few messages find one where R = identity works.
      const R = fromHex(SMALL_ORDER_POINTS[0][1]);
      const forgery = concat(R, new Uint8Array(32));
      let found = 0;
      for (let i = 0; i < 64; i++) {
        const message = utf8(`message ${i}`);
        const kA = ed.Point.fromBytes(A).multiplyUnsafe(challenge(R, A, message));
        if (kA.is0()) {
          found++;
          expect(verifyStrict(forgery, message, A)).toBe(false);
        }
        expect(verifyStrict(SIGNATURE, MESSAGE, A)).toBe(false);
      }
      expect(found, 'messages whose equation holds').toBeGreaterThan(0);
    });

    it(`small-order R (${name}) fails, even when the signer made it (S = k·a)`, () => {
      const R = fromHex(hex);
      const { scalar } = ed.utils.getExtendedPublicKey(SECRET);
      const S = (challenge(R, PUBLIC, MESSAGE) * scalar) % L;
      const signature = concat(R, numberToLE(S));
      // [8][S]B = [8]R + [8][k]A holds: only the small-order check on R refuses it.
      expect(ed.verify(signature, MESSAGE, PUBLIC, { zip215: true })).toBe(true);
      expect(verifyStrict(signature, MESSAGE, PUBLIC)).toBe(false);
    });
  }

  it('S >= L (S + L of a valid signature) fails', () => {
    const S = leToNumber(SIGNATURE.subarray(32));
    for (const bumped of [S + L, S + 2n * L, S + 8n * L]) {
      expect(bumped < 2n ** 256n).toBe(true);
      const signature = concat(SIGNATURE.subarray(0, 32), numberToLE(bumped));
      // Same scalar mod L, so a verifier that reduces S would accept it.
      expect(bumped % L).toBe(S);
      expect(verifyStrict(signature, MESSAGE, PUBLIC)).toBe(false);
    }
    expect(verifyStrict(concat(SIGNATURE.subarray(0, 32), numberToLE(L)), MESSAGE, PUBLIC)).toBe(
      false
    );
  });

  /** Non-canonical encodings: y + p for small y (y >= p on the wire), and x = 0 with the sign bit. */
  const nonCanonical: { name: string; bytes: Uint8Array }[] = [];
  for (let y = 0n; y < 19n; y++) {
    for (const signBit of [0n, 1n]) {
      const bytes = numberToLE(P + y + (signBit << 255n));
      try {
        ed.Point.fromBytes(bytes, true); // decodes when read leniently (ZIP-215)
        nonCanonical.push({ name: `y = p + ${y}, sign ${signBit}`, bytes });
      } catch {
        // not a curve point at all
      }
    }
  }
  nonCanonical.push({
    name: 'identity with sign bit set',
    bytes: fromHex('01' + '00'.repeat(30) + '80')
  });
  nonCanonical.push({ name: 'order 2 with sign bit set', bytes: fromHex('ec' + 'ff'.repeat(31)) });

  it('there are non-canonical encodings to try, and lax decoding accepts them', () => {
    expect(nonCanonical.length).toBeGreaterThanOrEqual(6);
    for (const { name, bytes } of nonCanonical) {
      expect(() => ed.Point.fromBytes(bytes, false), name).toThrow();
    }
  });

  it('non-canonical A (y >= p) fails', () => {
    for (const { name, bytes } of nonCanonical) {
      expect(isUsablePublicKey(bytes), name).toBe(false);
      expect(publicKeyProblem(bytes), name).not.toBeNull();
      expect(verifyStrict(SIGNATURE, MESSAGE, bytes), name).toBe(false);
      // A non-canonical identity makes the identity forgery work for a lax verifier.
      const forgery = concat(bytes, new Uint8Array(32));
      if (ed.Point.fromBytes(bytes, true).is0()) {
        expect(ed.verify(forgery, MESSAGE, bytes, { zip215: true }), name).toBe(true);
      }
      expect(verifyStrict(forgery, MESSAGE, bytes), name).toBe(false);
    }
  });

  it('non-canonical R (y >= p) fails', () => {
    for (const { name, bytes } of nonCanonical) {
      expect(verifyStrict(concat(bytes, SIGNATURE.subarray(32)), MESSAGE, PUBLIC), name).toBe(
        false
      );
      expect(verifyStrict(concat(bytes, new Uint8Array(32)), MESSAGE, PUBLIC), name).toBe(false);
    }
  });

  for (let index = 0; index < 64; index++) {
    it(`a flipped bit in signature byte ${index} fails (all 8 bits)`, () => {
      for (let bit = 0; bit < 8; bit++) {
        const signature = SIGNATURE.slice();
        signature[index]! ^= 1 << bit;
        expect(verifyStrict(signature, MESSAGE, PUBLIC), `byte ${index} bit ${bit}`).toBe(false);
      }
    });
  }

  it('wrong lengths and wrong types return false without throwing', () => {
    const bad = (value: unknown) => value as Uint8Array;
    for (const length of [0, 1, 31, 32, 63, 65, 96, 128]) {
      const signature = new Uint8Array(length);
      signature.set(SIGNATURE.subarray(0, length));
      expect(verifyStrict(signature, MESSAGE, PUBLIC), `signature of ${length} bytes`).toBe(false);
    }
    for (const length of [0, 1, 31, 33, 64]) {
      const key = new Uint8Array(length);
      key.set(PUBLIC.subarray(0, length));
      expect(verifyStrict(SIGNATURE, MESSAGE, key), `key of ${length} bytes`).toBe(false);
      expect(isUsablePublicKey(key)).toBe(false);
      expect(publicKeyProblem(key)).toMatch(/32 bytes/);
    }
    for (const value of [null, undefined, 'abc', 42, [...SIGNATURE], SIGNATURE.buffer]) {
      expect(verifyStrict(bad(value), MESSAGE, PUBLIC)).toBe(false);
      expect(verifyStrict(SIGNATURE, bad(value), PUBLIC)).toBe(false);
      expect(verifyStrict(SIGNATURE, MESSAGE, bad(value))).toBe(false);
    }
  });
});
