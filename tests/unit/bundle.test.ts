import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  base64Length,
  BUNDLE_MEDIA_TYPE,
  DEFAULT_MAX_MODULE_BYTES,
  MANIFEST_PAYLOAD_TYPE,
  maxBundleBytes,
  pae,
  parseBundle,
  type BundleParseResult,
  type ParsedBundle
} from '../../src/lib/core/bundle';
import { addSignature, createBundle } from '../../src/lib/core/bundle-write';
import { fromBase64, toBase64, toHex } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, verifyStrict } from '../../src/lib/core/ed25519';

const enc = new TextEncoder();
const dec = new TextDecoder();
const MODULE = new Uint8Array(
  readFileSync(new URL('../fixtures/wasm/reactor.wasm', import.meta.url))
);
const SEED_A = new Uint8Array(32).fill(0x0a);
const SEED_B = new Uint8Array(32).fill(0x0b);
const MANIFEST = enc.encode('{"name":"reactor","version":"1.0.0"}');
const SIG = toBase64(new Uint8Array(64).fill(1));

/** A bundle's JSON text built by hand, so each field can be broken on purpose. */
function bundleJson(
  overrides: Record<string, unknown> = {},
  envelope: Record<string, unknown> = {}
) {
  return JSON.stringify({
    nightcoreBundle: 1,
    module: toBase64(MODULE),
    envelope: {
      payloadType: MANIFEST_PAYLOAD_TYPE,
      payload: toBase64(MANIFEST),
      signatures: [{ keyid: 'k', sig: SIG }],
      ...envelope
    },
    ...overrides
  });
}
const parseText = (text: string): BundleParseResult => parseBundle(enc.encode(text));
function expectCodes(result: BundleParseResult, codes: string[], mention?: string | RegExp) {
  if (result.ok) throw new Error('expected the bundle to be refused');
  expect(result.reasons.map((r) => r.code)).toEqual(codes);
  for (const r of result.reasons) expect(r.message.length).toBeGreaterThan(10);
  if (mention !== undefined) expect(result.reasons[0]!.message).toMatch(mention);
}
function parsed(result: BundleParseResult): ParsedBundle {
  if (!result.ok) throw new Error(`expected ok: ${JSON.stringify(result.reasons)}`);
  return result;
}

describe('pae (DSSE v1 pre-authentication encoding)', () => {
  it('matches the DSSE specification example byte for byte', () => {
    const out = pae('http://example.com/HelloWorld', enc.encode('hello world'));
    expect(dec.decode(out)).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts bytes, not characters, and handles an empty payload', () => {
    expect(dec.decode(pae('é', enc.encode('ü')))).toBe('DSSEv1 2 é 2 ü');
    expect(toHex(pae('', new Uint8Array()))).toBe(toHex(enc.encode('DSSEv1 0  0 ')));
  });

  it('puts the payload bytes in verbatim, including non-UTF-8 bytes', () => {
    const out = pae(MANIFEST_PAYLOAD_TYPE, new Uint8Array([0xff, 0x00, 0x20]));
    expect(dec.decode(out.subarray(0, -3))).toBe(`DSSEv1 39 ${MANIFEST_PAYLOAD_TYPE} 3 `);
    expect([...out.subarray(-3)]).toEqual([0xff, 0x00, 0x20]);
  });
});

