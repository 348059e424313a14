/**
 * Reads a WebAssembly module's structure without compiling or instantiating it: sections, imports
 * (with the capability each needs), exports, memories, tables, start function, custom sections,
 * and whether it is a WASI command or reactor. Also asks the engine whether the module validates.
 *
 * Bad input yields reasons (`wasm.*`), never a throw; every loop is bounded by the input length
 * (vector counts are checked against the bytes left before looping), and a section's declared
 * size is checked against the end of the input before anything is read from it, so a 2 GiB
 * declared size fails at once without allocating. Parsing stops at the first structural error;
 * the lists then hold what was read before it. Code bodies, globals, elements, data and types are
 * bounds-checked and skipped, not decoded: the engine's validate() is the full check.
 */
import { reason, type Reason } from '../verdict';
import {
  classifyImport,
  isCapabilityGroup,
  type CapabilityGroup,
  WASI_MODULE
} from './capabilities';
import {
  hex,
  quoteName,
  readLimits,
  readRefType,
  readMutability,
  readValType,
  skipConstExpr,
  WasmReadError,
  WasmReader
} from './reader';

export type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';
export type WasmEntry = 'command' | 'reactor' | 'none';

export const WASM_MAGIC = Uint8Array.of(0x00, 0x61, 0x73, 0x6d);
export const WASM_VERSION = 1;
export const WASM_HEADER_SIZE = 8;
/** Bytes in one wasm page. */
export const WASM_PAGE_SIZE = 65536;

/** Section names by id (13 = tag, from exception handling). */
export const SECTION_NAMES = [
  'custom',
  'type',
  'import',
  'function',
  'table',
  'memory',
  'global',
  'export',
  'start',
  'element',
  'code',
  'data',
  'datacount',
  'tag'
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** Required order of the non-custom sections (each at most once), by section id. */
const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

const KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

export interface WasmSection {
  id: number;
  name: SectionName;
  /** Offset of the section id byte. */
  offset: number;
  /** Offset of the first content byte (after id and size). */
  contentOffset: number;
  /** Declared content size in bytes. */
  size: number;
  /** The name of a custom section. */
  customName?: string;
}

export interface WasmImport {
  module: string;
  name: string;
  kind: ExternKind;
  /** The capability group it needs, or null (baseline, refused, or not WASI). */
  capability: CapabilityGroup | null;
  /** A function of wasi_snapshot_preview1 that Night Core knows (see capabilities.ts). */
  wasi: boolean;
  /** A preview1 function that is never provided (sock_*, proc_raise). */
  refused: boolean;
}

export interface WasmExport {
  name: string;
  kind: ExternKind;
  index: number;
}

/** Limits: numbers for 32-bit memories and tables, bigints for 64-bit ones. */
export interface WasmMemory {
  index: number;
  imported: boolean;
  /** In 64 KiB pages. */
  min: number | bigint;
  max: number | bigint | null;
  shared: boolean;
  memory64: boolean;
}

export interface WasmTable {
  index: number;
  imported: boolean;
  /** `funcref`, `externref`, `(ref null 3)`, … */
  refType: string;
  min: number | bigint;
  max: number | bigint | null;
  table64: boolean;
}

export interface WasmInspection {
  /** No reasons: structure read completely and the engine validates the module. */
  ok: boolean;
  reasons: Reason[];
  size: number;
  /** The header's version field, or null when the header is incomplete. */
  version: number | null;
  sections: WasmSection[];
  imports: WasmImport[];
  exports: WasmExport[];
  memories: WasmMemory[];
  tables: WasmTable[];
  startFunction: number | null;
  customSections: string[];
  entry: WasmEntry;
  /** `module.name` of every import that is not a known wasi_snapshot_preview1 function. */
  foreignImports: string[];
  /** `module.name` of every preview1 import that is never provided. */
  refusedImports: string[];
  /** WebAssembly.validate() in this engine. */
  valid: boolean;
}

export function inspectWasm(bytes: Uint8Array): WasmInspection {
  const out: WasmInspection = {
    ok: false,
    reasons: [],
    size: 0,
    version: null,
    sections: [],
    imports: [],
    exports: [],
    memories: [],
    tables: [],
    startFunction: null,
    customSections: [],
    entry: 'none',
    foreignImports: [],
    refusedImports: [],
    valid: false
  };
  if (!(bytes instanceof Uint8Array)) {
    out.reasons.push(reason('wasm.input', 'the module must be given as a Uint8Array'));
    return out;
  }
  out.size = bytes.length;
  try {
    readModule(bytes, out);
  } catch (error) {
    if (!(error instanceof WasmReadError)) throw error;
    out.reasons.push(reason(error.code, error.message));
  }
  out.entry = entryOf(out.exports);
  for (const entry of out.imports) {
    const label = `${entry.module}.${entry.name}`;
    if (!entry.wasi) out.foreignImports.push(label);
    if (entry.refused) out.refusedImports.push(label);
  }
  out.valid = engineValidates(bytes);
  if (!out.valid) {
    out.reasons.push(
      reason('wasm.invalid', 'the WebAssembly engine does not validate this module')
    );
  }
  out.ok = out.reasons.length === 0;
  return out;
}

/** WebAssembly.validate(), which never throws here. Exported for the memory rewrite. */
export function engineValidates(bytes: Uint8Array): boolean {
  // validate() refuses views of a SharedArrayBuffer: slice() copies into a plain ArrayBuffer.
  const plain =
    bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  try {
    return WebAssembly.validate(plain);
  } catch {
    return false;
  }
}

function entryOf(exports: readonly WasmExport[]): WasmEntry {
  const isFunc = (name: string) => exports.some((e) => e.name === name && e.kind === 'func');
  if (isFunc('_start')) return 'command';
  if (isFunc('_initialize')) return 'reactor';
  return 'none';
}

function readHeader(bytes: Uint8Array, out: WasmInspection): void {
  for (let i = 0; i < WASM_MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== WASM_MAGIC[i]) {
      throw new WasmReadError('wasm.magic', 'not a WebAssembly module (no \\0asm magic)', 0);
    }
  }
  if (bytes.length < WASM_HEADER_SIZE) {
    throw new WasmReadError(
      'wasm.truncated',
      `header: ${bytes.length} of ${WASM_HEADER_SIZE} bytes`,
      bytes.length
    );
  }
  const version = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  out.version = version;
  if (version !== WASM_VERSION) {
    const component = bytes[6] === 1 && bytes[7] === 0;
    throw new WasmReadError(
      'wasm.version',
      component
        ? 'a WebAssembly component, not a core module'
        : `binary format version ${version}, expected ${WASM_VERSION}`,
      4
    );
  }
}

