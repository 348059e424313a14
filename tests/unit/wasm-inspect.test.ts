// inspectWasm, the capability map and the byte reader: every fixture, hand-written WAT modules
// built with wat2wasm at test time (one per feature), hand-assembled bad binaries (one per reason
// code) and fast-check properties (random bytes and mutated fixtures never throw, never hang).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BASELINE,
  CAPABILITY_GROUPS,
  capabilityOf,
  classifyImport,
  REFUSED,
  requiredCapabilities,
  WASI_PREVIEW1_FUNCTIONS,
  type CapabilityGroup
} from '../../src/lib/core/wasm/capabilities';
import { inspectWasm, type WasmInspection } from '../../src/lib/core/wasm/inspect';
import { encodeU32, WasmReader, WasmReadError } from '../../src/lib/core/wasm/reader';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/wasm/', import.meta.url));
const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(join(FIXTURE_DIR, `${name}.wasm`)));

const tmp = mkdtempSync(join(tmpdir(), 'nightcore-inspect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let watCount = 0;
/** Builds a module from WAT text with the installed wat2wasm. */
function wat(source: string, ...flags: string[]): Uint8Array<ArrayBuffer> {
  const base = join(tmp, `m${watCount++}`);
  writeFileSync(`${base}.wat`, source);
  execFileSync('wat2wasm', [...flags, `${base}.wat`, '-o', `${base}.wasm`]);
  return new Uint8Array(readFileSync(`${base}.wasm`));
}

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const section = (id: number, contents: number[]) => [
  id,
  ...encodeU32(contents.length),
  ...contents
];
const name = (text: string) => {
  const raw = [...new TextEncoder().encode(text)];
  return [...encodeU32(raw.length), ...raw];
};
const module = (...bytes: number[][]) => Uint8Array.from([...HEADER, ...bytes.flat()]);
const codes = (i: WasmInspection) => i.reasons.map((r) => r.code);

/** The structural code (first reason) of a module that does not read. */
function failsWith(bytes: Uint8Array, code: string): WasmInspection {
  const result = inspectWasm(bytes);
  expect(result.ok).toBe(false);
  expect(result.reasons[0]?.code, JSON.stringify(result.reasons)).toBe(code);
  return result;
}

const COMMON = ['fd_close', 'fd_seek', 'proc_exit'];
const FILE_CALLS = [
  'args_get',
  'args_sizes_get',
  'fd_fdstat_get',
  'fd_fdstat_set_flags',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'fd_read',
  'fd_write',
  'path_open'
];
const FIXTURES: Record<
  string,
  {
    wasi: string[];
    foreign?: string[];
    entry: 'command' | 'reactor';
    caps: CapabilityGroup[];
    /** Exports beyond the entry point and memory. */
    exports?: string[];
  }
> = {
  hello: { wasi: [...COMMON, 'fd_write', 'fd_fdstat_get'], entry: 'command', caps: [] },
  'echo-args': {
    wasi: [...COMMON, 'args_get', 'args_sizes_get', 'fd_write', 'fd_fdstat_get'],
    entry: 'command',
    caps: ['args']
  },
  'cat-stdin': { wasi: [...COMMON, 'fd_read', 'fd_write'], entry: 'command', caps: ['stdin'] },
  'sha256-stdin': {
    wasi: [...COMMON, 'args_get', 'args_sizes_get', 'fd_read', 'fd_write'],
    entry: 'command',
    caps: ['args', 'stdin']
  },
  'env-print': {
    wasi: [...COMMON, 'environ_get', 'environ_sizes_get', 'fd_write', 'fd_fdstat_get'],
    entry: 'command',
    caps: ['env']
  },
  flood: {
    wasi: [...COMMON, 'args_get', 'args_sizes_get', 'fd_write'],
    entry: 'command',
    caps: ['args']
  },
  loop: { wasi: [], entry: 'command', caps: [] },
  'memory-bomb': { wasi: [], entry: 'command', caps: [] },
  recursion: { wasi: [], entry: 'command', caps: [] },
  trap: { wasi: [], entry: 'command', caps: [] },
  'foreign-import': { wasi: ['fd_write'], foreign: ['env.evil'], entry: 'command', caps: [] },
  reactor: { wasi: [], entry: 'reactor', caps: [] },
  'hidden-names': {
    wasi: [],
    entry: 'command',
    caps: [],
    // Names are decoded as UTF-8 exactly, the hiding characters kept (the UI marks them).
    exports: ['report\u202efdp.exe:func', 'zero\u200bwidth:func']
  },
  'exit-code': {
    wasi: [...COMMON, 'args_get', 'args_sizes_get', 'fd_write', 'fd_fdstat_get'],
    entry: 'command',
    caps: ['args']
  },
  // wasi-libc's fopen links reads, preopen listing and fcntl: stdin, fs-read and fs-write groups.
  'fs-flood': {
    wasi: [...COMMON, ...FILE_CALLS],
    entry: 'command',
    caps: ['args', 'stdin', 'fs-read', 'fs-write']
  },
  'read-file': {
    wasi: [...COMMON, ...FILE_CALLS],
    entry: 'command',
    caps: ['args', 'stdin', 'fs-read', 'fs-write']
  },
  'fd-renumber': {
    wasi: [
      'args_get',
      'args_sizes_get',
      'path_open',
      'fd_renumber',
      'fd_write',
      'fd_filestat_set_size',
      'fd_allocate',
      'proc_exit'
    ],
    entry: 'command',
    caps: ['args', 'fs-read', 'fs-write']
  },
  'scratch-escape': {
    wasi: [
      'args_get',
      'args_sizes_get',
      'path_open',
      'path_unlink_file',
      'path_create_directory',
      'path_link',
      'fd_write',
      'proc_exit'
    ],
    entry: 'command',
    caps: ['args', 'fs-read', 'fs-write']
  }
};

describe('fixtures', () => {
  it('covers every .wasm in tests/fixtures/wasm', () => {
    const files = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.wasm'));
    expect(files.map((f) => f.slice(0, -5)).sort()).toEqual(Object.keys(FIXTURES).sort());
  });

  it.each(Object.entries(FIXTURES))('%s', (fixtureName, expected) => {
    const bytes = fixture(fixtureName);
    const result = inspectWasm(bytes);
    expect(result.reasons).toEqual([]);
    expect(result.ok && result.valid).toBe(true);
    expect(result.size).toBe(bytes.length);
    expect(result.version).toBe(1);
    expect(result.entry).toBe(expected.entry);
    const wasi = result.imports.filter((i) => i.wasi).map((i) => i.name);
    expect(wasi.sort()).toEqual([...expected.wasi].sort());
    expect(result.foreignImports).toEqual(expected.foreign ?? []);
    expect(result.refusedImports).toEqual([]);
    expect(requiredCapabilities(result)).toEqual(expected.caps);
    const exportNames = result.exports.map((e) => `${e.name}:${e.kind}`);
    const entryExport = expected.entry === 'command' ? '_start:func' : '_initialize:func';
    expect(exportNames.sort()).toEqual(
      [entryExport, 'memory:memory', ...(expected.exports ?? [])].sort()
    );
    expect(result.memories).toHaveLength(1);
    expect(result.memories[0]).toMatchObject({ index: 0, imported: false, max: null });
    expect(result.memories[0]).toMatchObject({ shared: false, memory64: false });
    expect(result.customSections).toEqual([]);
    expect(result.startFunction).toBeNull();

    // The engine agrees on every import and export.
    const compiled = new WebAssembly.Module(bytes);
    const kind = (k: string) => (k === 'function' ? 'func' : k);
    expect(result.imports.map((i) => [i.module, i.name, i.kind])).toEqual(
      WebAssembly.Module.imports(compiled).map((i) => [i.module, i.name, kind(i.kind)])
    );
    expect(result.exports.map((e) => [e.name, e.kind])).toEqual(
      WebAssembly.Module.exports(compiled).map((e) => [e.name, kind(e.kind)])
    );
  });

  it('hello imports fd_write and proc_exit and is a command', () => {
    const result = inspectWasm(fixture('hello'));
    expect(result.entry).toBe('command');
    const names = result.imports.map((i) => `${i.module}.${i.name}`);
    expect(names).toContain('wasi_snapshot_preview1.fd_write');
    expect(names).toContain('wasi_snapshot_preview1.proc_exit');
    expect(result.imports.every((i) => i.kind === 'func' && i.capability === null)).toBe(true);
  });

  it('foreign-import flags env.evil; memory-bomb has one page and no maximum', () => {
    const foreign = inspectWasm(fixture('foreign-import'));
    expect(foreign.foreignImports).toEqual(['env.evil']);
    expect(foreign.imports[0]).toMatchObject({ module: 'env', name: 'evil', wasi: false });
    expect(inspectWasm(fixture('memory-bomb')).memories).toEqual([
      { index: 0, imported: false, min: 1, max: null, shared: false, memory64: false }
    ]);
  });

  it('lists the sections of a C fixture in order, with offsets that add up', () => {
    const bytes = fixture('hello');
    const { sections } = inspectWasm(bytes);
    expect(sections.map((s) => s.name)).toEqual([
      ...['type', 'import', 'function', 'table', 'memory', 'global', 'export', 'element'],
      ...['code', 'data']
    ]);
    expect(sections[0]?.offset).toBe(8);
    const last = sections.at(-1)!;
    expect(last.contentOffset + last.size).toBe(bytes.length);
    expect(inspectWasm(bytes).tables).toEqual([
      { index: 0, imported: false, refType: 'funcref', min: 5, max: 5, table64: false }
    ]);
  });
});

describe('hand-written modules', () => {
  it('memory with a maximum', () => {
    const result = inspectWasm(wat('(module (memory 2 10))'));
    expect(result.ok).toBe(true);
    expect(result.memories).toEqual([
      { index: 0, imported: false, min: 2, max: 10, shared: false, memory64: false }
    ]);
  });

  it('shared memory', () => {
    const result = inspectWasm(wat('(module (memory 1 4 shared))', '--enable-threads'));
    expect(result.memories[0]).toMatchObject({ min: 1, max: 4, shared: true, memory64: false });
    expect(result.ok).toBe(true); // threads ship in Node 20 and every supported browser
  });

  it('memory64 limits are bigints', () => {
    const bytes = wat('(module (memory i64 1 2))', '--enable-memory64');
    const result = inspectWasm(bytes);
    expect(result.memories).toEqual([
      { index: 0, imported: false, min: 1n, max: 2n, shared: false, memory64: true }
    ]);
    // Node 20 does not ship memory64: whatever the engine says is what `valid` says.
    expect(result.valid).toBe(WebAssembly.validate(bytes));
    expect(codes(result)).toEqual(result.valid ? [] : ['wasm.invalid']);
  });

  it('multiple memories, imported first in the index space', () => {
    const bytes = wat(
      '(module (import "env" "mem" (memory 1)) (memory 2 3) (memory 0))',
      '--enable-multi-memory'
    );
    const result = inspectWasm(bytes);
    expect(result.memories.map((m) => [m.index, m.imported, m.min, m.max])).toEqual([
      [0, true, 1, null],
      [1, false, 2, 3],
      [2, false, 0, null]
    ]);
    expect(codes(result).filter((c) => c !== 'wasm.invalid')).toEqual([]);
  });

  it('imported memory is a foreign import', () => {
    const result = inspectWasm(wat('(module (import "env" "memory" (memory 1 2)))'));
    expect(result.ok).toBe(true);
    expect(result.imports).toEqual([
      {
        module: 'env',
        name: 'memory',
        kind: 'memory',
        capability: null,
        wasi: false,
        refused: false
      }
    ]);
    expect(result.memories).toEqual([
      { index: 0, imported: true, min: 1, max: 2, shared: false, memory64: false }
    ]);
    expect(result.foreignImports).toEqual(['env.memory']);
  });

  it('tables, globals and tags, imported and defined', () => {
    const result = inspectWasm(
      wat(
        `(module
          (import "env" "e" (tag (param i32)))
          (import "env" "g" (global (mut i32)))
          (import "env" "t" (table 3 funcref))
          (table 2 funcref)
          (table 1 10 externref)
          (table $t (export "tab") 0 funcref))`,
        '--enable-exceptions'
      )
    );
    expect(result.ok).toBe(true);
    expect(result.imports.map((i) => i.kind)).toEqual(['tag', 'global', 'table']);
    expect(result.tables).toEqual([
      { index: 0, imported: true, refType: 'funcref', min: 3, max: null, table64: false },
      { index: 1, imported: false, refType: 'funcref', min: 2, max: null, table64: false },
      { index: 2, imported: false, refType: 'externref', min: 1, max: 10, table64: false },
      { index: 3, imported: false, refType: 'funcref', min: 0, max: null, table64: false }
    ]);
    expect(result.exports).toEqual([{ name: 'tab', kind: 'table', index: 3 }]);
    expect(result.entry).toBe('none');
  });

  it('a table with an initializer expression (0x40 0x00 form)', () => {
    // table section: 1 entry, 0x40 0x00, funcref, limits min 1, init (ref.null func) end.
    const bytes = module(section(4, [1, 0x40, 0x00, 0x70, 0x00, 0x01, 0xd0, 0x70, 0x0b]));
    const result = inspectWasm(bytes);
    expect(codes(result).filter((c) => c !== 'wasm.invalid')).toEqual([]);
    expect(result.tables).toEqual([
      { index: 0, imported: false, refType: 'funcref', min: 1, max: null, table64: false }
    ]);
  });

  it('start function (index counts imported functions first)', () => {
    const result = inspectWasm(
      wat('(module (import "wasi_snapshot_preview1" "sched_yield" (func)) (func $f) (start $f))')
    );
    expect(result.ok).toBe(true);
    expect(result.startFunction).toBe(1);
    expect(result.sections.map((s) => s.name)).toContain('start');
  });

  it('custom sections anywhere, in order, with their names', () => {
    const base = wat('(module (func $main (export "_start")))', '--debug-names');
    const custom = (text: string) => section(0, [...name(text), 1, 2, 3]);
    const bytes = Uint8Array.from([
      ...HEADER,
      ...custom('first'),
      ...base.subarray(8),
      ...custom('nightcore.meta')
    ]);
    const result = inspectWasm(bytes);
    expect(result.ok).toBe(true);
    expect(result.customSections).toEqual(['first', 'name', 'nightcore.meta']);
    const customs = result.sections.filter((s) => s.id === 0);
    expect(customs.map((s) => s.customName)).toEqual(result.customSections);
    expect(result.entry).toBe('command');
  });

  it('entry: _start wins over _initialize; a non-function _start is no entry', () => {
    const both = '(module (func (export "_start")) (func (export "_initialize")))';
    expect(inspectWasm(wat(both)).entry).toBe('command');
    expect(inspectWasm(wat('(module (func (export "_initialize")))')).entry).toBe('reactor');
    expect(inspectWasm(wat('(module (global (export "_start") i32 (i32.const 0)))')).entry).toBe(
      'none'
    );
  });

  it('flags refused, unknown and non-function WASI imports', () => {
    const result = inspectWasm(
      wat(`(module
        (import "wasi_snapshot_preview1" "sock_send" (func (param i32 i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_raise" (func (param i32) (result i32)))
        (import "wasi_snapshot_preview1" "no_such_call" (func))
        (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "memory" (memory 1)))`)
    );
    expect(result.ok).toBe(true);
    const P = 'wasi_snapshot_preview1';
    expect(result.refusedImports).toEqual([`${P}.sock_send`, `${P}.proc_raise`]);
    expect(result.foreignImports).toEqual([`${P}.no_such_call`, `${P}.memory`]);
    expect(requiredCapabilities(result)).toEqual(['random']);
  });

  it('a view of a SharedArrayBuffer, or part of a larger buffer', () => {
    const bytes = fixture('hello');
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    expect(inspectWasm(shared)).toEqual(inspectWasm(bytes));
    const padded = new Uint8Array(bytes.length + 20);
    padded.set(bytes, 10);
    const view = padded.subarray(10, 10 + bytes.length);
    const result = inspectWasm(view);
    expect(result.ok).toBe(true);
    expect(result.sections).toEqual(inspectWasm(bytes).sections);
  });

  it('a module that reads but does not validate: structure listed, reason wasm.invalid', () => {
    // A function section declaring one function, and no code section.
    const bytes = module(section(1, [1, 0x60, 0, 0]), section(3, [1, 0]));
    const result = inspectWasm(bytes);
    expect(result.valid).toBe(false);
    expect(codes(result)).toEqual(['wasm.invalid']);
    expect(result.sections.map((s) => s.name)).toEqual(['type', 'function']);
  });
});

describe('bad input', () => {
  it('bad magic', () => {
    failsWith(Uint8Array.from([0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0]), 'wasm.magic');
    failsWith(new TextEncoder().encode('MZ\x90\x00 not wasm'), 'wasm.magic');
    failsWith(Uint8Array.of(0x7f), 'wasm.magic');
  });

  it('bad version (and a component)', () => {
    const result = failsWith(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0]), 'wasm.version');
    expect(result.version).toBe(2);
    const component = failsWith(
      Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]),
      'wasm.version'
    );
    expect(component.reasons[0]?.message).toMatch(/component/);
  });

  it('truncated header (and empty input)', () => {
    const result = failsWith(
      Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00]),
      'wasm.truncated'
    );
    expect(result.version).toBeNull();
    failsWith(new Uint8Array(0), 'wasm.truncated');
    failsWith(Uint8Array.from([0x00, 0x61]), 'wasm.truncated');
  });

  it('not a Uint8Array', () => {
    expect(codes(inspectWasm('\0asm' as unknown as Uint8Array))).toEqual(['wasm.input']);
    expect(codes(inspectWasm(null as unknown as Uint8Array))).toEqual(['wasm.input']);
  });

  it('LEB128 overrun: 5 continuation bytes in a u32', () => {
    failsWith(module([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 'wasm.leb128-too-long');
  });

  it('LEB128 with unused high bits set in the 5th byte', () => {
    failsWith(module([1, 0xff, 0xff, 0xff, 0xff, 0x1f]), 'wasm.leb128-unused-bits');
  });

  it('LEB128 past the end', () => {
    const result = failsWith(module([1, 0x80, 0x80]), 'wasm.truncated');
    expect(result.reasons[0]?.message).toMatch(/LEB128.*byte 9/);
  });

  it('section length past the end', () => {
    failsWith(module([1, 0x05, 0x00]), 'wasm.section-overflow');
  });

  it('a 0x7fffffff (2 GiB) declared section size fails at once', () => {
    const start = performance.now();
    const result = failsWith(
      module([1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00]),
      'wasm.section-overflow'
    );
    failsWith(module([0, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'wasm.section-overflow');
    expect(performance.now() - start).toBeLessThan(50);
    expect(result.reasons[0]?.message).toMatch(/2147483647/);
  });

  it('duplicate sections', () => {
    failsWith(module(section(1, [0]), section(1, [0])), 'wasm.section-duplicate');
  });

  it('sections out of order', () => {
    failsWith(module(section(5, [0]), section(1, [0])), 'wasm.section-order');
    // datacount (12) goes before code (10), tag (13) before global (6).
    expect(inspectWasm(module(section(12, [0]), section(10, [0]))).sections).toHaveLength(2);
    failsWith(module(section(6, [0]), section(13, [0])), 'wasm.section-order');
  });

  it('unknown section id', () => {
    failsWith(module(section(14, [0])), 'wasm.section-unknown');
  });

  it('truncated import entries', () => {
    const entry = [...name('env'), ...name('f'), 0x00, 0x00];
    // Two entries declared, one present.
    const missing = failsWith(module(section(2, [2, ...entry])), 'wasm.truncated');
    expect(missing.imports).toHaveLength(1); // what was read before the error is kept
    // The module name is cut short.
    failsWith(module(section(2, [1, 5, 0x65, 0x6e])), 'wasm.truncated');
    // The function type index is missing.
    failsWith(module(section(2, [1, ...name('env'), ...name('f'), 0x00])), 'wasm.truncated');
    // More entries than bytes: refused before looping.
    failsWith(module(section(2, [0xff, 0xff, 0xff, 0xff, 0x0f])), 'wasm.truncated');
  });

  it('bytes left over after the import entries', () => {
    const entry = [...name('env'), ...name('f'), 0x00, 0x00];
    failsWith(module(section(2, [1, ...entry, 0x00])), 'wasm.section-size');
  });

  it('an import name that is not UTF-8', () => {
    failsWith(module(section(2, [1, 2, 0xc3, 0x28, ...name('f'), 0, 0])), 'wasm.name-utf8');
    failsWith(module(section(0, [2, 0xed, 0xa0])), 'wasm.name-utf8'); // custom section name
  });

  it('module-controlled names in messages are quoted and clipped', () => {
    const long = 'x'.repeat(5000);
    const result = failsWith(
      module(section(2, [1, ...name(long), ...name('\n<b>'), 9])),
      'wasm.malformed'
    );
    expect(result.reasons[0]!.message.length).toBeLessThan(200);
    expect(result.reasons[0]!.message).toMatch(/"x+…"/);
  });

  it('an unknown import kind and bad limits flags', () => {
    failsWith(module(section(2, [1, ...name('env'), ...name('x'), 0x05, 0])), 'wasm.malformed');
    failsWith(module(section(5, [1, 0x08, 1])), 'wasm.malformed');
    failsWith(module(section(4, [1, 0x70, 0x02, 1])), 'wasm.malformed'); // shared table
  });
});

describe('WasmReader', () => {
  const read = <T>(bytes: number[], f: (r: WasmReader) => T): T =>
    f(new WasmReader(Uint8Array.from(bytes)));
  const readError = (bytes: number[], f: (r: WasmReader) => unknown): WasmReadError => {
    try {
      read(bytes, f);
    } catch (error) {
      if (error instanceof WasmReadError) return error;
      throw error;
    }
    throw new Error('expected a WasmReadError');
  };

  it('unsigned LEB128 (u32, u64)', () => {
    expect(read([0x00], (r) => r.u32('x'))).toBe(0);
    expect(read([0xe5, 0x8e, 0x26], (r) => r.u32('x'))).toBe(624485);
    expect(read([0xff, 0xff, 0xff, 0xff, 0x0f], (r) => r.u32('x'))).toBe(0xffffffff);
    expect(read([0x80, 0x80, 0x80, 0x80, 0x00], (r) => r.u32('x'))).toBe(0); // padded is valid
    expect(read([...Array(9).fill(0xff), 0x01], (r) => r.u64('x'))).toBe(2n ** 64n - 1n);
    expect(readError([...Array(9).fill(0xff), 0x02], (r) => r.u64('x')).code).toBe(
      'wasm.leb128-unused-bits'
    );
    expect(readError(Array(10).fill(0x80), (r) => r.u64('x')).code).toBe('wasm.leb128-too-long');
  });

  it('signed LEB128 (s32, s33, s64)', () => {
    expect(read([0x7f], (r) => r.s32('x'))).toBe(-1);
    expect(read([0xc0, 0xbb, 0x78], (r) => r.s32('x'))).toBe(-123456);
    expect(read([0x80, 0x80, 0x80, 0x80, 0x78], (r) => r.s32('x'))).toBe(-(2 ** 31));
    expect(read([0xff, 0xff, 0xff, 0xff, 0x07], (r) => r.s32('x'))).toBe(2 ** 31 - 1);
    expect(readError([0xff, 0xff, 0xff, 0xff, 0x0f], (r) => r.s32('x')).code).toBe(
      'wasm.leb128-unused-bits'
    );
    expect(readError([0x80, 0x80, 0x80, 0x80, 0x70], (r) => r.s32('x')).code).toBe(
      'wasm.leb128-unused-bits'
    );
    expect(read([0xff, 0xff, 0xff, 0xff, 0x0f], (r) => r.s33('x'))).toBe(2 ** 32 - 1);
    expect(read([0x80, 0x80, 0x80, 0x80, 0x70], (r) => r.s33('x'))).toBe(-(2 ** 32));
    expect(read([...Array(9).fill(0x80), 0x7f], (r) => r.s64('x'))).toBe(-(2n ** 63n));
    expect(read([0x7f], (r) => r.s64('x'))).toBe(-1n);
    expect(readError([...Array(9).fill(0x80), 0x40], (r) => r.s64('x')).code).toBe(
      'wasm.leb128-unused-bits'
    );
  });

  it('errors carry the offset where the item starts', () => {
    const error = readError([0x01, 0x80, 0x80], (r) => (r.u8('a'), r.u32('b')));
    expect([error.code, error.offset]).toEqual(['wasm.truncated', 1]);
    const long = readError([0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80], (r) => {
      r.u8('a');
      r.u8('b');
      return r.u32('c');
    });
    expect([long.code, long.offset]).toEqual(['wasm.leb128-too-long', 2]);
  });

  it('names are strict UTF-8; bytes stay within bounds', () => {
    expect(read([3, 0x61, 0xc3, 0xa9], (r) => r.name('n'))).toBe('aé');
    expect(readError([2, 0xc0, 0x80], (r) => r.name('n')).code).toBe('wasm.name-utf8');
    expect(readError([4, 0x61], (r) => r.name('n')).code).toBe('wasm.truncated');
    const bounded = new WasmReader(Uint8Array.from([1, 2, 3, 4]), 1, 3);
    expect([...bounded.bytes(2, 'b')]).toEqual([2, 3]);
    expect(() => bounded.u8('past')).toThrow(WasmReadError);
  });

  it('u32 round-trips through encodeU32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const r = new WasmReader(encodeU32(n));
        expect(r.u32('n')).toBe(n);
        expect(r.atEnd()).toBe(true);
      })
    );
  });
});

