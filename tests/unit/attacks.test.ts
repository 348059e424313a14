/**
 * Outside-in attacks on bundle verification (bundle, DSSE, strict JSON, manifest, Ed25519, time).
 * Every test asserts the SAFE behaviour: a passing test means the attack failed.
 * Detached formats, keys, tenant zips, fuzzing and the CLI are in attacks-formats.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MANIFEST_PAYLOAD_TYPE, pae, parseBundle } from '../../src/lib/core/bundle';
import { fromHex, toBase64 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, sign, verifyStrict } from '../../src/lib/core/ed25519';
import { parseJsonBytes } from '../../src/lib/core/json';
import { parseManifest } from '../../src/lib/core/manifest';
import { parseRfc3339 } from '../../src/lib/core/time';
import type { TrustedKey } from '../../src/lib/core/verdict';
import { inspectWasm } from '../../src/lib/core/wasm/inspect';
import { detectInput } from '../../src/lib/core/detect-input';
import { verify } from '../../src/lib/core/verify';

const enc = new TextEncoder();
const MODULE = new Uint8Array(
  readFileSync(new URL('../fixtures/wasm/reactor.wasm', import.meta.url))
);
const SHA = await sha256Hex(MODULE);
const SEED = new Uint8Array(32).fill(0x5a);
const EVIL = new Uint8Array(32).fill(0x66);
const PUB = publicKeyFromSecret(SEED);
const ID = await sha256Hex(PUB);
const KEY: TrustedKey = { id: ID, publicKey: PUB, label: 'pinned' };
const EVIL_PUB = publicKeyFromSecret(EVIL);
const EVIL_ID = await sha256Hex(EVIL_PUB);
const NOW = Date.UTC(2026, 0, 1);
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const manifestText = (extra = '', size = String(MODULE.length), sha = SHA) =>
  `{"name":"reactor","version":"1.0.0","module":{"sha256":"${sha}","size":${size}}${extra}}`;
const sigOver = (manifest: Uint8Array, seed = SEED) =>
  sign(pae(MANIFEST_PAYLOAD_TYPE, manifest), seed);

/** A bundle written by hand: every field is raw JSON text, so the attacker controls the bytes. */
function rawBundle(p: {
  manifest?: Uint8Array;
  module?: string;
  payload?: string;
  sigs?: string;
  payloadType?: string;
  extra?: string;
}): Uint8Array {
  const manifest = p.manifest ?? enc.encode(manifestText());
  const sigs = p.sigs ?? `[{"keyid":"","sig":"${toBase64(sigOver(manifest))}"}]`;
  return enc.encode(
    `{"nightcoreBundle":1,"module":${p.module ?? JSON.stringify(toBase64(MODULE))},` +
      `"envelope":{"payloadType":${p.payloadType ?? JSON.stringify(MANIFEST_PAYLOAD_TYPE)},` +
      `"payload":${p.payload ?? JSON.stringify(toBase64(manifest))},"signatures":${sigs}}${p.extra ?? ''}}`
  );
}
const check = (bytes: Uint8Array, keys: TrustedKey[] = [KEY], options = {}) =>
  verify({ kind: 'bundle', bytes }, keys, { now: NOW, ...options });
const codes = (list: { code: string }[]) => list.map((r) => r.code);
async function refused(bytes: Uint8Array, code: string, keys: TrustedKey[] = [KEY], options = {}) {
  const verdict = await check(bytes, keys, options);
  expect(verdict.ok).toBe(false);
  expect(codes(verdict.reasons)).toContain(code);
  expect(codes(verdict.reasons)).not.toContain('input.internal');
  return verdict;
}

describe('attack: the control bundle is accepted (so every refusal below is meaningful)', () => {
  it('a well-formed bundle signed by the pinned key verifies', async () => {
    const verdict = await check(rawBundle({}));
    expect(verdict.reasons).toEqual([]);
    expect(verdict.ok).toBe(true);
  });
});

