/**
 * Builds small valid WebAssembly modules from a random description (types, imports, functions,
 * at most one memory, globals, exports, custom sections anywhere), with LEB128 numbers optionally
 * padded to more bytes than needed (valid, and exactly what a byte-preserving rewrite must keep),
 * and splits a module into its sections so tests can compare two modules section by section.
 */
import fc from 'fast-check';
import { concatBytes, utf8 } from '../../src/lib/core/bytes';

/** Unsigned LEB128, padded to `width` bytes when that is more than the minimum. */
export function leb(value: number, width = 0): Uint8Array {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0 || out.length + 1 < width) byte |= 0x80;
    out.push(byte);
  } while (v !== 0 || out.length < width);
  return Uint8Array.from(out);
}

const name = (text: string) => {
  const bytes = utf8(text);
  return concatBytes(leb(bytes.length), bytes);
};
const section = (id: number, content: Uint8Array) =>
  concatBytes(Uint8Array.of(id), leb(content.length), content);
const vector = (items: Uint8Array[]) => concatBytes(leb(items.length), ...items);

const VALTYPES = [0x7f, 0x7e, 0x7d, 0x7c];

export interface MemorySpec {
  min: number;
  max: number | null;
  /** Bytes used for min and max (0: minimal). */
  minWidth: number;
  maxWidth: number;
}

export interface ModuleSpec {
  types: { params: number[]; results: number[] }[];
  imports: { module: string; name: string; type: number }[];
  functions: number[];
  memory: MemorySpec | null;
  importMemory: boolean;
  globals: number[];
  exportMemory: boolean;
  exportFunctions: boolean;
  /** Custom sections: [position among the standard sections, name, payload]. */
  customs: [number, string, Uint8Array][];
}

const valtypes = fc.array(fc.constantFrom(...VALTYPES), { maxLength: 3 });

export const memorySpec: fc.Arbitrary<MemorySpec> = fc
  .tuple(
    fc.integer({ min: 0, max: 65536 }),
    fc.option(fc.integer({ min: 0, max: 65536 })),
    fc.integer({ min: 0, max: 5 }),
    fc.integer({ min: 0, max: 5 })
  )
  .map(([a, b, minWidth, maxWidth]) => ({
    min: b === null ? a : Math.min(a, b),
    max: b === null ? null : Math.max(a, b),
    minWidth,
    maxWidth
  }));

export const moduleSpec: fc.Arbitrary<ModuleSpec> = fc
  .record({
    types: fc.array(fc.record({ params: valtypes, results: valtypes }), {
      minLength: 1,
      maxLength: 4
    }),
    imports: fc.array(
      fc.record({
        module: fc.constantFrom('wasi_snapshot_preview1', 'env', 'x'),
        name: fc.constantFrom('fd_write', 'proc_exit', 'clock_time_get', 'f', 'g', 'random_get'),
        type: fc.nat()
      }),
      { maxLength: 4 }
    ),
    functions: fc.array(fc.nat(), { maxLength: 4 }),
    memory: fc.option(memorySpec, { freq: 4 }),
    importMemory: fc.boolean(),
    globals: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 3 }),
    exportMemory: fc.boolean(),
    exportFunctions: fc.boolean(),
    customs: fc.array(
      fc.tuple(fc.nat(8), fc.string({ maxLength: 12 }), fc.uint8Array({ maxLength: 24 })),
      { maxLength: 3 }
    )
  })
  .map((spec) => ({
    ...spec,
    imports: spec.imports.map((i) => ({ ...i, type: i.type % spec.types.length })),
    functions: spec.functions.map((t) => t % spec.types.length),
    // One memory at most: an import or a definition (Node's engine has no multi-memory).
    importMemory: spec.importMemory && spec.memory === null
  }));

function limits(m: MemorySpec): Uint8Array {
  return m.max === null
    ? concatBytes(Uint8Array.of(0x00), leb(m.min, m.minWidth))
    : concatBytes(Uint8Array.of(0x01), leb(m.min, m.minWidth), leb(m.max, m.maxWidth));
}

