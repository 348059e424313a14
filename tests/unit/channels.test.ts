import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fromBase64Url, toBase64Url } from '../../src/lib/core/bytes';
import {
  MAX_IMPORT_FRAGMENT,
  decodeUrlImport,
  parseInboxFragment
} from '../../src/lib/core/intake';
import { fromLaunchHandles, type LaunchedHandle } from '../../src/lib/state/file-intake';

const wasm = new Uint8Array(readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url)));
const bundle = new TextEncoder().encode('{"nightcoreBundle":1}');

describe('fromBase64Url', () => {
  it('decodes unpadded base64url as Node encodes it, for every tail length', () => {
    for (let length = 0; length < 40; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 151 + 250) & 0xff);
      const text = Buffer.from(bytes).toString('base64url');
      expect(fromBase64Url(text)).toEqual(bytes);
      expect(toBase64Url(bytes)).toBe(text);
    }
  });

  it.each([
    ['padding', 'YQ==', /padded/],
    ['standard alphabet +', 'a+b/', /not base64url/],
    ['whitespace', 'YWJj ZA', /not base64url/],
    ['percent-encoding', 'YW%3D', /not base64url/],
    ['impossible length', 'YWJjZ', /truncated/],
    ['non-zero unused bits', 'YR', /non-canonical/]
  ])('refuses %s', (_, text, message) => {
    expect(() => fromBase64Url(text)).toThrow(message);
  });
});

describe('parseInboxFragment', () => {
  it('reads import, shared and share-refused; anything else is not ours', () => {
    expect(parseInboxFragment('#import=e30')).toEqual({ kind: 'import', data: 'e30' });
    expect(parseInboxFragment('import=')).toEqual({ kind: 'import', data: '' });
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    expect(parseInboxFragment(`#shared=${id}`)).toEqual({ kind: 'shared', id });
    expect(parseInboxFragment('#share-refused=too-many')).toMatchObject({
      kind: 'refused',
      channel: 'share-target',
      message: expect.stringMatching(/Too many files/)
    });
    expect(parseInboxFragment('#share-refused=__proto__')).toMatchObject({
      kind: 'refused',
      message: 'The share was refused.'
    });
    for (const hash of ['', '#', '#requests', '#other=1', '#imports=x'])
      expect(parseInboxFragment(hash)).toEqual({ kind: 'none' });
  });

  it('refuses a malformed share id and an import over 64 KiB', () => {
    expect(parseInboxFragment('#shared=../../x')).toMatchObject({
      kind: 'refused',
      channel: 'share-target'
    });
    const big = `#import=${'A'.repeat(MAX_IMPORT_FRAGMENT)}`;
    expect(parseInboxFragment(big)).toMatchObject({
      kind: 'refused',
      channel: 'url',
      message: expect.stringMatching(/too much to import/)
    });
    const fits = `#import=${'A'.repeat(MAX_IMPORT_FRAGMENT - 'import='.length)}`;
    expect(parseInboxFragment(fits).kind).toBe('import');
  });
});

describe('decodeUrlImport', () => {
  it('takes the base64url of a bundle', () => {
    expect(decodeUrlImport(Buffer.from(bundle).toString('base64url'))).toMatchObject({
      ok: true,
      item: { fileName: 'linked bundle', input: { kind: 'bundle', bytes: bundle } }
    });
  });

  it.each([
    ['empty', '', /empty/],
    ['not base64url', 'not base64url!', /not valid base64url/],
    ['padded', Buffer.from('{"nightcoreBundle":1}\n').toString('base64'), /not valid base64url/],
    ['a raw module', Buffer.from(wasm).toString('base64url'), /does not carry a Night Core bundle/],
    ['text', Buffer.from('hello').toString('base64url'), /does not carry a Night Core bundle/]
  ])('refuses %s', (_, data, message) => {
    const result = decodeUrlImport(data);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(message);
  });
});

describe('fromLaunchHandles (the launchQueue consumer, without a browser)', () => {
  const handle = (name: string, bytes: Uint8Array): LaunchedHandle => ({
    kind: 'file',
    name,
    getFile: async () => new File([bytes as Uint8Array<ArrayBuffer>], name)
  });

  it('reads each file handle into a picked file', async () => {
    const collected = await fromLaunchHandles([
      handle('hello.wasm', wasm),
      handle('hello.ncb', bundle)
    ]);
    expect(collected.ok).toBe(true);
    if (!collected.ok) return;
    expect(collected.files.map((f) => [f.path, f.file.size])).toEqual([
      ['hello.wasm', wasm.length],
      ['hello.ncb', bundle.length]
    ]);
  });

  it('refuses a folder, an unreadable file and an empty launch', async () => {
    expect(await fromLaunchHandles([{ kind: 'directory', name: 'out' }])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/Only files.*out/)
    });
    const broken: LaunchedHandle = {
      kind: 'file',
      name: 'gone.ncb',
      getFile: async () => {
        throw new Error('NotFoundError');
      }
    };
    expect(await fromLaunchHandles([broken])).toMatchObject({
      ok: false,
      message: expect.stringMatching(/gone.ncb could not be read: NotFoundError/)
    });
    expect(await fromLaunchHandles([])).toMatchObject({ ok: false });
  });
});