describe('attack: JSON ambiguity', () => {
  it('duplicate manifest key spelled "n\\u0061me" (second reader sees another name)', async () => {
    const m = enc.encode(manifestText(',"n\\u0061me":"other"'));
    await refused(rawBundle({ manifest: m }), 'manifest.duplicate-key');
  });
  it('duplicate bundle key "modul\\u0065" carrying a second module', async () => {
    const b = rawBundle({
      extra: `,"modul\\u0065":"${toBase64(new Uint8Array([0, 97, 115, 109]))}"`
    });
    await refused(b, 'bundle.duplicate-key');
  });
  it('duplicate "signatures" in the envelope via escaped name', async () => {
    const bytes = new TextDecoder()
      .decode(rawBundle({}))
      .replace('"signatures":', '"sign\\u0061tures":[],"signatures":');
    await refused(enc.encode(bytes), 'bundle.duplicate-key');
  });
  it('"__proto__" in the bundle is an unknown field, not prototype pollution', async () => {
    await refused(
      rawBundle({ extra: ',"__proto__":{"nightcoreBundle":2}' }),
      'bundle.unknown-field'
    );
    expect(({} as Record<string, unknown>).nightcoreBundle).toBeUndefined();
  });
  it('"__proto__" in the manifest cannot supply a missing required field', async () => {
    const m = enc.encode(
      `{"__proto__":{"name":"reactor"},"version":"1.0.0","module":{"sha256":"${SHA}","size":${MODULE.length}}}`
    );
    await refused(rawBundle({ manifest: m }), 'manifest.missing');
  });
  it('a byte order mark before the bundle or the manifest', async () => {
    await refused(new Uint8Array([0xef, 0xbb, 0xbf, ...rawBundle({})]), 'bundle.encoding');
    const m = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(manifestText())]);
    await refused(rawBundle({ manifest: m }), 'manifest.encoding');
  });
  it('a NUL (or any non-whitespace) after the bundle value', async () => {
    for (const tail of [[0], [0x0c], [0xc2, 0xa0], [0x7b, 0x7d]]) {
      await refused(new Uint8Array([...rawBundle({}), ...tail]), 'bundle.json');
    }
  });
  it('NUL and trailing junk after the manifest value', async () => {
    const m = new Uint8Array([...enc.encode(manifestText()), 0]);
    await refused(rawBundle({ manifest: m }), 'manifest.json');
  });
  it('deeply nested input (1e6 brackets) is refused quickly, never a stack overflow', async () => {
    const deep = enc.encode('['.repeat(1_000_000));
    const started = performance.now();
    const r = parseJsonBytes(deep);
    expect(r.ok).toBe(false);
    expect(parseJsonBytes(deep, { maxDepth: Number.NaN }).ok).toBe(false);
    expect(parseJsonBytes(deep, { maxDepth: Infinity }).ok).toBe(false);
    await refused(rawBundle({ extra: `,"x":${'['.repeat(20)}${']'.repeat(20)}` }), 'bundle.json');
    expect(parseManifest(enc.encode(`{"a":${'{"a":'.repeat(70)}1${'}'.repeat(71)}`)).ok).toBe(
      false
    );
    expect(performance.now() - started).toBeLessThan(3000);
  });
  it('lone surrogates and overlong UTF-8 in the manifest', async () => {
    await refused(
      rawBundle({ manifest: enc.encode(manifestText(',"publisher":"\\ud800"')) }),
      'manifest.json'
    );
    const overlong = new Uint8Array([
      ...enc.encode(manifestText(',"publisher":"')),
      0xc0,
      0xaf,
      0x22,
      0x7d
    ]);
    await refused(rawBundle({ manifest: overlong }), 'manifest.encoding');
  });
  it('nightcoreBundle as "1", true, 1.5 or 2 is not version 1', async () => {
    for (const v of ['"1"', 'true', '1.5', '2', '-1', '1e400']) {
      const b = new TextDecoder()
        .decode(rawBundle({}))
        .replace('"nightcoreBundle":1', `"nightcoreBundle":${v}`);
      await refused(enc.encode(b), 'bundle.version');
    }
  });
});