describe('capabilities', () => {
  // wasi_snapshot_preview1 as defined in WASI's witx (46 functions).
  const PREVIEW1 =
    `args_get args_sizes_get environ_get environ_sizes_get clock_res_get clock_time_get
    fd_advise fd_allocate fd_close fd_datasync fd_fdstat_get fd_fdstat_set_flags fd_fdstat_set_rights
    fd_filestat_get fd_filestat_set_size fd_filestat_set_times fd_pread fd_prestat_get
    fd_prestat_dir_name fd_pwrite fd_read fd_readdir fd_renumber fd_seek fd_sync fd_tell fd_write
    path_create_directory path_filestat_get path_filestat_set_times path_link path_open
    path_readlink path_remove_directory path_rename path_symlink path_unlink_file poll_oneoff
    proc_exit proc_raise sched_yield random_get sock_accept sock_recv sock_send sock_shutdown`
      .split(/\s+/)
      .sort();

  it('classifies every preview1 function exactly once', () => {
    expect(PREVIEW1).toHaveLength(46);
    expect(WASI_PREVIEW1_FUNCTIONS).toEqual(PREVIEW1);
    for (const fn of PREVIEW1)
      expect(classifyImport('wasi_snapshot_preview1', fn)).not.toBe('foreign');
  });

  it.each([
    ['args', ['args_get', 'args_sizes_get']],
    ['env', ['environ_get', 'environ_sizes_get']],
    ['clock', ['clock_time_get', 'clock_res_get', 'poll_oneoff']],
    ['random', ['random_get']],
    ['stdin', ['fd_read']],
    [
      'fs-read',
      [
        'path_open',
        'fd_readdir',
        'path_filestat_get',
        'fd_filestat_get',
        'path_readlink',
        'fd_pread'
      ]
    ],
    [
      'fs-write',
      [
        ...['path_create_directory', 'path_unlink_file', 'path_remove_directory', 'path_rename'],
        ...['fd_pwrite', 'fd_allocate', 'fd_filestat_set_size', 'fd_filestat_set_times'],
        ...['path_filestat_set_times', 'path_link', 'path_symlink', 'fd_sync', 'fd_datasync']
      ]
    ]
  ] as const)('%s', (group, names) => {
    for (const fn of names) expect(capabilityOf('wasi_snapshot_preview1', fn), fn).toBe(group);
  });

  it('baseline and refused functions need no group', () => {
    const baseline = ['fd_write', 'fd_close', 'fd_seek', 'fd_fdstat_get', 'fd_prestat_get'];
    for (const fn of [...baseline, 'fd_prestat_dir_name', 'proc_exit', 'sched_yield']) {
      expect(BASELINE).toContain(fn);
      expect(classifyImport('wasi_snapshot_preview1', fn)).toBe('baseline');
      expect(capabilityOf('wasi_snapshot_preview1', fn)).toBeNull();
    }
    for (const fn of ['sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown', 'proc_raise']) {
      expect(REFUSED).toContain(fn);
      expect(classifyImport('wasi_snapshot_preview1', fn)).toBe('refused');
    }
  });

  it('anything else is foreign', () => {
    expect(classifyImport('env', 'args_get')).toBe('foreign');
    expect(classifyImport('wasi_unstable', 'fd_write')).toBe('foreign');
    expect(classifyImport('wasi_snapshot_preview1', 'fd_write', 'memory')).toBe('foreign');
    for (const fn of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) {
      expect(classifyImport('wasi_snapshot_preview1', fn)).toBe('foreign');
    }
    expect(capabilityOf('env', 'random_get')).toBeNull();
  });

  it('requiredCapabilities: each group once, in CAPABILITY_GROUPS order', () => {
    const imports = ['fd_write', 'random_get', 'args_get', 'random_get', 'path_unlink_file'].map(
      (n) => ({ capability: capabilityOf('wasi_snapshot_preview1', n) })
    );
    expect(requiredCapabilities({ imports } as unknown as WasmInspection)).toEqual([
      'args',
      'random',
      'fs-write'
    ]);
    expect(CAPABILITY_GROUPS).toEqual([
      'args',
      'env',
      'clock',
      'random',
      'stdin',
      'fs-read',
      'fs-write'
    ]);
  });
});

