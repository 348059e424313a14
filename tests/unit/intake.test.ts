import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodePaste, groupFiles, verdictKind } from '../../src/lib/core/intake';
import type { Verdict } from '../../src/lib/core/verify';

const wasm = new Uint8Array(readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url)));
const bundle = new TextEncoder().encode('{"nightcoreBundle":1}');
const sig = new TextEncoder().encode('untrusted comment: x\nRWQ=\n');

describe('decodePaste', () => {
  it('takes bundle JSON, base64 of a bundle, and base64 of a raw module (unsigned)', () => {
    expect(decodePaste(' {"nightcoreBundle":1} ')).toMatchObject({
      ok: true,
      item: { input: { kind: 'bundle' } }
    });
    expect(decodePaste(Buffer.from(bundle).toString('base64'))).toMatchObject({
      ok: true,
      item: { input: { kind: 'bundle' } }
    });
    expect(decodePaste(Buffer.from(wasm).toString('base64'))).toMatchObject({
      ok: true,
      item: { input: { kind: 'unsigned' } }
    });
  });

  it.each([
    ['', /empty/],
    ['not base64 at all!', /neither bundle JSON/],
    [Buffer.from('hello world!').toString('base64'), /neither a bundle nor a WebAssembly module/]
  ])('refuses %j with a specific message', (text, message) => {
    const result = decodePaste(text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(message);
  });
});

describe('groupFiles', () => {
  it('pairs each .wasm with its signature by name, keeps bundles and zips, reports the rest', () => {
    const { items, unknown } = groupFiles([
      { name: 'a.wasm', bytes: wasm },
      { name: 'a.wasm.minisig', bytes: sig },
      { name: 'module.wasm', bytes: wasm },
      { name: 'module.sig', bytes: sig },
      { name: 'lonely.wasm', bytes: wasm },
      { name: 'x.ncb', bytes: bundle },
      { name: 'notes.txt', bytes: new TextEncoder().encode('hi') },
      { name: 'orphan.sig', bytes: sig }
    ]);
    expect(items.map((i) => [i.fileName, i.input.kind])).toEqual([
      ['a.wasm', 'detached'],
      ['module.wasm', 'detached'],
      ['lonely.wasm', 'unsigned'],
      ['x.ncb', 'bundle']
    ]);
    expect(unknown.map((f) => f.name)).toEqual(['notes.txt', 'orphan.sig']);
  });
});

describe('verdictKind', () => {
  const verdict = (ok: boolean, codes: string[], format: Verdict['format'] = 'bundle') =>
    ({ ok, format, reasons: codes.map((code) => ({ code, message: code })) }) as unknown as Verdict;
  it.each([
    [verdict(true, []), 'verified'],
    [verdict(false, ['signature.missing'], 'unsigned'), 'unsigned'],
    [verdict(false, ['signature.untrusted']), 'untrusted'],
    [verdict(false, ['signature.revoked']), 'rejected'],
    [verdict(false, ['signature.untrusted', 'module.digest-mismatch']), 'rejected'],
    [verdict(false, ['manifest.expired']), 'rejected']
  ])('%#: %s', (v, kind) => {
    expect(verdictKind(v)).toBe(kind);
  });
});
