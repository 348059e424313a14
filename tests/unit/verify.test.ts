import * as ed from '@noble/ed25519';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MANIFEST_PAYLOAD_TYPE, pae } from '../../src/lib/core/bundle';
import { addSignature, createBundle } from '../../src/lib/core/bundle-write';
import { fromHex, toBase64, toHex } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { signRaw } from '../../src/lib/core/formats/raw';
import { signSsh } from '../../src/lib/core/formats/sshsig';
import { CAPABILITIES } from '../../src/lib/core/manifest';
import type { TrustedKey } from '../../src/lib/core/verdict';
import { detectInput } from '../../src/lib/core/detect-input';
import { verify, type Verdict, type VerifyInput } from '../../src/lib/core/verify';
import { CREATED_FUTURE_TOLERANCE_MS } from '../../src/lib/core/verify-bundle';

const enc = new TextEncoder();
const dec = new TextDecoder();
const MODULE = new Uint8Array(
  readFileSync(new URL('../fixtures/wasm/reactor.wasm', import.meta.url))
);
const SEED = {
  A: new Uint8Array(32).fill(0xa1),
  B: new Uint8Array(32).fill(0xb2),
  C: new Uint8Array(32).fill(0xc3)
};
const PUB = {
  A: publicKeyFromSecret(SEED.A),
  B: publicKeyFromSecret(SEED.B),
  C: publicKeyFromSecret(SEED.C)
};
const ID = { A: await sha256Hex(PUB.A), B: await sha256Hex(PUB.B), C: await sha256Hex(PUB.C) };
const KEY: Record<'A' | 'B' | 'C', TrustedKey> = {
  A: { id: ID.A, publicKey: PUB.A, label: 'Alice' },
  B: { id: ID.B, publicKey: PUB.B, label: 'Bob' },
  C: { id: ID.C, publicKey: PUB.C }
};
const MODULE_SHA = await sha256Hex(MODULE);
const NOW = Date.UTC(2026, 0, 1);
const IDENTITY = fromHex('01' + '00'.repeat(31));
const ORDER_8 = fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
/** y = p + 1: a non-canonical encoding of the identity point. */
const NON_CANONICAL_IDENTITY = fromHex('ee' + 'ff'.repeat(30) + '7f');
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function manifestOf(overrides: Record<string, unknown> = {}): Uint8Array {
  return enc.encode(
    JSON.stringify({
      name: 'reactor',
      version: '1.0.0',
      module: { sha256: MODULE_SHA, size: MODULE.length },
      entry: 'reactor',
      ...overrides
    })
  );
}
const bundle = (
  seeds: Uint8Array[],
  manifest: Uint8Array = manifestOf(),
  module: Uint8Array = MODULE
) => createBundle({ module, manifest, signers: seeds.map((seed) => ({ seed })) });
/** A bundle whose signatures are given as raw 64-byte values. */
function handBundle(
  sigs: { keyid: string; sig: Uint8Array }[],
  manifest = manifestOf(),
  payloadType = MANIFEST_PAYLOAD_TYPE
) {
  return enc.encode(
    JSON.stringify({
      nightcoreBundle: 1,
      module: toBase64(MODULE),
      envelope: {
        payloadType,
        payload: toBase64(manifest),
        signatures: sigs.map((s) => ({ keyid: s.keyid, sig: toBase64(s.sig) }))
      }
    })
  );
}
const sigOver = (seed: Uint8Array, manifest = manifestOf()) =>
  sign(pae(MANIFEST_PAYLOAD_TYPE, manifest), seed);
const check = (bytes: Uint8Array, keys: TrustedKey[] = [KEY.A], options = {}) =>
  verify({ kind: 'bundle', bytes }, keys, { now: NOW, ...options });
const codes = (list: { code: string }[]) => list.map((r) => r.code);
function expectRefused(verdict: Verdict, expected: string[]) {
  expect(verdict.ok).toBe(false);
  expect(codes(verdict.reasons)).toEqual(expected);
  for (const r of verdict.reasons) expect(r.message).toMatch(/^[A-Z0-9].{15,}/);
  expect(codes(verdict.reasons)).not.toContain('input.internal');
}
function tamperedModule(): Uint8Array {
  const copy = MODULE.slice();
  copy[copy.length - 2] = copy[copy.length - 2]! ^ 1;
  return copy;
}