describe('attack: manifest vs module mismatch', () => {
  it('uppercase, short, padded or 0x-prefixed sha256 is refused (never normalised to match)', async () => {
    for (const sha of [
      SHA.toUpperCase(),
      SHA.slice(1),
      ` ${SHA}`,
      `0x${SHA}`,
      `${SHA}\\n`,
      `0${SHA}`
    ]) {
      const m = enc.encode(manifestText('', String(MODULE.length), sha));
      await refused(rawBundle({ manifest: m }), 'manifest.module');
    }
  });
  it('size as a string, negative, fractional, huge or hex is refused', async () => {
    for (const size of [
      `"${MODULE.length}"`,
      '-66',
      '66.5',
      '1e400',
      '9007199254740993',
      '0x42',
      '066',
      'null'
    ]) {
      const verdict = await check(rawBundle({ manifest: enc.encode(manifestText('', size)) }));
      expect(verdict.ok, size).toBe(false);
    }
  });
  it('size written as 66.0 or 6.6e1 means exactly 66 (the value JSON.parse gives), nothing else', async () => {
    for (const size of ['66.0', '6.6e1', '660e-1']) {
      const parsed = parseManifest(enc.encode(manifestText('', size)));
      expect(parsed.ok && parsed.manifest.module.size).toBe(JSON.parse(size));
    }
  });
  it('a module swapped after signing (digest differs, size equal) is refused', async () => {
    const other = MODULE.slice();
    other[other.length - 2] = other[other.length - 2]! ^ 1;
    await refused(rawBundle({ module: JSON.stringify(toBase64(other)) }), 'module.digest-mismatch');
  });
  it('an appended byte to the module (size differs) is refused', async () => {
    const longer = new Uint8Array([...MODULE, 0]);
    const verdict = await refused(
      rawBundle({ module: JSON.stringify(toBase64(longer)) }),
      'module.size-mismatch'
    );
    expect(codes(verdict.reasons)).toContain('module.digest-mismatch');
  });
});

