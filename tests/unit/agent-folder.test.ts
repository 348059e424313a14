import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  freeName,
  outputText,
  planInbox,
  resultFileName,
  settled,
  type FolderEntry
} from '../../src/lib/core/agent-folder';

const file = (name: string, size = 10, lastModified = 1000): FolderEntry => ({
  name,
  kind: 'file',
  size,
  lastModified
});
const dir = (name: string): FolderEntry => ({ name, kind: 'directory', size: 0, lastModified: 0 });

describe('planInbox', () => {
  it('groups a module with its signature, stdin and input folder, and a bundle alone', () => {
    const plan = planInbox([
      file('hello.wasm'),
      file('hello.wasm.minisig'),
      file('hello.wasm.stdin'),
      dir('hello.wasm.input'),
      file('job.ncb')
    ]);
    expect(plan.units).toEqual([
      {
        primary: 'hello.wasm',
        signature: 'hello.wasm.minisig',
        stdin: 'hello.wasm.stdin',
        inputDir: 'hello.wasm.input'
      },
      { primary: 'job.ncb', signature: null, stdin: null, inputDir: null }
    ]);
    expect(plan.unknown).toEqual([]);
  });

  it('pairs the old console layout (module.sig) and every signature suffix', () => {
    for (const suffix of ['.minisig', '.sig', '.sshsig', '.ed25519']) {
      expect(planInbox([file('m.wasm'), file(`m${suffix}`)]).units[0]?.signature).toBe(
        `m${suffix}`
      );
    }
  });

  it('leaves files being written, hidden files and lone companions alone; names the rest unknown', () => {
    const plan = planInbox([
      file('big.ncb.part'),
      file('x.ncb.crswap'),
      file('.DS_Store'),
      file('later.wasm.minisig'),
      file('later.wasm.stdin'),
      file('notes.txt'),
      file('<script>.exe'),
      dir('stray')
    ]);
    expect(plan.units).toEqual([]);
    expect(plan.unknown).toEqual(['<script>.exe', 'notes.txt']);
  });

  it('a bundle, module and zip are primaries; a signature of one module is not taken by another', () => {
    const plan = planInbox([file('a.wasm'), file('b.wasm'), file('b.wasm.sig'), file('t.zip')]);
    expect(plan.units.map((u) => [u.primary, u.signature])).toEqual([
      ['a.wasm', null],
      ['b.wasm', 'b.wasm.sig'],
      ['t.zip', null]
    ]);
  });
});

describe('settled', () => {
  const unit = { primary: 'a.ncb', signature: null, stdin: 'a.ncb.stdin', inputDir: null };
  const snap = (entries: FolderEntry[]) => new Map(entries.map((e) => [e.name, fingerprint(e)]));

  it('needs every file of the unit unchanged since the previous poll', () => {
    const before = snap([file('a.ncb', 5, 1), file('a.ncb.stdin', 3, 1)]);
    expect(settled(unit, before, before)).toBe(true);
    expect(settled(unit, snap([file('a.ncb', 9, 2), file('a.ncb.stdin', 3, 1)]), before)).toBe(
      false
    );
    expect(settled(unit, before, new Map())).toBe(false); // first sight
    expect(settled(unit, snap([file('a.ncb', 5, 1)]), before)).toBe(false); // stdin vanished
  });
});

describe('names', () => {
  it('result files carry the whole name, so hello.ncb and hello.wasm never clash', () => {
    expect(resultFileName('hello.ncb')).toBe('hello.ncb.result.json');
    expect(resultFileName('hello.wasm')).not.toBe(resultFileName('hello.ncb'));
  });

  it('a name taken in the target folder gets the first free numbered variant', () => {
    expect(freeName('a.ncb', new Set())).toBe('a.ncb');
    expect(freeName('a.ncb', new Set(['a.ncb']))).toBe('a-2.ncb');
    expect(freeName('a.wasm.minisig', new Set(['a.wasm.minisig', 'a-2.wasm.minisig']))).toBe(
      'a-3.wasm.minisig'
    );
    expect(freeName('.hidden', new Set(['.hidden']))).toBe('.hidden-2');
  });

  it('output bytes decode as UTF-8 with invalid bytes replaced, never thrown', () => {
    expect(outputText(new Uint8Array([0x68, 0x69, 0xff]))).toBe('hi\uFFFD');
    expect(outputText(undefined)).toBe('');
  });
});