describe('verify: a valid bundle', () => {
  it('gives a full verdict', async () => {
    const manifest = manifestOf({ future: true });
    const verdict = await check(await bundle([SEED.A], manifest));
    expect(verdict.ok).toBe(true);
    expect(verdict.format).toBe('bundle');
    expect(verdict.reasons).toEqual([]);
    expect(verdict.signers).toEqual([ID.A]);
    expect(verdict.module).toEqual({ sha256: MODULE_SHA, size: MODULE.length });
    expect(verdict.moduleBytes).toEqual(MODULE);
    expect(verdict.manifestBytes).toEqual(manifest);
    expect(verdict.manifestSha256).toBe(await sha256Hex(manifest));
    expect(verdict.manifest?.name).toBe('reactor');
    expect(verdict.manifest?.entry).toBe('reactor');
    expect(verdict.name).toBe('reactor');
    expect(verdict.unknownManifestKeys).toEqual(['future']);
    expect(codes(verdict.notes)).toEqual(['manifest.unknown-keys']);
  });

  it('verifies the manifest bytes exactly as signed, whatever their formatting', async () => {
    const manifest = enc.encode(
      `{ "version":"1.0.0",\n\t"name" : "reactor", "module": {"size": ${MODULE.length}, "sha256": "${MODULE_SHA}"} }\n`
    );
    const verdict = await check(await bundle([SEED.A], manifest));
    expect(verdict.ok).toBe(true);
    expect(verdict.manifestBytes).toEqual(manifest);
  });

  it('the keyid is only a hint: a wrong, empty or lying hint still verifies', async () => {
    for (const keyid of [ID.B, '', 'nonsense', ID.A.toUpperCase()]) {
      const verdict = await check(handBundle([{ keyid, sig: sigOver(SEED.A) }]), [KEY.B, KEY.A]);
      expect(verdict.ok, keyid).toBe(true);
      expect(verdict.signers).toEqual([ID.A]);
    }
  });

  it('uses the canonical id even when the pinned key carries another id', async () => {
    const verdict = await check(await bundle([SEED.A]), [{ id: 'my-laptop', publicKey: PUB.A }]);
    expect(verdict.signers).toEqual([ID.A]);
  });

  it('threshold 2 is met by two distinct trusted keys', async () => {
    const verdict = await check(await bundle([SEED.A, SEED.B]), [KEY.A, KEY.B], { threshold: 2 });
    expect(verdict.ok).toBe(true);
    expect(verdict.signers.sort()).toEqual([ID.A, ID.B].sort());
  });

  it('an extra signature by an untrusted key is a note, not a reason', async () => {
    const verdict = await check(await bundle([SEED.C, SEED.A]));
    expect(verdict.ok).toBe(true);
    expect(codes(verdict.notes)).toEqual(['signature.untrusted']);
  });

  it('an unusable pinned key is ignored with a note; the usable ones still count', async () => {
    const verdict = await check(await bundle([SEED.A]), [
      { id: 'bad', publicKey: ORDER_8, label: 'bad key' },
      KEY.A
    ]);
    expect(verdict.ok).toBe(true);
    expect(codes(verdict.notes)).toEqual(['key.unusable']);
    expect(verdict.notes[0]!.message).toMatch(/small-order/);
  });
});