/** The module's bytes; `memory` is written with its padded LEB widths. */
export function buildModule(spec: ModuleSpec): Uint8Array {
  const standard: [number, Uint8Array][] = [];
  const types = spec.types.map(({ params, results }) =>
    concatBytes(
      Uint8Array.of(0x60),
      vector(params.map((t) => Uint8Array.of(t))),
      vector(results.map((t) => Uint8Array.of(t)))
    )
  );
  standard.push([1, vector(types)]);
  const imports = spec.imports.map((i) =>
    concatBytes(name(i.module), name(i.name), Uint8Array.of(0x00), leb(i.type))
  );
  if (spec.importMemory) {
    imports.push(concatBytes(name('env'), name('memory'), Uint8Array.of(0x02, 0x00), leb(1)));
  }
  if (imports.length > 0) standard.push([2, vector(imports)]);
  if (spec.functions.length > 0) standard.push([3, vector(spec.functions.map((t) => leb(t)))]);
  if (spec.memory) standard.push([5, vector([limits(spec.memory)])]);
  if (spec.globals.length > 0) {
    const globals = spec.globals.map((v) =>
      concatBytes(Uint8Array.of(0x7f, 0x00, 0x41), sleb(v), Uint8Array.of(0x0b))
    );
    standard.push([6, vector(globals)]);
  }
  const exports: Uint8Array[] = [];
  if (spec.exportMemory && spec.memory)
    exports.push(concatBytes(name('memory'), Uint8Array.of(0x02), leb(0)));
  if (spec.exportFunctions) {
    spec.functions.forEach((_, i) =>
      exports.push(concatBytes(name(`f${i}`), Uint8Array.of(0x00), leb(spec.imports.length + i)))
    );
  }
  if (exports.length > 0) standard.push([7, vector(exports)]);
  if (spec.functions.length > 0) {
    // Each body: no locals, unreachable, end (valid whatever the function's type).
    const body = Uint8Array.of(0x00, 0x00, 0x0b);
    standard.push([10, vector(spec.functions.map(() => concatBytes(leb(body.length), body)))]);
  }
  const parts: Uint8Array[] = [Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)];
  standard.forEach(([id, content], i) => {
    for (const [at, customName, payload] of spec.customs) {
      if (at % (standard.length + 1) === i)
        parts.push(section(0, concatBytes(name(customName), payload)));
    }
    parts.push(section(id, content));
  });
  for (const [at, customName, payload] of spec.customs) {
    if (at % (standard.length + 1) === standard.length) {
      parts.push(section(0, concatBytes(name(customName), payload)));
    }
  }
  return concatBytes(...parts);
}

function sleb(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return Uint8Array.from(out);
    }
    out.push(byte | 0x80);
  }
}

function readLeb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  let i = at;
  for (;;) {
    const byte = bytes[i++];
    if (byte === undefined) throw new Error('LEB past the end');
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, i];
  }
}

export interface RawSection {
  id: number;
  /** The content bytes (after id and size). */
  content: Uint8Array;
  /** The whole section as written: id, size (as encoded) and content. */
  whole: Uint8Array;
}

/** A module's 8-byte header and its sections in order (the test's own reader, not core's). */
export function splitSections(bytes: Uint8Array): { header: Uint8Array; sections: RawSection[] } {
  const sections: RawSection[] = [];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++]!;
    const [size, contentAt] = readLeb(bytes, at);
    at = contentAt + size;
    sections.push({ id, content: bytes.subarray(contentAt, at), whole: bytes.subarray(start, at) });
  }
  return { header: bytes.subarray(0, 8), sections };
}

/** A memory section's entries: flags, the min's bytes as written, and the max (null: none). */
export function memoryEntries(
  content: Uint8Array
): { flags: number; minBytes: Uint8Array; max: number | null; whole: Uint8Array }[] {
  const [count, first] = readLeb(content, 0);
  const out = [];
  let at = first;
  for (let i = 0; i < count; i++) {
    const start = at;
    const flags = content[at++]!;
    const [, afterMin] = readLeb(content, at);
    const minBytes = content.subarray(at, afterMin);
    at = afterMin;
    let max: number | null = null;
    if (flags & 1) [max, at] = readLeb(content, at);
    out.push({ flags, minBytes, max, whole: content.subarray(start, at) });
  }
  return out;
}