describe('createBundle and parseBundle', () => {
  it('round-trips: module, exact manifest bytes, one signature per signer over the PAE', async () => {
    const bytes = await createBundle({
      module: MODULE,
      manifest: MANIFEST,
      signers: [{ seed: SEED_A }, { seed: SEED_B, keyid: 'ci' }]
    });
    const bundle = parsed(parseBundle(bytes));
    expect(bundle.module).toEqual(MODULE);
    expect(bundle.manifestBytes).toEqual(MANIFEST);
    expect(bundle.payloadType).toBe(MANIFEST_PAYLOAD_TYPE);
    expect(bundle.signatures.map((s) => s.keyid)).toEqual([
      await sha256Hex(publicKeyFromSecret(SEED_A)),
      'ci'
    ]);
    const message = pae(MANIFEST_PAYLOAD_TYPE, MANIFEST);
    expect(verifyStrict(bundle.signatures[0]!.sig, message, publicKeyFromSecret(SEED_A))).toBe(
      true
    );
    expect(verifyStrict(bundle.signatures[1]!.sig, message, publicKeyFromSecret(SEED_B))).toBe(
      true
    );
  });

  it('writes the documented JSON layout', async () => {
    const bytes = await createBundle({
      module: MODULE,
      manifest: MANIFEST,
      signers: [{ seed: SEED_A }]
    });
    const json = JSON.parse(dec.decode(bytes));
    expect(Object.keys(json)).toEqual(['nightcoreBundle', 'module', 'envelope']);
    expect(Object.keys(json.envelope)).toEqual(['payloadType', 'payload', 'signatures']);
    expect(Object.keys(json.envelope.signatures[0])).toEqual(['keyid', 'sig']);
    expect(json.module).toBe(toBase64(MODULE));
    expect(json.envelope.payload).toBe(toBase64(MANIFEST));
    expect(BUNDLE_MEDIA_TYPE).toBe('application/vnd.nightcore.bundle+json');
  });

  it('refuses programmer errors by throwing: no signer, a seed of the wrong size', async () => {
    await expect(createBundle({ module: MODULE, manifest: MANIFEST, signers: [] })).rejects.toThrow(
      RangeError
    );
    await expect(
      createBundle({ module: MODULE, manifest: MANIFEST, signers: [{ seed: new Uint8Array(31) }] })
    ).rejects.toThrow(RangeError);
  });

  it('accepts a signature without keyid (optional in DSSE) as an empty hint', () => {
    const bundle = parsed(parseText(bundleJson({}, { signatures: [{ sig: SIG }] })));
    expect(bundle.signatures[0]!.keyid).toBe('');
  });
});

describe('addSignature', () => {
  it('adds a signature and keeps the module and payload base64 text unchanged', async () => {
    const one = await createBundle({
      module: MODULE,
      manifest: MANIFEST,
      signers: [{ seed: SEED_A }]
    });
    const result = await addSignature(one, SEED_B, 'second');
    if (!result.ok) throw new Error('addSignature failed');
    const [before, after] = [JSON.parse(dec.decode(one)), JSON.parse(dec.decode(result.bytes))];
    expect(after.module).toBe(before.module);
    expect(after.envelope.payload).toBe(before.envelope.payload);
    expect(after.envelope.signatures[0]).toEqual(before.envelope.signatures[0]);
    expect(after.envelope.signatures[1].keyid).toBe('second');
    expect(parsed(parseBundle(result.bytes)).signatures).toHaveLength(2);
  });

  it('is the same as signing both at once, and adding the same key twice changes nothing', async () => {
    const both = await createBundle({
      module: MODULE,
      manifest: MANIFEST,
      signers: [{ seed: SEED_A }, { seed: SEED_B }]
    });
    const one = await createBundle({
      module: MODULE,
      manifest: MANIFEST,
      signers: [{ seed: SEED_A }]
    });
    const added = await addSignature(one, SEED_B);
    if (!added.ok) throw new Error('addSignature failed');
    expect(dec.decode(added.bytes)).toBe(dec.decode(both));
    const again = await addSignature(added.bytes, SEED_A);
    if (!again.ok) throw new Error('addSignature failed');
    expect(dec.decode(again.bytes)).toBe(dec.decode(both));
  });

  it('returns reasons for a bundle that does not parse', async () => {
    const result = await addSignature(enc.encode('not a bundle'), SEED_A);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons[0]!.code).toBe('bundle.json');
  });
});