describe('verify: each bad input has its code', () => {
  it('non-JSON', async () => expectRefused(await check(enc.encode('MZ\x90\x00')), ['bundle.json']));

  it('duplicate JSON keys in the bundle', async () => {
    const text = dec
      .decode(await bundle([SEED.A]))
      .replace('"module":', `"module": "${toBase64(new Uint8Array(3))}", "module":`);
    expectRefused(await check(enc.encode(text)), ['bundle.duplicate-key']);
  });

  it('duplicate JSON keys in the signed manifest', async () => {
    const manifest = enc.encode(dec.decode(manifestOf()).replace('{', '{"name":"other",'));
    expectRefused(await check(await bundle([SEED.A], manifest)), ['manifest.duplicate-key']);
  });

  it('truncated base64', async () => {
    const json = JSON.parse(dec.decode(await bundle([SEED.A])));
    json.module = json.module.slice(0, -2);
    expectRefused(await check(enc.encode(JSON.stringify(json))), ['module.base64']);
  });

  it('oversized declared module (maxModuleBytes)', async () => {
    const verdict = await check(await bundle([SEED.A]), [KEY.A], {
      maxModuleBytes: MODULE.length - 1
    });
    expectRefused(verdict, ['module.too-large']);
  });

  it('wrong types', async () => {
    const json = JSON.parse(dec.decode(await bundle([SEED.A])));
    json.envelope.signatures = 'all of them';
    expectRefused(await check(enc.encode(JSON.stringify(json))), ['envelope.type']);
  });

  it('wrong types in the signed manifest', async () => {
    expectRefused(await check(await bundle([SEED.A], manifestOf({ args: 'one two' }))), [
      'manifest.type'
    ]);
  });

  it('missing fields', async () => {
    const json = JSON.parse(dec.decode(await bundle([SEED.A])));
    delete json.envelope.payload;
    expectRefused(await check(enc.encode(JSON.stringify(json))), ['envelope.missing']);
  });

  it('missing fields in the signed manifest', async () => {
    const manifest = enc.encode(JSON.stringify({ name: 'reactor' }));
    const verdict = await check(await bundle([SEED.A], manifest));
    expectRefused(verdict, ['manifest.missing']);
    expect(verdict.signers).toEqual([ID.A]);
    expect(verdict.manifest).toBeNull();
  });

  it('digest mismatch', async () => {
    expectRefused(await check(await bundle([SEED.A], manifestOf(), tamperedModule())), [
      'module.digest-mismatch'
    ]);
  });

  it('size mismatch', async () => {
    const manifest = manifestOf({ module: { sha256: MODULE_SHA, size: MODULE.length + 1 } });
    expectRefused(await check(await bundle([SEED.A], manifest)), ['module.size-mismatch']);
  });

  it('wrong payloadType (even when validly signed under it)', async () => {
    const manifest = manifestOf();
    const sig = sign(pae('application/json', manifest), SEED.A);
    expectRefused(await check(handBundle([{ keyid: ID.A, sig }], manifest, 'application/json')), [
      'envelope.payload-type'
    ]);
  });

  it('signature by an untrusted key', async () => {
    const verdict = await check(await bundle([SEED.C]));
    expectRefused(verdict, ['signature.untrusted']);
    expect(codes(verdict.notes)).toEqual(['signature.untrusted']);
    expect(verdict.signers).toEqual([]);
  });

  it('no keys pinned at all', async () => {
    const verdict = await check(await bundle([SEED.A]), []);
    expectRefused(verdict, ['signature.untrusted']);
    expect(verdict.reasons[0]!.message).toMatch(/no usable key is pinned/);
  });

  it('signature bytes flipped', async () => {
    for (const index of [0, 31, 32, 63]) {
      const sig = sigOver(SEED.A);
      sig[index] = sig[index]! ^ 0x80;
      expectRefused(await check(handBundle([{ keyid: ID.A, sig }])), ['signature.invalid']);
    }
  });

  it('manifest changed after signing', async () => {
    const sig = sigOver(SEED.A);
    const changed = manifestOf({ capabilities: ['fs-write'] });
    expectRefused(await check(handBundle([{ keyid: ID.A, sig }], changed)), ['signature.invalid']);
  });

  it('a signature over the bare manifest (no PAE) does not verify', async () => {
    const sig = sign(manifestOf(), SEED.A);
    expectRefused(await check(handBundle([{ keyid: ID.A, sig }])), ['signature.invalid']);
  });

  it('S >= L (a malleated copy of a valid signature)', async () => {
    const sig = sigOver(SEED.A);
    const s = BigInt(`0x${toHex(sig.slice(32).reverse())}`) + L;
    sig.set(fromHex(s.toString(16).padStart(64, '0')).reverse(), 32);
    expect(ed.verify(sigOver(SEED.A), pae(MANIFEST_PAYLOAD_TYPE, manifestOf()), PUB.A)).toBe(true);
    expectRefused(await check(handBundle([{ keyid: ID.A, sig }])), ['signature.invalid']);
  });

  it('non-canonical R', async () => {
    const sig = new Uint8Array([...NON_CANONICAL_IDENTITY, ...new Uint8Array(32)]);
    expectRefused(await check(handBundle([{ keyid: ID.A, sig }])), ['signature.invalid']);
  });

  it('non-canonical A: the pinned key is unusable (a ZIP 215 verifier would accept the forgery)', async () => {
    const sig = new Uint8Array([...NON_CANONICAL_IDENTITY, ...new Uint8Array(32)]);
    const message = pae(MANIFEST_PAYLOAD_TYPE, manifestOf());
    expect(ed.verify(sig, message, NON_CANONICAL_IDENTITY, { zip215: true })).toBe(true);
    const verdict = await check(handBundle([{ keyid: '', sig }]), [
      { id: 'x', publicKey: NON_CANONICAL_IDENTITY }
    ]);
    expectRefused(verdict, ['signature.untrusted']);
    expect(codes(verdict.notes)).toEqual(['key.unusable', 'signature.untrusted']);
    expect(verdict.notes[0]!.message).toMatch(/canonical/);
  });

  it('small-order key', async () => {
    const sig = new Uint8Array([...ORDER_8, ...new Uint8Array(32)]);
    const verdict = await check(handBundle([{ keyid: await sha256Hex(ORDER_8), sig }]), [
      { id: 'o8', publicKey: ORDER_8 }
    ]);
    expectRefused(verdict, ['signature.untrusted']);
    expect(codes(verdict.notes)).toContain('key.unusable');
  });

  it('identity-key forgery (A = identity, R = identity, S = 0)', async () => {
    const sig = new Uint8Array([...IDENTITY, ...new Uint8Array(32)]);
    const verdict = await check(handBundle([{ keyid: await sha256Hex(IDENTITY), sig }]), [
      { id: 'id', publicKey: IDENTITY },
      KEY.A
    ]);
    expectRefused(verdict, ['signature.untrusted']);
  });

  it('expired', async () => {
    const manifest = manifestOf({ expires: '2025-12-31T23:59:59Z' });
    expectRefused(await check(await bundle([SEED.A], manifest)), ['manifest.expired']);
    const at = async (now: number) =>
      (await check(await bundle([SEED.A], manifest), [KEY.A], { now })).ok;
    const expiry = Date.UTC(2025, 11, 31, 23, 59, 59);
    expect(await at(expiry - 1)).toBe(true);
    expect(await at(expiry)).toBe(false); // at the instant it expires it is expired
    // Without options.now the real clock is used.
    const old = manifestOf({ expires: '2001-01-01T00:00:00Z' });
    expectRefused(await verify({ kind: 'bundle', bytes: await bundle([SEED.A], old) }, [KEY.A]), [
      'manifest.expired'
    ]);
  });

  it('created in the future: a note past 5 minutes of clock skew', async () => {
    const at = (ms: number) => manifestOf({ created: new Date(ms).toISOString() });
    const near = await check(await bundle([SEED.A], at(NOW + CREATED_FUTURE_TOLERANCE_MS)));
    expect(near.ok && near.notes.length === 0).toBe(true);
    const far = await check(await bundle([SEED.A], at(NOW + CREATED_FUTURE_TOLERANCE_MS + 1000)));
    expect(far.ok).toBe(true);
    expect(codes(far.notes)).toEqual(['manifest.created-in-future']);
  });

  it('signers below the threshold', async () => {
    const verdict = await check(await bundle([SEED.A]), [KEY.A, KEY.B], { threshold: 2 });
    expectRefused(verdict, ['signature.threshold']);
    expect(verdict.signers).toEqual([ID.A]);
  });

  it('the same key twice (two entries, or pinned twice) counts once toward the threshold', async () => {
    const twice = handBundle([
      { keyid: ID.A, sig: sigOver(SEED.A) },
      { keyid: 'again', sig: sigOver(SEED.A) }
    ]);
    expectRefused(await check(twice, [KEY.A, KEY.B], { threshold: 2 }), ['signature.threshold']);
    const pinnedTwice = [KEY.A, { id: 'copy', publicKey: PUB.A.slice() }];
    expectRefused(await check(await bundle([SEED.A]), pinnedTwice, { threshold: 2 }), [
      'signature.threshold'
    ]);
  });

  it('collects every reason: digest mismatch and untrusted signer together', async () => {
    const verdict = await check(
      await bundle([SEED.C], manifestOf({ expires: '2020-01-01T00:00:00Z' }), tamperedModule())
    );
    expectRefused(verdict, ['signature.untrusted', 'module.digest-mismatch', 'manifest.expired']);
    expect(verdict.manifest?.name).toBe('reactor');
  });

  it('addSignature by a second trusted key raises the count', async () => {
    const added = await addSignature(await bundle([SEED.A]), SEED.B);
    if (!added.ok) throw new Error('addSignature failed');
    expect((await check(added.bytes, [KEY.A, KEY.B], { threshold: 2 })).ok).toBe(true);
  });
});

