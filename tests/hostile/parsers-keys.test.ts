/**
 * Hostile input for every key format: public keys (raw hex / base64 / bytes, minisign, signify,
 * ssh-ed25519 lines, allowed_signers, PEM and DER SPKI), private keys (PKCS#8 PEM, minisign secret
 * key) and the audit log's signed-note verifier key. Random and mutated text never throws (a
 * TypeError is allowed only for a value that is not text or bytes); every encoder's output parses
 * back to the same key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noteVerifierKey, parseNoteVerifierKey } from '../../src/lib/core/audit/checkpoint';
import { fromBase64, fromUtf8, toBase64, toHex } from '../../src/lib/core/bytes';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import {
  encodeMinisignPublicKey,
  encodeMinisignSecretKey,
  encodePemSpki,
  encodePkcs8PrivateKeyPem,
  encodeSignifyPublicKey,
  encodeSshPublicKey,
  parseMinisignSecretKey,
  parsePkcs8PrivateKeyPem,
  parsePrivateKey,
  parsePublicKeys,
  type KeyFormat
} from '../../src/lib/core/keys';
import {
  anyBytes,
  anyText,
  attempt,
  attemptAsync,
  mutatedBytes,
  mutatedText,
  params,
  property,
  reportCounts,
  roundTrip
} from './harness';
import { KEY_NUMBER, PUBLIC_KEY, SEED } from './fixtures';

reportCounts(import.meta.url);

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const keyNumber = fc.uint8Array({ minLength: 8, maxLength: 8 });
/** One line of comment text (the encoders refuse line breaks, as the formats require). */
const comment = fc.string({ maxLength: 40 }).filter((c) => !/[\r\n]/.test(c) && c.trim() !== '');
const principal = fc.stringMatching(/^[a-z][a-z0-9.@-]{0,20}$/);

/** Every public key text format Night Core writes, for one key. */
function publicKeyTexts(publicKey: Uint8Array, number: Uint8Array, note: string, who: string) {
  const pem = encodePemSpki(publicKey);
  const der = fromBase64(pem.split('\n').slice(1, -2).join(''));
  const ssh = encodeSshPublicKey(publicKey, note);
  return [
    ['raw', toHex(publicKey)],
    ['raw', toBase64(publicKey)],
    ['minisign', encodeMinisignPublicKey(publicKey, number, note)],
    ['signify', encodeSignifyPublicKey(publicKey, number)],
    ['ssh', ssh],
    ['allowed-signers', `${who} namespaces="nightcore,git" ${ssh}`],
    ['pem-spki', pem],
    ['pem-spki', der]
  ] as const satisfies readonly (readonly [KeyFormat, string | Uint8Array])[];
}

const VALID_PUBLIC = publicKeyTexts(PUBLIC_KEY, KEY_NUMBER, 'hostile suite key', 'alice@example');
const VALID_PRIVATE = [
  encodePkcs8PrivateKeyPem(SEED),
  encodeMinisignSecretKey(SEED, KEY_NUMBER, 'hostile suite secret')
];
const VALID_VKEY = noteVerifierKey('nightcore-device-hostile', PUBLIC_KEY);

const publicKeyInput = fc.oneof(
  anyText,
  anyBytes,
  ...VALID_PUBLIC.map(([, text]) =>
    typeof text === 'string' ? mutatedText(text) : mutatedBytes(text)
  ),
  // Several lines: allowed_signers files and key lists, with one line damaged.
  mutatedText(VALID_PUBLIC.map(([, text]) => (typeof text === 'string' ? text : '')).join('\n'))
);

describe('public keys', () => {
  it('parsePublicKeys returns a result for any text or bytes, and TypeError only for other values', async () => {
    property('parsePublicKeys', 'no throw');
    await fc.assert(
      fc.asyncProperty(publicKeyInput, async (input) => {
        const r = await attemptAsync('parsePublicKeys', () => parsePublicKeys(input));
        if (r.threw) throw r.error;
        if (r.value.ok) for (const key of r.value.keys) expect(key.publicKey.length).toBe(32);
        else expect(r.value.reason.code).toMatch(/^key\./);
      }),
      params(2)
    );
    for (const value of [42, null, undefined, {}, [1, 2], new Uint16Array(16)]) {
      const r = await attemptAsync('parsePublicKeys', () => parsePublicKeys(value as never), [
        TypeError
      ]);
      expect(r.threw).toBe(true);
    }
  });

  it('every public key format written for a random key parses back to that key', async () => {
    property('parsePublicKeys', 'encode-then-parse (8 formats)');
    await fc.assert(
      fc.asyncProperty(seed, keyNumber, comment, principal, async (s, number, note, who) => {
        const publicKey = publicKeyFromSecret(s);
        for (const [format, text] of publicKeyTexts(publicKey, number, note, who)) {
          const r = await attemptAsync('parsePublicKeys', () => parsePublicKeys(text));
          if (r.threw) throw r.error;
          if (!r.value.ok) {
            throw new Error(`${format} refused: ${r.value.reason.code} ${r.value.reason.message}`);
          }
          expect(r.value.keys).toHaveLength(1);
          const [key] = r.value.keys;
          expect(key?.publicKey).toEqual(publicKey);
          expect(key?.format).toBe(format);
          if (format === 'minisign' || format === 'signify') {
            expect(key?.keyNumber).toBe(toHex(number));
          }
          if (format === 'allowed-signers') {
            expect(key?.principals).toEqual([who]);
            expect(key?.namespaces).toEqual(['nightcore', 'git']);
          }
          roundTrip('parsePublicKeys');
        }
        // 32 raw bytes, unless they happen to read as text (then the text rules apply).
        let text = false;
        try {
          text = !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(fromUtf8(publicKey));
        } catch {
          text = false;
        }
        if (!text) {
          const r = await attemptAsync('parsePublicKeys', () => parsePublicKeys(publicKey));
          if (r.threw || !r.value.ok) throw new Error('32 raw key bytes refused');
          expect(r.value.keys[0]?.publicKey).toEqual(publicKey);
          roundTrip('parsePublicKeys');
        }
      }),
      params(0.5)
    );
  });
});