describe('parseBundle: each bad input has its code', () => {
  it('valid hand-built bundle parses', () => expect(parseText(bundleJson()).ok).toBe(true));

  it('non-JSON', () => expectCodes(parseText('hello'), ['bundle.json']));
  it('empty file', () => expectCodes(parseText(''), ['bundle.json']));
  it('trailing garbage', () => expectCodes(parseText(`${bundleJson()}x`), ['bundle.json']));
  it('not UTF-8', () =>
    expectCodes(parseBundle(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])), ['bundle.encoding']));
  it('a byte order mark', () =>
    expectCodes(parseText(`\ufeff${bundleJson()}`), ['bundle.encoding']));
  it('not bytes', () => expectCodes(parseBundle('{}' as unknown as Uint8Array), ['bundle.type']));
  it('not an object', () => expectCodes(parseText('[1]'), ['bundle.type']));
  it('nested too deep', () =>
    expectCodes(parseText(bundleJson({ extra: [[[[[[[[[1]]]]]]]]] })), ['bundle.json'], /deeper/));

  it('a duplicate key at the top level (JSON.parse would keep the second module)', () => {
    const text = bundleJson().replace(
      '"module":',
      `"module":"${toBase64(new Uint8Array([1]))}","module":`
    );
    expectCodes(parseText(text), ['bundle.duplicate-key'], /"module"/);
  });
  it('a duplicate key in the envelope or a signature', () => {
    expectCodes(parseText(bundleJson().replace('"payloadType":', '"payload":"","payloadType":')), [
      'bundle.duplicate-key'
    ]);
    expectCodes(parseText(bundleJson().replace('"sig":', '"keyid":"x","sig":')), [
      'bundle.duplicate-key'
    ]);
  });

  it.each([2, 0, '1', 1.5, null, true])('nightcoreBundle %j', (version) => {
    expectCodes(parseText(bundleJson({ nightcoreBundle: version })), ['bundle.version']);
  });
  it('nightcoreBundle missing: not a bundle', () => {
    const text = JSON.stringify({ module: '', envelope: {} });
    expectCodes(parseText(text), ['bundle.missing'], /nightcoreBundle/);
  });
  it('module and envelope missing, named together', () => {
    expectCodes(parseText('{"nightcoreBundle":1}'), ['bundle.missing'], /module, envelope/);
  });
  it('an unknown top-level field (the container is closed)', () => {
    expectCodes(
      parseText(bundleJson({ publicKey: 'trust me' })),
      ['bundle.unknown-field'],
      /"publicKey"/
    );
  });
  it('wrong types of module and envelope', () => {
    expectCodes(
      parseText(bundleJson({ module: 42 })),
      ['bundle.type'],
      /"module" must be a base64 string, not a number/
    );
    expectCodes(
      parseText(bundleJson({ envelope: [] })),
      ['bundle.type'],
      /"envelope" must be an object, not an array/
    );
  });

  it.each([
    ['truncated', toBase64(MODULE).slice(0, -1)],
    ['missing padding', toBase64(MODULE.subarray(0, 65)).replace(/=+$/, '')],
    ['whitespace', `${toBase64(MODULE).slice(0, 8)}\n${toBase64(MODULE).slice(8)}`],
    [
      'URL alphabet',
      toBase64(new Uint8Array([0xfb, 0xff]))
        .replace('+', '-')
        .replace('/', '_')
    ],
    ['non-zero unused bits', 'AB=='],
    ['not base64 at all', '%%%%']
  ])('module base64: %s', (_label, module) => {
    expectCodes(parseText(bundleJson({ module })), ['module.base64']);
  });

  it('oversized declared module: refused from the base64 length, before decoding', () => {
    const limits = { maxModuleBytes: 10 };
    const module = toBase64(new Uint8Array(11));
    expectCodes(
      parseBundle(enc.encode(bundleJson({ module })), limits),
      ['module.too-large'],
      /10-byte limit/
    );
    expect(
      parseBundle(enc.encode(bundleJson({ module: toBase64(new Uint8Array(10)) })), limits).ok
    ).toBe(true);
    // Not even valid base64: the length alone decides, so nothing is decoded.
    const junk = '!'.repeat(base64Length(10) + 4);
    expectCodes(parseBundle(enc.encode(bundleJson({ module: junk })), limits), [
      'module.too-large'
    ]);
  });

  it('oversized declared module at the default 64 MiB limit', { timeout: 60_000 }, () => {
    const text = bundleJson({ module: 'X' }).replace(
      '"X"',
      `"${'A'.repeat(base64Length(DEFAULT_MAX_MODULE_BYTES) + 4)}"`
    );
    expectCodes(parseText(text), ['module.too-large'], /67108864-byte limit/);
  });

  it('a file over the whole-bundle limit is refused before parsing', () => {
    const limits = { maxModuleBytes: 10, maxManifestBytes: 10, maxSignatures: 1 };
    const big = new Uint8Array(maxBundleBytes(limits) + 1).fill(0x20);
    expectCodes(parseBundle(big, limits), ['bundle.too-large']);
  });

  it('envelope fields missing, named together', () => {
    expectCodes(
      parseText(bundleJson({ envelope: {} })),
      ['envelope.missing'],
      /payloadType, payload, signatures/
    );
  });
  it('envelope fields of the wrong type', () => {
    expectCodes(parseText(bundleJson({}, { payloadType: 1 })), ['envelope.type'], /"payloadType"/);
    expectCodes(parseText(bundleJson({}, { payload: {} })), ['envelope.type'], /"payload"/);
    expectCodes(
      parseText(bundleJson({}, { signatures: 'sig' })),
      ['envelope.type'],
      /"signatures" must be an array/
    );
    expectCodes(
      parseText(bundleJson({}, { signatures: ['sig'] })),
      ['envelope.type'],
      /signatures\[0\]/
    );
    expectCodes(
      parseText(bundleJson({}, { signatures: [{ keyid: 5, sig: SIG }] })),
      ['envelope.type'],
      /signatures\[0\]\.keyid/
    );
    expectCodes(
      parseText(bundleJson({}, { signatures: [{ sig: null }] })),
      ['envelope.type'],
      /signatures\[0\]\.sig/
    );
  });
  it.each([
    'application/json',
    'application/vnd.nightcore.manifest+json; charset=utf-8',
    'APPLICATION/VND.NIGHTCORE.MANIFEST+JSON',
    ''
  ])('wrong payloadType %j', (payloadType) =>
    expectCodes(parseText(bundleJson({}, { payloadType })), ['envelope.payload-type'])
  );
  it('payload not strict base64', () => {
    expectCodes(parseText(bundleJson({}, { payload: toBase64(MANIFEST).slice(0, -2) })), [
      'envelope.base64'
    ]);
  });
  it('payload over the manifest size limit', () => {
    const payload = toBase64(new Uint8Array(2048));
    expectCodes(parseBundle(enc.encode(bundleJson({}, { payload })), { maxManifestBytes: 1024 }), [
      'envelope.too-large'
    ]);
  });
  it('no signatures', () =>
    expectCodes(parseText(bundleJson({}, { signatures: [] })), ['envelope.no-signatures']));
  it('too many signatures', () => {
    const signatures = Array.from({ length: 33 }, () => ({ keyid: '', sig: SIG }));
    expectCodes(parseText(bundleJson({}, { signatures })), ['envelope.too-many-signatures']);
  });
  it('signature missing its sig', () => {
    expectCodes(
      parseText(bundleJson({}, { signatures: [{ keyid: 'k' }] })),
      ['envelope.missing'],
      /signatures\[0\] is missing: sig/
    );
  });
  it('unknown fields in the envelope or a signature', () => {
    expectCodes(parseText(bundleJson({}, { extra: 1 })), ['envelope.unknown-field']);
    expectCodes(
      parseText(bundleJson({}, { signatures: [{ keyid: '', sig: SIG, publicKey: 'x' }] })),
      ['envelope.unknown-field']
    );
  });
  it('keyid longer than 256 characters', () => {
    expectCodes(parseText(bundleJson({}, { signatures: [{ keyid: 'k'.repeat(257), sig: SIG }] })), [
      'envelope.keyid'
    ]);
  });
  it.each([
    ['truncated base64', SIG.slice(0, -1)],
    ['non-canonical base64', `${SIG.slice(0, -3)}B==`],
    ['not base64', 'not base64!']
  ])('signature %s', (_label, sig) => {
    expectCodes(parseText(bundleJson({}, { signatures: [{ keyid: '', sig }] })), [
      'signature.base64'
    ]);
  });
  it.each([0, 63, 65, 128, 1000])('signature of %i bytes', (length) => {
    const sig = toBase64(new Uint8Array(length));
    expectCodes(parseText(bundleJson({}, { signatures: [{ keyid: '', sig }] })), [
      'signature.length'
    ]);
  });

  it('collects problems from every field at once', () => {
    const text = bundleJson({ module: 'a', extra: 1 }, { payloadType: 'x', signatures: [] });
    expectCodes(parseText(text), [
      'bundle.unknown-field',
      'module.base64',
      'envelope.payload-type',
      'envelope.no-signatures'
    ]);
  });
});