describe('verify: arguments and failures never throw', () => {
  it.each([
    ['no input', null],
    ['unknown kind', { kind: 'pdf', bytes: new Uint8Array() }],
    ['bytes not bytes', { kind: 'bundle', bytes: 'text' }],
    [
      'detached without a name',
      { kind: 'detached', module: MODULE, signature: new Uint8Array(64) }
    ],
    ['tenant files not a Map', { kind: 'tenant', files: {} }]
  ])('%s -> input.invalid', async (_label, input) => {
    const verdict = await verify(input as unknown as VerifyInput, [KEY.A]);
    expectRefused(verdict, ['input.invalid']);
  });

  it.each([
    { threshold: 0 },
    { threshold: 1.5 },
    { threshold: Number.NaN },
    { now: Number.NaN },
    { maxModuleBytes: -1 },
    { namespace: 5 }
  ])('bad options %j -> input.invalid', async (options) => {
    const verdict = await verify(
      { kind: 'bundle', bytes: await bundle([SEED.A]) },
      [KEY.A],
      options as never
    );
    expectRefused(verdict, ['input.invalid']);
  });

  it('bad keys -> input.invalid', async () => {
    const verdict = await verify({ kind: 'bundle', bytes: await bundle([SEED.A]) }, [
      { id: 'x', publicKey: 'AAAA' } as never
    ]);
    expectRefused(verdict, ['input.invalid']);
  });

  it('an unexpected exception becomes input.internal instead of a throw', async () => {
    const hostile = {
      id: 'x',
      get publicKey(): Uint8Array {
        throw new Error('boom');
      }
    };
    const verdict = await verify({ kind: 'bundle', bytes: await bundle([SEED.A]) }, [hostile]);
    expect(verdict.ok).toBe(false);
    expect(codes(verdict.reasons)).toEqual(['input.internal']);
    expect(verdict.reasons[0]!.message).toMatch(/boom/);
  });
});

