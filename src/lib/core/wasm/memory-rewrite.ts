/**
 * The memory cap (DESIGN.md, run model): before a module is compiled, every memory it defines gets
 * a maximum no larger than the cap, so `memory.grow` past the cap returns -1 inside the engine
 * instead of taking the tab's memory. The engine enforces the maximum; nothing has to watch.
 *
 * Only the memory section changes: each entry whose maximum is absent or above the cap gets
 * flags 0x01 and the cap as maximum (its minimum keeps its original bytes), entries already under
 * the cap keep their bytes, and the section's length is re-encoded. Every other byte of the module
 * is copied unchanged. The input array is never written to.
 *
 * Refused (a reason, never a throw): memories that are imported (the runtime creates those, so it
 * must give them its own maximum), shared memories and 64-bit memories (DESIGN.md: refused unless
 * allowed; this rewrite does not handle them), a minimum above the cap, and any module whose
 * structure does not read (see inspect.ts). A module that reads but that this engine does not
 * validate (e.g. multi-memory in Node 20) is still rewritten; when the input validates, the output
 * must validate too (wasm.rewrite-invalid otherwise). The caller logs both SHA-256 digests.
 */
import { concatBytes } from '../bytes';
import { reason, type Reason } from '../verdict';
import { engineValidates, inspectWasm, WASM_PAGE_SIZE, type WasmInspection } from './inspect';
import { encodeU32, quoteName, WasmReadError, WasmReader } from './reader';

/** The most pages a 32-bit memory can have (4 GiB). */
export const MAX_MEMORY32_PAGES = 65536;

const MEMORY_SECTION_ID = 5;
const LIMITS_MIN_MAX = 0x01;

export interface MemoryCap {
  /** Index in the module's memory index space. */
  index: number;
  /** The maximum before the rewrite, in pages (null: none). */
  originalMax: number | null;
  /** The maximum after it, in pages. */
  newMax: number;
}

export type RewriteResult =
  | {
      ok: true;
      /** A new array over its own ArrayBuffer (ready for WebAssembly.compile); never the input. */
      bytes: Uint8Array<ArrayBuffer>;
      changed: boolean;
      memories: MemoryCap[];
    }
  | { ok: false; reason: Reason };

const refuse = (code: `wasm.${string}`, message: string): RewriteResult => ({
  ok: false,
  reason: reason(code, message)
});

const mib = (pages: number) => `${(pages * WASM_PAGE_SIZE) / (1024 * 1024)} MiB`;

/**
 * Why the runtime will refuse these memories under a cap of `maxPages` (imported, shared, 64-bit,
 * or starting above the cap), or null. Review shows the same reason before anyone approves.
 */
export function memoryRefusal(
  inspection: Pick<WasmInspection, 'memories' | 'imports'>,
  maxPages: number
): Reason | null {
  for (const memory of inspection.memories) {
    const which = `memory ${memory.index}`;
    if (memory.imported) {
      const entry = inspection.imports.filter((i) => i.kind === 'memory')[memory.index];
      const name = entry ? ` (${quoteName(`${entry.module}.${entry.name}`)})` : '';
      return reason(
        'wasm.memory-imported',
        `${which}${name} is imported: the runtime must create it with its own maximum`
      );
    }
    if (memory.shared) return reason('wasm.memory-shared', `${which} is a shared memory`);
    if (memory.memory64 || typeof memory.min !== 'number') {
      return reason('wasm.memory64', `${which} is a 64-bit memory`);
    }
    if (memory.min > maxPages) {
      return reason(
        'wasm.memory-min-over-cap',
        `${which} starts at ${memory.min} pages (${mib(memory.min)}), over the cap of ${maxPages} pages (${mib(maxPages)})`
      );
    }
  }
  return null;
}

/** Caps every memory the module defines at `maxPages` pages of 64 KiB. */
export function rewriteMemoryMaximum(bytes: Uint8Array, maxPages: number): RewriteResult {
  if (!(bytes instanceof Uint8Array)) {
    return refuse('wasm.input', 'the module must be given as a Uint8Array');
  }
  if (!Number.isSafeInteger(maxPages) || maxPages < 0 || maxPages > MAX_MEMORY32_PAGES) {
    return refuse(
      'wasm.memory-cap',
      `the memory cap must be a whole number of pages from 0 to ${MAX_MEMORY32_PAGES}, got ${String(maxPages)}`
    );
  }
  const inspection = inspectWasm(bytes);
  const broken = inspection.reasons.find((r) => r.code !== 'wasm.invalid');
  if (broken) return { ok: false, reason: broken };

  const refused = memoryRefusal(inspection, maxPages);
  if (refused) return { ok: false, reason: refused };

  const section = inspection.sections.find((s) => s.id === MEMORY_SECTION_ID);
  if (!section) return { ok: true, bytes: bytes.slice(), changed: false, memories: [] };

  const sectionEnd = section.contentOffset + section.size;
  const memories: MemoryCap[] = [];
  const parts: Uint8Array[] = [];
  try {
    const r: WasmReader = new WasmReader(bytes, section.contentOffset, sectionEnd);
    const count = r.count('memory', 2);
    parts.push(bytes.subarray(section.contentOffset, r.offset));
    for (let i = 0; i < count; i++) {
      const entryStart = r.offset;
      const flags = r.u8(`memory ${i} limits flags`);
      const minStart = r.offset;
      r.u32(`memory ${i} minimum`);
      const minBytes = bytes.subarray(minStart, r.offset);
      // Flags above 0x01 (shared, 64-bit) were refused above.
      const originalMax = flags === LIMITS_MIN_MAX ? r.u32(`memory ${i} maximum`) : null;
      const newMax = originalMax === null ? maxPages : Math.min(originalMax, maxPages);
      const index = inspection.memories.length - count + i;
      memories.push({ index, originalMax, newMax });
      if (newMax === originalMax) {
        parts.push(bytes.subarray(entryStart, r.offset));
      } else {
        parts.push(Uint8Array.of(LIMITS_MIN_MAX), minBytes, encodeU32(newMax));
      }
    }
    r.expectEnd('memory section');
  } catch (error) {
    if (!(error instanceof WasmReadError)) throw error;
    return refuse(error.code, error.message); // unreachable: inspectWasm read the same bytes
  }

  const changed = memories.some((m) => m.newMax !== m.originalMax);
  if (!changed) return { ok: true, bytes: bytes.slice(), changed, memories };

  const contents = concatBytes(...parts);
  const out = concatBytes(
    bytes.subarray(0, section.offset),
    Uint8Array.of(MEMORY_SECTION_ID),
    encodeU32(contents.length),
    contents,
    bytes.subarray(sectionEnd)
  );
  if (inspection.valid && !engineValidates(out)) {
    return refuse(
      'wasm.rewrite-invalid',
      'the module no longer validates after the memory rewrite'
    );
  }
  return { ok: true, bytes: out, changed, memories };
}