describe('private keys', () => {
  it('parsePrivateKey, parsePkcs8PrivateKeyPem and parseMinisignSecretKey never throw on text', () => {
    for (const name of ['parsePrivateKey', 'parsePkcs8PrivateKeyPem', 'parseMinisignSecretKey']) {
      property(name, 'no throw');
    }
    const input = fc.oneof(anyText, ...VALID_PRIVATE.map(mutatedText));
    fc.assert(
      fc.property(input, (text) => {
        for (const [name, parse] of [
          ['parsePrivateKey', parsePrivateKey],
          ['parsePkcs8PrivateKeyPem', parsePkcs8PrivateKeyPem],
          ['parseMinisignSecretKey', parseMinisignSecretKey]
        ] as const) {
          const r = attempt(name, () => parse(text));
          if (r.threw) throw r.error;
          if (!r.value.ok) expect(r.value.reason.code).toMatch(/^key\./);
          // A damaged minisign secret key must not yield a seed whose checksum no longer matches.
          if (r.value.ok && 'seed' in r.value && 'publicKey' in r.value) {
            expect(publicKeyFromSecret(r.value.seed)).toEqual(r.value.publicKey);
          }
        }
      }),
      params(2)
    );
  });

  it('PKCS#8 PEM and minisign secret keys written for a random seed read back to that seed', () => {
    property('parsePrivateKey', 'encode-then-parse (pkcs8, minisign)');
    property('parseMinisignSecretKey', 'encode-then-parse');
    fc.assert(
      fc.property(seed, keyNumber, comment, (s, number, note) => {
        const publicKey = publicKeyFromSecret(s);
        const pem = attempt('parsePrivateKey', () => parsePrivateKey(encodePkcs8PrivateKeyPem(s)));
        if (pem.threw || !pem.value.ok) throw new Error('PKCS#8 PEM refused');
        expect(pem.value.seed).toEqual(s);
        expect(pem.value.format).toBe('pkcs8');
        roundTrip('parsePrivateKey');
        const file = encodeMinisignSecretKey(s, number, note);
        const mini = attempt('parsePrivateKey', () => parsePrivateKey(file));
        if (mini.threw || !mini.value.ok) throw new Error('minisign secret key refused');
        expect(mini.value.seed).toEqual(s);
        expect(mini.value.publicKey).toEqual(publicKey);
        roundTrip('parsePrivateKey');
        const direct = attempt('parseMinisignSecretKey', () => parseMinisignSecretKey(file));
        if (direct.threw || !direct.value.ok) throw new Error('minisign secret key refused');
        expect(direct.value.keyNumber).toEqual(number);
        expect(direct.value.seed).toEqual(s);
        roundTrip('parseMinisignSecretKey');
      }),
      params(0.5)
    );
  });
});

describe('signed-note verifier keys (audit checkpoints)', () => {
  it('parseNoteVerifierKey never throws, and noteVerifierKey round trips', () => {
    property('parseNoteVerifierKey', 'no throw');
    property('parseNoteVerifierKey', 'encode-then-parse');
    fc.assert(
      fc.property(fc.oneof(anyText, mutatedText(VALID_VKEY)), (text) => {
        const r = attempt('parseNoteVerifierKey', () => parseNoteVerifierKey(text));
        if (r.threw) throw r.error;
        if (!r.value.ok) expect(r.value.reason.code).toBe('audit.vkey-malformed');
      }),
      params()
    );
    fc.assert(
      fc.property(seed, fc.stringMatching(/^[A-Za-z0-9._\/-]{1,40}$/), (s, name) => {
        const publicKey = publicKeyFromSecret(s);
        const r = attempt('parseNoteVerifierKey', () =>
          parseNoteVerifierKey(noteVerifierKey(name, publicKey))
        );
        if (r.threw || !r.value.ok) throw new Error('verifier key refused');
        expect(r.value.name).toBe(name);
        expect(r.value.publicKey).toEqual(publicKey);
        roundTrip('parseNoteVerifierKey');
      }),
      params(0.5)
    );
  });
});