describe('verify: unsigned, detached and tenant inputs', () => {
  it('unsigned: never ok, with the module digest and name', async () => {
    const verdict = await verify({ kind: 'unsigned', module: MODULE, name: 'reactor.wasm' }, [
      KEY.A
    ]);
    expectRefused(verdict, ['signature.missing']);
    expect(verdict.format).toBe('unsigned');
    expect(verdict.module).toEqual({ sha256: MODULE_SHA, size: MODULE.length });
    expect(verdict.name).toBe('reactor.wasm');
    expect(verdict.manifest).toBeNull();
    const big = await verify({ kind: 'unsigned', module: MODULE, name: 'x' }, [], {
      maxModuleBytes: 10
    });
    expectRefused(big, ['module.too-large']);
  });

  it('detached raw Ed25519 signature', async () => {
    const signature = await signRaw(MODULE, SEED.A);
    const verdict = await verify(
      { kind: 'detached', module: MODULE, signature, name: 'reactor.wasm' },
      [KEY.A]
    );
    expect(verdict.ok).toBe(true);
    expect(verdict.format).toBe('raw-ed25519');
    expect(verdict.signers).toEqual([ID.A]);
    expect(verdict.module).toEqual({ sha256: MODULE_SHA, size: MODULE.length });
    expect(verdict.manifest).toBeNull();
    expect(verdict.name).toBe('reactor.wasm');
    const wrong = await verify(
      { kind: 'detached', module: tamperedModule(), signature, name: 'x' },
      [KEY.A]
    );
    expect(wrong.ok).toBe(false);
    expect(wrong.reasons.length).toBeGreaterThan(0);
    expect(codes(wrong.reasons)).not.toContain('input.internal');
    const threshold = await verify(
      { kind: 'detached', module: MODULE, signature, name: 'x' },
      [KEY.A, KEY.B],
      { threshold: 2 }
    );
    expectRefused(threshold, ['signature.threshold']);
  });

  it('detached minisign signature: the trusted comment is carried', async () => {
    const signature = enc.encode(
      await signMinisign(MODULE, SEED.A, new Uint8Array(8).fill(7), {
        trustedComment: 'release 1.0'
      })
    );
    const verdict = await verify(
      { kind: 'detached', module: MODULE, signature, name: 'reactor.wasm' },
      [KEY.A]
    );
    expect(verdict.ok).toBe(true);
    expect(verdict.format).toBe('minisign');
    expect(verdict.trustedComment).toBe('release 1.0');
  });

  it('detached SSH signature: the namespace option is passed through', async () => {
    const signature = enc.encode(await signSsh(MODULE, SEED.A, { namespace: 'ci' }));
    const input: VerifyInput = {
      kind: 'detached',
      module: MODULE,
      signature,
      name: 'reactor.wasm'
    };
    expect((await verify(input, [KEY.A], { namespace: 'ci' })).ok).toBe(true);
    const other = await verify(input, [KEY.A]);
    expect(other.ok).toBe(false);
    expect(other.format).toBe('sshsig');
  });

  it('tenant folder and zip: the shipped public key is only a claim', async () => {
    const signature = enc.encode(toBase64(await signRaw(MODULE, SEED.A)));
    const files = new Map<string, Uint8Array>([
      ['module.wasm', MODULE],
      ['module.sig', signature],
      ['pubkey.b64', enc.encode(toBase64(PUB.A))]
    ]);
    const trusted = await verify({ kind: 'tenant', files }, [KEY.A]);
    expect(trusted.ok).toBe(true);
    expect(trusted.format).toBe('tenant');
    expect(trusted.claimedKeyId).toBe(ID.A);
    expect(trusted.module).toEqual({ sha256: MODULE_SHA, size: MODULE.length });
    const untrusted = await verify({ kind: 'tenant', files }, [KEY.B]);
    expect(untrusted.ok).toBe(false);
    expect(untrusted.claimedKeyId).toBe(ID.A);
    const zip = zipSync({ 'tenant-a': { 'module.wasm': MODULE, 'module.sig': signature } });
    const zipped = await verify({ kind: 'tenant-zip', bytes: zip }, [KEY.A]);
    expect(zipped.ok).toBe(true);
    expect(zipped.signers).toEqual([ID.A]);
  });

  it('a broken tenant zip or folder gives reasons', async () => {
    const zip = await verify({ kind: 'tenant-zip', bytes: enc.encode('PK not a zip') }, [KEY.A]);
    expect(zip.ok).toBe(false);
    expect(zip.format).toBe('tenant');
    expect(codes(zip.reasons)).not.toContain('input.internal');
    const folder = await verify(
      { kind: 'tenant', files: new Map([['readme.txt', enc.encode('hi')]]) },
      [KEY.A]
    );
    expect(folder.ok).toBe(false);
    expect(folder.reasons).toHaveLength(1);
  });
});