describe('attack: base64 edge cases', () => {
  const b64 = toBase64(MODULE);
  const variants: [string, string][] = [
    ['whitespace', `${b64.slice(0, 8)} ${b64.slice(8)}`],
    ['line break', `${b64.slice(0, 8)}\\n${b64.slice(8)}`],
    ['unpadded', b64.replace(/=+$/, '')],
    ['url alphabet', b64.replace(/\+/g, '-').replace(/\//g, '_')],
    ['extra padding', `${b64}====`]
  ];
  it.each(variants)('module base64 with %s is refused', async (_what, text) => {
    if (text === b64) return;
    await refused(rawBundle({ module: `"${text}"` }), 'module.base64');
  });
  const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  /** Sets an unused bit in the last data character: same bytes under a lenient decoder. */
  const nonCanonical = (text: string) => {
    const at = text.length - 1 - (text.match(/=+$/)?.[0].length ?? 0);
    return text.slice(0, at) + ALPHA[ALPHA.indexOf(text[at]!) ^ 1] + text.slice(at + 1);
  };
  it('non-canonical padding bits (AGFzbQEAAAB=) are refused in module, payload and sig', async () => {
    expect(nonCanonical('AGFzbQEAAAA=')).toBe('AGFzbQEAAAB=');
    const m = enc.encode(manifestText() + ' ');
    expect(toBase64(m)).toMatch(/=$/);
    const parsed = parseBundle(rawBundle({ module: '"AGFzbQEAAAB="' }));
    expect(!parsed.ok && codes(parsed.reasons)).toContain('module.base64');
    await refused(
      rawBundle({ manifest: m, payload: `"${nonCanonical(toBase64(m))}"` }),
      'envelope.base64'
    );
    await refused(
      rawBundle({
        sigs: `[{"sig":"${nonCanonical(toBase64(sigOver(enc.encode(manifestText()))))}"}]`
      }),
      'signature.base64'
    );
  });
});

describe('attack: Ed25519 malleability and weak keys', () => {
  const m = enc.encode(manifestText());
  const good = sigOver(m);
  const withS = (s: bigint) => {
    const out = good.slice();
    for (let i = 0; i < 32; i++) out[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  const S = good.subarray(32).reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
  it('S + L (same signature, malleated) is refused', async () => {
    await refused(
      rawBundle({ sigs: `[{"keyid":"${ID}","sig":"${toBase64(withS(S + L))}"}]` }),
      'signature.invalid',
      [KEY]
    );
  });
  it('S + 2^255 bit flip (high bit of S) is refused', async () => {
    const out = good.slice();
    out[63] = out[63]! | 0x80;
    expect(verifyStrict(out, pae(MANIFEST_PAYLOAD_TYPE, m), PUB)).toBe(false);
  });
  it('identity key universal forgery (A=R=identity, S=0) is refused even when pinned', async () => {
    const identity = fromHex('01' + '00'.repeat(31));
    const forged = new Uint8Array(64);
    forged.set(identity, 0);
    const pinned = { id: await sha256Hex(identity), publicKey: identity };
    const verdict = await refused(
      rawBundle({ sigs: `[{"sig":"${toBase64(forged)}"}]` }),
      'signature.untrusted',
      [pinned]
    );
    expect(codes(verdict.notes)).toContain('key.unusable');
  });
  it('non-canonical identity encodings (y = p+1, negative zero) as pinned key or R are refused', async () => {
    for (const hex of [
      'ee' + 'ff'.repeat(30) + '7f',
      '01' + '00'.repeat(30) + '80',
      'ec' + 'ff'.repeat(30) + 'ff'
    ]) {
      const key = fromHex(hex);
      const forged = new Uint8Array(64);
      forged.set(key, 0);
      expect(verifyStrict(forged, new Uint8Array(1), key)).toBe(false);
      const v = await check(rawBundle({ sigs: `[{"sig":"${toBase64(forged)}"}]` }), [
        { id: 'x', publicKey: key }
      ]);
      expect(v.ok).toBe(false);
    }
  });
});

describe('attack: trust confusion in the envelope', () => {
  const m = enc.encode(manifestText());
  it('an untrusted signature whose keyid names the pinned key is refused', async () => {
    const sigs = `[{"keyid":"${ID}","sig":"${toBase64(sigOver(m, EVIL))}"}]`;
    await refused(rawBundle({ sigs }), 'signature.invalid');
  });
  it('the same valid signature repeated (different keyids) does not meet threshold 2', async () => {
    const s = toBase64(sigOver(m));
    const verdict = await refused(
      rawBundle({ sigs: `[{"keyid":"a","sig":"${s}"},{"keyid":"b","sig":"${s}"}]` }),
      'signature.threshold',
      [KEY],
      { threshold: 2 }
    );
    expect(verdict.signers).toEqual([ID]);
  });
  it('one key pinned twice under two ids does not meet threshold 2 (bundle)', async () => {
    const keys = [KEY, { id: 'alias', publicKey: PUB.slice() }];
    await refused(rawBundle({}), 'signature.threshold', keys, { threshold: 2 });
  });
  it('a bundle cannot carry its own public key (extra field in signature entry)', async () => {
    const sigs = `[{"keyid":"","sig":"${toBase64(sigOver(m, EVIL))}","publicKey":"${toBase64(EVIL_PUB)}"}]`;
    await refused(rawBundle({ sigs }), 'envelope.unknown-field');
  });
  it("keyid equal to the untrusted signer's own canonical id is still untrusted", async () => {
    await refused(
      rawBundle({ sigs: `[{"keyid":"${EVIL_ID}","sig":"${toBase64(sigOver(m, EVIL))}"}]` }),
      'signature.untrusted'
    );
  });
  it('payloadType look-alikes are refused (trailing space, case, escaped NUL)', async () => {
    for (const t of [
      `"${MANIFEST_PAYLOAD_TYPE} "`,
      `"${MANIFEST_PAYLOAD_TYPE.toUpperCase()}"`,
      `"${MANIFEST_PAYLOAD_TYPE}\\u0000"`
    ]) {
      await refused(rawBundle({ payloadType: t }), 'envelope.payload-type');
    }
  });
  it('a signature over PAE with a different payloadType does not verify', async () => {
    const other = sign(pae('application/json', m), SEED);
    await refused(
      rawBundle({ sigs: `[{"keyid":"${ID}","sig":"${toBase64(other)}"}]` }),
      'signature.invalid'
    );
  });
  it('cross-protocol: a bundle signature replayed as a raw detached signature only authenticates PAE bytes, which are never a runnable module', async () => {
    const message = pae(MANIFEST_PAYLOAD_TYPE, m);
    const v = await verify(
      { kind: 'detached', module: message, signature: sigOver(m), name: 'x.wasm' },
      [KEY]
    );
    // It verifies (same key, same bytes) but the bytes are not WebAssembly: inspection refuses them.
    expect(v.ok && inspectWasm(v.moduleBytes!).ok).toBe(false);
    expect(detectInput(message)).not.toBe('wasm');
  });
});

describe('attack: expiry timing', () => {
  const at = (expires: string, created?: string) =>
    enc.encode(manifestText(`,"expires":"${expires}"${created ? `,"created":"${created}"` : ''}`));
  const verdictFor = (expires: string, now = NOW, created?: string) =>
    check(rawBundle({ manifest: at(expires, created) }), [KEY], { now });
  it('an offset of +23:59 that puts expiry in the past is honoured', async () => {
    const v = await verdictFor('2026-01-01T23:58:00+23:59');
    expect(codes(v.reasons)).toContain('manifest.expired');
  });
  it('a leap second (23:59:60) expires at the next minute, not later', async () => {
    expect(parseRfc3339('2025-12-31T23:59:60Z')).toBe(NOW);
    const v = await verdictFor('2025-12-31T23:59:60Z', NOW + 1);
    expect(codes(v.reasons)).toContain('manifest.expired');
  });
  it('-00:00 means UTC (no shift), lowercase t/z are the same instant', () => {
    expect(parseRfc3339('2026-01-01T00:00:00-00:00')).toBe(NOW);
    expect(parseRfc3339('2026-01-01t00:00:00z')).toBe(NOW);
  });
  it('out-of-range fields and offsets are refused, not wrapped around into the future', async () => {
    for (const t of [
      '2025-13-01T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '2025-12-31T24:00:00Z',
      '2025-12-31T23:60:00Z',
      '2025-12-31T23:59:61Z',
      '2025-12-31T00:00:00+24:00',
      '2025-12-31T00:00:00+00:60',
      '2025-12-31T00:00:00',
      '2025-12-31 00:00:00Z',
      '+02025-12-31T00:00:00Z',
      '2025-12-31T00:00:00.Z',
      '２０２５-12-31T00:00:00Z',
      '2025-12-31T00:00:00+0000',
      '2025-12-31T00:00:00Z\n'
    ]) {
      expect(parseRfc3339(t), t).toBeNull();
      const v = await verdictFor(t);
      expect(v.ok, t).toBe(false);
    }
  });
  it('fraction beyond milliseconds is truncated, never rounded up past the instant', () => {
    expect(parseRfc3339('2025-12-31T23:59:59.9999999Z')).toBe(NOW - 1);
  });
});