describe('parseBundle: properties', { timeout: 60_000 }, () => {
  it('never throws on arbitrary bytes or strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => enc.encode(s))
        ),
        (bytes) => {
          const result = parseBundle(bytes);
          if (!result.ok) expect(result.reasons.length).toBeGreaterThan(0);
        }
      ),
      { numRuns: 1000 }
    );
  });

  it('never throws on JSON shaped almost like a bundle', () => {
    const anything = fc.jsonValue({ maxDepth: 3 });
    const b64 = fc.uint8Array({ maxLength: 80 }).map(toBase64);
    const shape = fc.record(
      {
        nightcoreBundle: fc.oneof(fc.constant(1), anything),
        module: fc.oneof(b64, anything),
        envelope: fc.oneof(
          fc.record(
            {
              payloadType: fc.oneof(fc.constant(MANIFEST_PAYLOAD_TYPE), anything),
              payload: fc.oneof(b64, anything),
              signatures: fc.oneof(
                fc.array(
                  fc.record(
                    { keyid: fc.oneof(fc.string(), anything), sig: fc.oneof(b64, anything) },
                    { requiredKeys: [] }
                  ),
                  { maxLength: 3 }
                ),
                anything
              )
            },
            { requiredKeys: [] }
          ),
          anything
        )
      },
      { requiredKeys: [] }
    );
    fc.assert(
      fc.property(shape, (value) => {
        const result = parseBundle(enc.encode(JSON.stringify(value)));
        if (!result.ok)
          for (const r of result.reasons)
            expect(r.code).toMatch(/^(bundle|envelope|module|signature)\.[a-z0-9-]+$/);
      }),
      { numRuns: 1000 }
    );
  });

  it('never throws on corrupted real bundles', async () => {
    const bytes = await createBundle({
      module: MODULE,
      manifest: MANIFEST,
      signers: [{ seed: SEED_A }]
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4
        }),
        fc.nat(bytes.length),
        (edits, cut) => {
          const copy = bytes.slice(0, Math.max(cut, 1));
          for (const [at, value] of edits) if (at < copy.length) copy[at] = value;
          const result = parseBundle(copy);
          expect(typeof result.ok).toBe('boolean');
        }
      ),
      { numRuns: 1000 }
    );
  });

  it('the signature and module decode to what was written', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (module) => {
        const bundle = parsed(parseText(bundleJson({ module: toBase64(module) })));
        expect(bundle.module).toEqual(module);
        expect(bundle.signatures[0]!.sig).toEqual(fromBase64(SIG));
      }),
      { numRuns: 200 }
    );
  });
});