describe('detectInput', () => {
  it('recognizes each kind', async () => {
    expect(detectInput(MODULE)).toBe('wasm');
    expect(detectInput(zipSync({ a: new Uint8Array([1]) }))).toBe('zip');
    expect(detectInput(zipSync({}))).toBe('zip');
    expect(detectInput(await bundle([SEED.A]))).toBe('bundle');
    expect(detectInput(enc.encode('  \n{"x": 1}'), 'thing.NCB')).toBe('bundle');
    expect(detectInput(enc.encode(await signMinisign(MODULE, SEED.A, new Uint8Array(8))))).toBe(
      'signature'
    );
    expect(detectInput(enc.encode(await signSsh(MODULE, SEED.A)))).toBe('signature');
    expect(detectInput(await signRaw(MODULE, SEED.A))).toBe('signature');
    expect(detectInput(enc.encode('garbage'), 'module.sig')).toBe('signature');
    expect(detectInput(enc.encode('{"name": "manifest"}'), 'manifest.json')).toBe('unknown');
    expect(detectInput(new Uint8Array())).toBe('unknown');
    expect(detectInput(enc.encode('hello world'))).toBe('unknown');
    expect(detectInput('text' as unknown as Uint8Array)).toBe('unknown');
  });
});

describe('verify: properties', { timeout: 60_000 }, () => {
  const name = fc.stringMatching(/^[a-z0-9][a-z0-9._+/-]{0,30}$/);
  const version = fc
    .tuple(
      fc.nat(999),
      fc.nat(999),
      fc.nat(999),
      fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/))
    )
    .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre === null ? '' : `-${pre}`}`);
  const manifest = fc.record(
    {
      name,
      version,
      publisher: fc
        .string({ maxLength: 40 })
        .filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s)),
      entry: fc.constantFrom('command', 'reactor'),
      args: fc.array(
        fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')),
        { maxLength: 5 }
      ),
      env: fc.dictionary(
        fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/),
        fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')),
        { maxKeys: 5 }
      ),
      limits: fc.record(
        {
          timeoutMs: fc.integer({ min: 1, max: 1e9 }),
          memoryMiB: fc.integer({ min: 1, max: 4096 })
        },
        { requiredKeys: [] }
      ),
      capabilities: fc.subarray([...CAPABILITIES])
    },
    { requiredKeys: ['name', 'version'] }
  );

  it('sign then verify round-trips random manifests', async () => {
    await fc.assert(
      fc.asyncProperty(
        manifest,
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        async (fields, module) => {
          const bytes = enc.encode(
            JSON.stringify({
              ...fields,
              module: { sha256: await sha256Hex(module), size: module.length }
            })
          );
          const verdict = await verify(
            {
              kind: 'bundle',
              bytes: await createBundle({ module, manifest: bytes, signers: [{ seed: SEED.A }] })
            },
            [KEY.A],
            { now: NOW }
          );
          expect(verdict.reasons).toEqual([]);
          expect(verdict.ok).toBe(true);
          expect(verdict.manifest?.name).toBe(fields.name);
          expect(verdict.manifest?.version).toBe(fields.version);
          expect(verdict.manifest?.args).toEqual(fields.args ?? []);
          expect(verdict.manifest?.env).toEqual(fields.env ?? {});
          expect(verdict.manifest?.capabilities).toEqual(fields.capabilities ?? []);
          expect(verdict.moduleBytes).toEqual(module);
        }
      ),
      { numRuns: 150 }
    );
  });

  it('never throws and never hits input.internal on arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
        const verdict = await verify({ kind: 'bundle', bytes }, [KEY.A]);
        expect(verdict.ok).toBe(false);
        expect(codes(verdict.reasons)).not.toContain('input.internal');
      }),
      { numRuns: 500 }
    );
  });

  it('a corrupted bundle is either refused or still carries exactly the signed module and manifest', async () => {
    const original = await bundle([SEED.A]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 3
        }),
        async (edits) => {
          const bytes = original.slice();
          for (const [at, value] of edits) bytes[at] = value;
          const verdict = await check(bytes);
          expect(codes(verdict.reasons)).not.toContain('input.internal');
          if (verdict.ok) {
            expect(verdict.moduleBytes).toEqual(MODULE);
            expect(verdict.manifestBytes).toEqual(manifestOf());
          }
        }
      ),
      { numRuns: 500 }
    );
  });
});