/** Index spaces as imports and definitions fill them. */
interface Counts {
  tables: number;
  memories: number;
}

function readModule(bytes: Uint8Array, out: WasmInspection): void {
  readHeader(bytes, out);
  const r: WasmReader = new WasmReader(bytes, WASM_HEADER_SIZE);
  const counts: Counts = { tables: 0, memories: 0 };
  const seen = new Set<number>();
  let lastRank = -1;
  while (!r.atEnd()) {
    const offset = r.offset;
    const id = r.u8('section id');
    const name = SECTION_NAMES[id];
    if (name === undefined) r.fail('wasm.section-unknown', `unknown section id ${id}`, offset);
    const size = r.u32(`${name} section size`);
    const contentOffset = r.offset;
    if (size > r.remaining) {
      r.fail(
        'wasm.section-overflow',
        `${name} section declares ${size} bytes, only ${r.remaining} remain`,
        offset
      );
    }
    if (id !== 0) {
      const rank = SECTION_ORDER.indexOf(id);
      if (seen.has(id)) r.fail('wasm.section-duplicate', `a second ${name} section`, offset);
      if (rank < lastRank) r.fail('wasm.section-order', `${name} section out of order`, offset);
      seen.add(id);
      lastRank = rank;
    }
    const section: WasmSection = { id, name, offset, contentOffset, size };
    out.sections.push(section);
    const s: WasmReader = new WasmReader(bytes, contentOffset, contentOffset + size);
    readSection(s, section, out, counts);
    r.skip(size, `${name} section`);
  }
}

