/**
 * Hostile input for the detached signature formats (minisign, SSHSIG, signify, raw Ed25519), the
 * tenant zip of the old console, and the bundle writer: every parser returns reasons for random
 * and mutated input; sign-then-verify round trips for random keys, modules and options through
 * the same verify() the app uses; and a signature never verifies under a key that did not make it.
 */
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { addSignature, createBundle } from '../../src/lib/core/bundle-write';
import { concatBytes, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import { detectSignatureFormat } from '../../src/lib/core/formats/detached';
import { parseMinisign, signMinisign } from '../../src/lib/core/formats/minisign';
import { parseRawSignature, signRaw } from '../../src/lib/core/formats/raw';
import { parseSignify, signSignify } from '../../src/lib/core/formats/signify';
import { parseSshsig, signSsh } from '../../src/lib/core/formats/sshsig';
import { readTenantFiles, unzipTenant } from '../../src/lib/core/formats/tenant';
import { publicKeyNumber } from '../../src/lib/core/keys';
import type { TrustedKey } from '../../src/lib/core/verdict';
import { verify } from '../../src/lib/core/verify';
import {
  anyBytes,
  attempt,
  attemptAsync,
  mutatedBytes,
  params,
  property,
  reportCounts,
  roundTrip
} from './harness';
import {
  MINISIG_ED,
  MINISIG_LEGACY,
  NOW,
  RAW_BASE64,
  RAW_HEX,
  SIGNIFY,
  SSHSIG,
  SSHSIG_SHA256,
  TENANT_FILES,
  TENANT_ZIP
} from './fixtures';

reportCounts(import.meta.url);

const SIGNATURES = [
  MINISIG_ED,
  MINISIG_LEGACY,
  SSHSIG,
  SSHSIG_SHA256,
  SIGNIFY,
  RAW_BASE64,
  RAW_HEX
];
const signatureInput = fc.oneof(anyBytes, ...SIGNATURES.map(mutatedBytes));
const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
/** A module: the wasm magic (verify checks it before any signature) and random bytes. */
const module = fc
  .uint8Array({ maxLength: 2048 })
  .map((rest) => concatBytes(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0), rest));
const line = (max: number) => fc.string({ maxLength: max }).filter((c) => !/[\r\n]/.test(c));

async function trusted(s: Uint8Array, extra: Partial<TrustedKey> = {}): Promise<TrustedKey> {
  const publicKey = publicKeyFromSecret(s);
  return {
    id: await sha256Hex(publicKey),
    publicKey,
    keyNumber: toHex(await publicKeyNumber(publicKey)),
    ...extra
  };
}

describe('detached signature parsers', () => {
  it('parseMinisign, parseSshsig, parseSignify, parseRawSignature, detectSignatureFormat never throw', () => {
    const parsers = [
      ['parseMinisign', parseMinisign],
      ['parseSshsig', parseSshsig],
      ['parseSignify', parseSignify],
      ['parseRawSignature', parseRawSignature],
      ['detectSignatureFormat', detectSignatureFormat]
    ] as const;
    for (const [name] of parsers) property(name, 'no throw');
    fc.assert(
      fc.property(signatureInput, (bytes) => {
        for (const [name, parse] of parsers) {
          const r = attempt(name, () => parse(bytes));
          if (r.threw) throw r.error;
          const value = r.value;
          if (value !== null && typeof value === 'object' && !value.ok) {
            const codes = 'reasons' in value ? value.reasons : [value.reason];
            expect(codes.length).toBeGreaterThan(0);
          }
        }
      }),
      params(3)
    );
  });

  it('unzipTenant and readTenantFiles never throw on random or mutated zips and file sets', () => {
    property('unzipTenant', 'no throw');
    property('readTenantFiles', 'no throw');
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutatedBytes(TENANT_ZIP)), (bytes) => {
        const r = attempt('unzipTenant', () => unzipTenant(bytes));
        if (r.threw) throw r.error;
        if (!r.value.ok) expect(r.value.reason.code).toMatch(/^(tenant|input)\./);
        else {
          const files = r.value.files;
          expect(attempt('readTenantFiles', () => readTenantFiles(files)).threw).toBe(false);
        }
      }),
      params(2)
    );
    const names = fc.constantFrom(
      'module.wasm',
      'module.sig',
      'manifest.json',
      'pubkey.b64',
      'a/module.wasm',
      'a/module.sig',
      '../module.wasm',
      ''
    );
    fc.assert(
      fc.property(
        fc.dictionary(names, fc.oneof(anyBytes, ...Object.values(TENANT_FILES).map(mutatedBytes))),
        (files) => {
          const r = attempt('readTenantFiles', () =>
            readTenantFiles(new Map(Object.entries(files)))
          );
          if (r.threw) throw r.error;
        }
      ),
      params()
    );
  });
});

