// rewriteMemoryMaximum: the memory cap written into the module before it is compiled. Proves the
// cap holds in a real engine (memory-bomb traps at exactly the cap), that only the memory section
// changes, and that every refusal has its own reason code.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectWasm, WASM_PAGE_SIZE } from '../../src/lib/core/wasm/inspect';
import { rewriteMemoryMaximum, type RewriteResult } from '../../src/lib/core/wasm/memory-rewrite';
import { encodeU32 } from '../../src/lib/core/wasm/reader';

const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/wasm/', import.meta.url));
const FIXTURE_NAMES = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.wasm'))
  .map((f) => f.slice(0, -5))
  .sort();
const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(join(FIXTURE_DIR, `${name}.wasm`)));

const tmp = mkdtempSync(join(tmpdir(), 'nightcore-rewrite-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileCount = 0;
const tmpPath = (ext: string) => join(tmp, `f${fileCount++}.${ext}`);
/** Builds a module from WAT text with the installed wat2wasm. */
function wat(source: string, ...flags: string[]): Uint8Array<ArrayBuffer> {
  const input = tmpPath('wat');
  const output = tmpPath('wasm');
  writeFileSync(input, source);
  execFileSync('wat2wasm', [...flags, input, '-o', output]);
  return new Uint8Array(readFileSync(output));
}
/** wabt's validator, for features this Node does not ship (multi-memory). */
function wabtValidates(bytes: Uint8Array, ...flags: string[]): boolean {
  const file = tmpPath('wasm');
  writeFileSync(file, bytes);
  try {
    execFileSync('wasm-validate', [...flags, file], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Rewrites, checks the input was not touched, and insists on success. */
function rewrite(bytes: Uint8Array, cap: number): Extract<RewriteResult, { ok: true }> {
  const copy = bytes.slice();
  const result = rewriteMemoryMaximum(bytes, cap);
  expect(Buffer.compare(bytes, copy), 'input changed').toBe(0);
  if (!result.ok)
    throw new Error(`rewrite refused: ${result.reason.code} ${result.reason.message}`);
  expect(result.bytes).not.toBe(bytes);
  return result;
}

function refusal(bytes: Uint8Array, cap: number): string {
  const copy = bytes.slice();
  const result = rewriteMemoryMaximum(bytes, cap);
  expect(Buffer.compare(bytes, copy), 'input changed').toBe(0);
  if (result.ok) throw new Error('expected a refusal');
  return result.reason.code;
}

/**
 * Asserts that `after` equals `before` except inside the memory section (its id byte stays, its
 * length and contents may change): every other section is byte-identical, in the same order.
 */
function expectOnlyMemorySectionChanged(before: Uint8Array, after: Uint8Array): void {
  const a = inspectWasm(before).sections;
  const b = inspectWasm(after).sections;
  expect(b.map((s) => s.id)).toEqual(a.map((s) => s.id));
  const memA = a.find((s) => s.id === 5)!;
  const memB = b.find((s) => s.id === 5)!;
  expect(Buffer.compare(before.subarray(0, memA.offset), after.subarray(0, memB.offset))).toBe(0);
  const tail = (bytes: Uint8Array, s: typeof memA) => bytes.subarray(s.contentOffset + s.size);
  expect(Buffer.compare(tail(before, memA), tail(after, memB))).toBe(0);
  for (const [i, s] of a.entries()) {
    if (s.id === 5) continue;
    const t = b[i]!;
    const whole = (bytes: Uint8Array, x: typeof s) =>
      bytes.subarray(x.offset, x.contentOffset + x.size);
    expect(Buffer.compare(whole(before, s), whole(after, t)), s.name).toBe(0);
  }
  expect(after[memB.offset]).toBe(5);
}

/** Runs memory-bomb's _start (no imports) and reports how it ended and the final memory size. */
function runMemoryBomb(bytes: Uint8Array<ArrayBuffer>): { error: unknown; pages: number } {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  let error: unknown = null;
  try {
    (instance.exports._start as () => void)();
  } catch (caught) {
    error = caught;
  }
  return { error, pages: memory.buffer.byteLength / WASM_PAGE_SIZE };
}

describe('memory-bomb under a cap', () => {
  it.each([1, 2, 16, 64])('traps at exactly %i pages', (cap) => {
    const original = fixture('memory-bomb');
    const result = rewrite(original, cap);
    expect(result.changed).toBe(true);
    expect(result.memories).toEqual([{ index: 0, originalMax: null, newMax: cap }]);
    expect(WebAssembly.validate(result.bytes)).toBe(true);
    expect(inspectWasm(result.bytes).memories[0]).toMatchObject({ min: 1, max: cap });
    expectOnlyMemorySectionChanged(original, result.bytes);

    const { error, pages } = runMemoryBomb(result.bytes);
    expect(error).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(String(error)).toMatch(/unreachable/);
    expect(pages).toBe(cap);
  });

  it('the original has no maximum (never run uncapped here)', () => {
    expect(inspectWasm(fixture('memory-bomb')).memories[0]?.max).toBeNull();
  });
});

describe('every fixture', () => {
  it.each(FIXTURE_NAMES)('%s: capped, still valid, only the memory section differs', (name) => {
    const original = fixture(name);
    const result = rewrite(original, 16);
    expect(result.changed).toBe(true);
    expect(result.memories).toEqual([{ index: 0, originalMax: null, newMax: 16 }]);
    expect(WebAssembly.validate(result.bytes)).toBe(true);
    expectOnlyMemorySectionChanged(original, result.bytes);
    const after = inspectWasm(result.bytes);
    expect(after.ok).toBe(true);
    expect(after.memories[0]?.max).toBe(16);
    // Idempotent: a second rewrite finds nothing to do and copies the bytes.
    const again = rewrite(result.bytes, 16);
    expect(again.changed).toBe(false);
    expect(Buffer.compare(again.bytes, result.bytes)).toBe(0);
  });

  it('hello still runs under node:wasi after the rewrite', () => {
    const result = rewrite(fixture('hello'), 2); // its minimum
    const stdoutPath = tmpPath('out');
    const stdout = openSync(stdoutPath, 'w');
    try {
      const wasi = new WASI({
        version: 'preview1',
        args: ['hello'],
        env: {},
        stdout,
        returnOnExit: true
      });
      const instance = new WebAssembly.Instance(
        new WebAssembly.Module(result.bytes),
        wasi.getImportObject() as WebAssembly.Imports
      );
      expect(wasi.start(instance)).toBe(0);
    } finally {
      closeSync(stdout);
    }
    expect(readFileSync(stdoutPath, 'utf8')).toBe('hello from wasm\n');
  });
});

describe('limits', () => {
  it('a maximum already under the cap is kept: nothing changes', () => {
    const original = wat('(module (memory 1 4))');
    const result = rewrite(original, 16);
    expect(result.changed).toBe(false);
    expect(result.memories).toEqual([{ index: 0, originalMax: 4, newMax: 4 }]);
    expect(Buffer.compare(result.bytes, original)).toBe(0);
  });

  it('a maximum equal to the cap is kept; one above it is lowered', () => {
    expect(rewrite(wat('(module (memory 1 16))'), 16).changed).toBe(false);
    const original = wat('(module (memory 2 100) (export "m" (memory 0)))');
    const result = rewrite(original, 16);
    expect(result.memories).toEqual([{ index: 0, originalMax: 100, newMax: 16 }]);
    expect(inspectWasm(result.bytes).memories[0]).toMatchObject({ min: 2, max: 16 });
    expectOnlyMemorySectionChanged(original, result.bytes);
  });

  it('a minimum equal to the cap is fine; over the cap is refused', () => {
    expect(rewrite(wat('(module (memory 16))'), 16).memories[0]?.newMax).toBe(16);
    expect(refusal(wat('(module (memory 17))'), 16)).toBe('wasm.memory-min-over-cap');
    expect(refusal(wat('(module (memory 2 3))'), 1)).toBe('wasm.memory-min-over-cap');
  });

  it('a cap of 0 pages works for a memory of 0 pages', () => {
    const result = rewrite(wat('(module (memory 0))'), 0);
    expect(result.memories).toEqual([{ index: 0, originalMax: null, newMax: 0 }]);
    expect(WebAssembly.validate(result.bytes)).toBe(true);
  });

  it('no memory: nothing to do', () => {
    const original = wat('(module (func (export "_start")))');
    const result = rewrite(original, 16);
    expect(result).toMatchObject({ changed: false, memories: [] });
    expect(Buffer.compare(result.bytes, original)).toBe(0);
  });

  it('refuses shared, 64-bit and imported memories', () => {
    expect(refusal(wat('(module (memory 1 4 shared))', '--enable-threads'), 16)).toBe(
      'wasm.memory-shared'
    );
    expect(refusal(wat('(module (memory i64 1))', '--enable-memory64'), 16)).toBe('wasm.memory64');
    expect(refusal(wat('(module (import "env" "memory" (memory 1)))'), 16)).toBe(
      'wasm.memory-imported'
    );
    const imported = rewriteMemoryMaximum(wat('(module (import "env" "mem" (memory 1)))'), 16);
    expect(!imported.ok && imported.reason.message).toMatch(/env\.mem/);
  });

  it('several memories: each capped on its own (multi-memory, checked by wabt)', () => {
    const original = wat(
      '(module (memory 1) (memory 2 3) (memory 1 100) (export "a" (memory 2)))',
      '--enable-multi-memory'
    );
    const result = rewrite(original, 8);
    expect(result.memories).toEqual([
      { index: 0, originalMax: null, newMax: 8 },
      { index: 1, originalMax: 3, newMax: 3 },
      { index: 2, originalMax: 100, newMax: 8 }
    ]);
    expect(inspectWasm(result.bytes).memories.map((m) => m.max)).toEqual([8, 3, 8]);
    expect(wabtValidates(result.bytes, '--enable-multi-memory')).toBe(true);
    expectOnlyMemorySectionChanged(original, result.bytes);
  });

  it('re-encodes a section length that grows past one LEB128 byte', () => {
    // 63 memories of 2 bytes each: 127 content bytes; with a 1-byte maximum each, 190.
    const original = wat(`(module ${'(memory 1) '.repeat(63)})`, '--enable-multi-memory');
    const before = inspectWasm(original).sections.find((s) => s.id === 5)!;
    expect(before.size).toBe(127);
    const result = rewrite(original, 16);
    const after = inspectWasm(result.bytes).sections.find((s) => s.id === 5)!;
    expect(after.size).toBe(190);
    expect(after.contentOffset - after.offset).toBe(3); // id + 2-byte length
    expect(result.bytes.length).toBe(original.length + 63 + 1);
    expect(wabtValidates(result.bytes, '--enable-multi-memory')).toBe(true);
    expectOnlyMemorySectionChanged(original, result.bytes);
  });

  it('keeps a padded minimum as it is; re-encodes only the length', () => {
    // memory section with a padded length (5 bytes) and a padded minimum of 1 (5 bytes).
    const min = [0x81, 0x80, 0x80, 0x80, 0x00];
    const original = Uint8Array.from([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[0x05, 0x87, 0x80, 0x80, 0x80, 0x00, 0x01, 0x00, ...min]
    ]);
    expect(WebAssembly.validate(original)).toBe(true);
    const result = rewrite(original, 16);
    expect([...result.bytes.subarray(8)]).toEqual([0x05, 0x08, 0x01, 0x01, ...min, 0x10]);
    expect(WebAssembly.validate(result.bytes)).toBe(true);
  });
});

describe('input views', () => {
  it('a SharedArrayBuffer view gives the same bytes in a plain ArrayBuffer', () => {
    const bytes = fixture('memory-bomb');
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    const fromShared = rewrite(shared, 8);
    expect(fromShared.bytes.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.compare(fromShared.bytes, rewrite(bytes, 8).bytes)).toBe(0);
  });

  it('a view into a larger buffer: offsets are relative to the view', () => {
    const bytes = fixture('hello');
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    const view = padded.subarray(3, 3 + bytes.length);
    expect(Buffer.compare(rewrite(view, 4).bytes, rewrite(bytes, 4).bytes)).toBe(0);
    expect(rewrite(view, 400).changed).toBe(true);
  });
});

describe('bad input', () => {
  it('refuses a cap that is not a page count', () => {
    const bytes = fixture('memory-bomb');
    for (const cap of [-1, 1.5, 65537, Number.NaN, Infinity, '16' as unknown as number]) {
      expect(refusal(bytes, cap), String(cap)).toBe('wasm.memory-cap');
    }
    expect(rewrite(bytes, 65536).memories[0]?.newMax).toBe(65536);
  });

  it('passes on the structural reason of a module that does not read', () => {
    expect(refusal(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 16)).toBe('wasm.magic');
    const truncated = fixture('hello').subarray(0, 100);
    expect(refusal(truncated, 16)).toMatch(/^wasm\.(section-overflow|truncated)$/);
    const notBytes = rewriteMemoryMaximum('nope' as unknown as Uint8Array, 16);
    expect(!notBytes.ok && notBytes.reason.code).toBe('wasm.input');
  });

  it('never throws and keeps its promises on mutated fixtures', () => {
    const sources = FIXTURE_NAMES.map(fixture);
    fc.assert(
      fc.property(
        fc.constantFrom(...sources),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: 0, max: 70000 }),
        (source, edits, cap) => {
          const bytes = source.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          const copy = bytes.slice();
          const inputValid = WebAssembly.validate(bytes);
          const result = rewriteMemoryMaximum(bytes, cap);
          expect(Buffer.compare(bytes, copy)).toBe(0);
          if (!result.ok) return;
          if (inputValid) expect(WebAssembly.validate(result.bytes)).toBe(true);
          for (const m of inspectWasm(result.bytes).memories) {
            expect(m.max).not.toBeNull();
            expect(m.max as number).toBeLessThanOrEqual(cap);
          }
        }
      ),
      { numRuns: 300 }
    );
  });
});

it('encodeU32 writes the shortest LEB128', () => {
  expect([...encodeU32(0)]).toEqual([0]);
  expect([...encodeU32(127)]).toEqual([0x7f]);
  expect([...encodeU32(128)]).toEqual([0x80, 0x01]);
  expect([...encodeU32(0xffffffff)]).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  expect(() => encodeU32(-1)).toThrow(RangeError);
});