function readSection(s: WasmReader, section: WasmSection, out: WasmInspection, counts: Counts) {
  const what = `${section.name} section`;
  switch (section.name) {
    case 'custom': {
      const name = s.name('custom section name');
      section.customName = name;
      out.customSections.push(name);
      return; // the rest is free-form
    }
    case 'import': {
      const n = s.count('import', 4);
      for (let i = 0; i < n; i++) readImport(s, `import ${i}`, out, counts);
      return s.expectEnd(what);
    }
    case 'function': {
      const n = s.count('function');
      for (let i = 0; i < n; i++) s.u32(`function ${i} type index`);
      return s.expectEnd(what);
    }
    case 'table': {
      const n = s.count('table', 2);
      for (let i = 0; i < n; i++) out.tables.push(readTableEntry(s, `table ${i}`, counts));
      return s.expectEnd(what);
    }
    case 'memory': {
      const n = s.count('memory', 2);
      for (let i = 0; i < n; i++) {
        out.memories.push({ ...readMemoryType(s, `memory ${i}`, counts), imported: false });
      }
      return s.expectEnd(what);
    }
    case 'export': {
      const n = s.count('export', 3);
      for (let i = 0; i < n; i++) {
        const name = s.name(`export ${i} name`);
        const kind = readKind(s, `export ${i} (${quoteName(name)})`);
        out.exports.push({ name, kind, index: s.u32(`export ${i} index`) });
      }
      return s.expectEnd(what);
    }
    case 'start':
      out.startFunction = s.u32('start function index');
      return s.expectEnd(what);
    case 'datacount':
      s.u32('data count');
      return s.expectEnd(what);
    case 'code': {
      const n = s.count('code', 1);
      for (let i = 0; i < n; i++) s.skip(s.u32(`code body ${i} size`), `code body ${i}`);
      return s.expectEnd(what);
    }
    default:
      // type, global, element, data, tag: only the count is read here; validate() checks the rest.
      s.count(section.name);
  }
}

function readKind(s: WasmReader, what: string): ExternKind {
  const at = s.offset;
  const byte = s.u8(`${what} kind`);
  const kind = KINDS[byte];
  if (kind === undefined) s.fail('wasm.malformed', `${what}: unknown kind 0x${hex(byte)}`, at);
  return kind;
}

function readImport(s: WasmReader, what: string, out: WasmInspection, counts: Counts): void {
  const module = s.name(`${what} module name`);
  const name = s.name(`${what} name`);
  const kind = readKind(s, `${what} (${quoteName(`${module}.${name}`)})`);
  switch (kind) {
    case 'func':
      s.u32(`${what} type index`);
      break;
    case 'table':
      out.tables.push({ ...readTableType(s, what, counts), imported: true });
      break;
    case 'memory':
      out.memories.push({ ...readMemoryType(s, what, counts), imported: true });
      break;
    case 'global':
      readValType(s, `${what} global type`);
      readMutability(s, what);
      break;
    case 'tag': {
      const at = s.offset;
      if (s.u8(`${what} tag attribute`) !== 0) s.fail('wasm.malformed', `${what}: bad tag`, at);
      s.u32(`${what} tag type index`);
      break;
    }
  }
  const cls = classifyImport(module, name, kind);
  out.imports.push({
    module,
    name,
    kind,
    capability: isCapabilityGroup(cls) ? cls : null,
    wasi: cls !== 'foreign',
    refused: cls === 'refused'
  });
}

function readMemoryType(s: WasmReader, what: string, counts: Counts): Omit<WasmMemory, 'imported'> {
  const { min, max, shared, is64 } = readLimits(s, what, true);
  return { index: counts.memories++, min, max, shared, memory64: is64 };
}

function readTableType(s: WasmReader, what: string, counts: Counts): Omit<WasmTable, 'imported'> {
  const refType = readRefType(s, `${what} element type`);
  const { min, max, is64 } = readLimits(s, what, false);
  return { index: counts.tables++, refType, min, max, table64: is64 };
}

/** A table section entry: a table type, or 0x40 0x00 + table type + initializer expression. */
function readTableEntry(s: WasmReader, what: string, counts: Counts): WasmTable {
  if (s.peek(what) !== 0x40) return { ...readTableType(s, what, counts), imported: false };
  s.u8(what);
  const at = s.offset;
  if (s.u8(what) !== 0x00) s.fail('wasm.malformed', `${what}: bad table initializer prefix`, at);
  const table = readTableType(s, what, counts);
  skipConstExpr(s, `${what} initializer`);
  return { ...table, imported: false };
}