describe('properties: never throws, never hangs', () => {
  const FIXTURE_NAMES = Object.keys(FIXTURES);
  const fixtures = new Map(FIXTURE_NAMES.map((n) => [n, fixture(n)]));
  const LIMIT_MS = 250;

  function check(bytes: Uint8Array): void {
    const copy = bytes.slice();
    const start = performance.now();
    const result = inspectWasm(bytes);
    expect(performance.now() - start).toBeLessThan(LIMIT_MS);
    expect(Buffer.compare(bytes, copy)).toBe(0); // the input is never written to
    expect(result.ok).toBe(result.reasons.length === 0);
    if (result.ok) expect(result.valid).toBe(true);
    for (const s of result.sections)
      expect(s.contentOffset + s.size).toBeLessThanOrEqual(bytes.length);
  }

  it('random byte strings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), check), { numRuns: 300 });
  });

  it('random bytes after a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (tail) =>
        check(Uint8Array.from([...HEADER, ...tail]))
      ),
      { numRuns: 500 }
    );
  });

  const mutation = fc.oneof(
    fc.record({
      op: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.integer({ min: 0, max: 255 })
    }),
    fc.record({
      op: fc.constant('delete' as const),
      at: fc.nat(),
      length: fc.integer({ min: 1, max: 16 })
    }),
    fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 })
    }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() })
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

  function mutate(source: Uint8Array, mutations: Mutation[]): Uint8Array {
    let bytes = [...source];
    for (const m of mutations) {
      const at = bytes.length === 0 ? 0 : m.at % bytes.length;
      if (m.op === 'set') bytes[at] = m.value;
      else if (m.op === 'delete') bytes.splice(at, m.length);
      else if (m.op === 'insert') bytes.splice(at, 0, ...m.bytes);
      else bytes = bytes.slice(0, at);
    }
    return Uint8Array.from(bytes);
  }

  it('random mutations of the fixtures', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURE_NAMES),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (fixtureName, mutations) => {
          check(mutate(fixtures.get(fixtureName)!, mutations));
        }
      ),
      { numRuns: 400 }
    );
  });
});