describe('sign-then-verify round trips (random keys, modules and options)', () => {
  it('minisign (ED and legacy Ed), SSHSIG (sha512, sha256, any namespace), signify and raw verify under the signing key only', async () => {
    for (const name of ['minisign', 'sshsig', 'signify', 'raw-ed25519']) {
      property(`verify(${name})`, 'sign-then-verify');
      property(`verify(${name})`, 'other key refused');
    }
    await fc.assert(
      fc.asyncProperty(
        seed,
        seed,
        module,
        line(80),
        line(80),
        fc.constantFrom('nightcore', 'file', 'a-b.c'),
        fc.constantFrom('sha512', 'sha256') as fc.Arbitrary<'sha512' | 'sha256'>,
        async (s, other, bytes, trustedComment, untrustedComment, namespace, hash) => {
          if (toHex(s) === toHex(other)) return;
          const key = await trusted(
            s,
            namespace === 'nightcore' ? {} : { sshNamespace: namespace }
          );
          const wrong = await trusted(other, { keyNumber: key.keyNumber! });
          const number = await publicKeyNumber(key.publicKey);
          const raw = await signRaw(bytes, s);
          const signed: [string, Uint8Array][] = [
            [
              'minisign',
              utf8(await signMinisign(bytes, s, number, { trustedComment, untrustedComment }))
            ],
            [
              'minisign',
              utf8(await signMinisign(bytes, s, number, { trustedComment, legacy: true }))
            ],
            ['sshsig', utf8(await signSsh(bytes, s, { namespace, hash }))],
            ['signify', utf8(await signSignify(bytes, s, number, untrustedComment))],
            ['raw-ed25519', raw],
            ['raw-ed25519', utf8(toBase64(raw))],
            ['raw-ed25519', utf8(`${toHex(raw)}\n`)]
          ];
          for (const [format, signature] of signed) {
            const input = { kind: 'detached' as const, module: bytes, signature, name: 'm.wasm' };
            const good = await attemptAsync(`verify(${format})`, () => verify(input, [key]));
            if (good.threw) throw good.error;
            if (!good.value.ok) {
              throw new Error(`${format} did not verify: ${JSON.stringify(good.value.reasons)}`);
            }
            expect(good.value.format).toBe(format);
            expect(good.value.signers).toEqual([key.id]);
            expect(good.value.moduleBytes).toEqual(bytes);
            if (format === 'minisign') expect(good.value.trustedComment).toBeDefined();
            roundTrip(`verify(${format})`);
            const bad = await attemptAsync(`verify(${format})`, () => verify(input, [wrong]));
            if (bad.threw) throw bad.error;
            expect(bad.value.ok).toBe(false);
            expect(bad.value.signers).toEqual([]);
          }
        }
      ),
      params(0.25)
    );
  });

  it('a tenant zip (module.wasm + raw module.sig) verifies under the pinned key, never under the claimed one alone', async () => {
    property('verify(tenant-zip)', 'sign-then-verify');
    property('verify(tenant-zip)', 'claimed key not trusted');
    await fc.assert(
      fc.asyncProperty(
        seed,
        seed,
        module,
        fc.constantFrom('', 'tenant/'),
        async (s, other, bytes, folder) => {
          if (toHex(s) === toHex(other)) return;
          const key = await trusted(s);
          const files = {
            [`${folder}module.wasm`]: bytes,
            [`${folder}module.sig`]: utf8(toBase64(await signRaw(bytes, s))),
            [`${folder}pubkey.b64`]: utf8(toBase64(key.publicKey))
          };
          const zip = zipSync(files);
          const good = await attemptAsync('verify(tenant-zip)', () =>
            verify({ kind: 'tenant-zip', bytes: zip }, [key])
          );
          if (good.threw || !good.value.ok) throw new Error('tenant zip did not verify');
          expect(good.value.moduleBytes).toEqual(bytes);
          expect(good.value.claimedKeyId).toBe(key.id);
          roundTrip('verify(tenant-zip)');
          const otherKey = await trusted(other);
          const bad = await attemptAsync('verify(tenant-zip)', () =>
            verify({ kind: 'tenant-zip', bytes: zip }, [otherKey])
          );
          if (bad.threw) throw bad.error;
          expect(bad.value.ok).toBe(false);
        }
      ),
      params(0.25)
    );
  });

  it('a bundle with a random manifest verifies under its signers; addSignature keeps the bytes and meets a threshold of 2', async () => {
    property('verify(bundle)', 'sign-then-verify');
    property('verify(bundle)', 'addSignature then threshold 2');
    const semver = fc
      .tuple(fc.nat(99), fc.nat(99), fc.nat(99))
      .map(([a, b, c]) => `${a}.${b}.${c}`);
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
    const capabilities = fc.subarray([
      'args',
      'env',
      'clock',
      'random',
      'stdin',
      'fs-read',
      'fs-write'
    ]);
    await fc.assert(
      fc.asyncProperty(
        seed,
        seed,
        module,
        name,
        semver,
        capabilities,
        fc.array(line(40), { maxLength: 4 }),
        async (s, second, bytes, moduleName, version, caps, args) => {
          if (toHex(s) === toHex(second)) return;
          const manifest = utf8(
            JSON.stringify({
              name: moduleName,
              version,
              module: { sha256: await sha256Hex(bytes), size: bytes.length },
              args,
              capabilities: caps
            })
          );
          const bundle = await createBundle({ module: bytes, manifest, signers: [{ seed: s }] });
          const key = await trusted(s);
          const other = await trusted(second);
          const one = await attemptAsync('verify(bundle)', () =>
            verify({ kind: 'bundle', bytes: bundle }, [key], { now: NOW })
          );
          if (one.threw || !one.value.ok) {
            throw new Error(
              `bundle refused: ${one.threw ? one.error : JSON.stringify(one.value.reasons)}`
            );
          }
          expect(one.value.moduleBytes).toEqual(bytes);
          expect(one.value.manifestBytes).toEqual(manifest);
          expect(one.value.manifest?.name).toBe(moduleName);
          roundTrip('verify(bundle)');
          const both = await addSignature(bundle, second);
          if (!both.ok) throw new Error('addSignature refused its own bundle');
          const two = await attemptAsync('verify(bundle)', () =>
            verify({ kind: 'bundle', bytes: both.bytes }, [key, other], { now: NOW, threshold: 2 })
          );
          if (two.threw || !two.value.ok) throw new Error('two signers did not meet threshold 2');
          expect([...two.value.signers].sort()).toEqual([key.id, other.id].sort());
          roundTrip('verify(bundle)');
          const short = await attemptAsync('verify(bundle)', () =>
            verify({ kind: 'bundle', bytes: bundle }, [key, other], { now: NOW, threshold: 2 })
          );
          if (short.threw) throw short.error;
          expect(short.value.ok).toBe(false);
        }
      ),
      params(0.25)
    );
  });
});
