/**
 * Hostile input for the wasm reader and the memory rewrite. Generated valid modules (random types,
 * imports, functions, globals, exports, one memory with padded LEB128 limits, custom sections
 * anywhere) must inspect cleanly and, after the rewrite, still validate with every section but the
 * memory section byte-identical and each memory entry's minimum bytes kept. Random bytes and
 * mutated fixtures must come back as reasons, never as an exception.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectWasm } from '../../src/lib/core/wasm/inspect';
import { rewriteMemoryMaximum } from '../../src/lib/core/wasm/memory-rewrite';
import {
  anyBytes,
  attempt,
  mutatedBytes,
  params,
  property,
  reportCounts,
  roundTrip
} from './harness';
import { MODULES } from './fixtures';
import { buildModule, memoryEntries, moduleSpec, splitSections } from './wasm-builder';

reportCounts(import.meta.url);

/** The engine's own verdict (an independent oracle; a copy so the type is ArrayBuffer-backed). */
const validates = (bytes: Uint8Array) => WebAssembly.validate(new Uint8Array(bytes));
const cap = fc.oneof(fc.integer({ min: 0, max: 65536 }), fc.constantFrom(0, 1, 256, 65536));

/**
 * The rewrite's contract for a module that validates: the output validates, the header and every
 * non-memory section are byte-identical and in the same order, and each memory entry keeps its
 * minimum bytes, with max = min(original max, cap) (entries already under the cap unchanged).
 */
function expectOnlyLimitsChanged(before: Uint8Array, after: Uint8Array, maxPages: number): void {
  expect(validates(after)).toBe(true);
  const a = splitSections(before);
  const b = splitSections(after);
  expect(b.header).toEqual(a.header);
  expect(b.sections.map((s) => s.id)).toEqual(a.sections.map((s) => s.id));
  a.sections.forEach((section, i) => {
    const out = b.sections[i]!;
    if (section.id !== 5) {
      expect(out.whole).toEqual(section.whole);
      return;
    }
    const was = memoryEntries(section.content);
    const now = memoryEntries(out.content);
    expect(now).toHaveLength(was.length);
    was.forEach((entry, j) => {
      const next = now[j]!;
      expect(next.minBytes).toEqual(entry.minBytes);
      const want = entry.max === null ? maxPages : Math.min(entry.max, maxPages);
      expect(next.max).toBe(want);
      if (entry.max === want) expect(next.whole).toEqual(entry.whole);
      else expect(next.flags).toBe(0x01);
    });
  });
}

describe('generated valid modules', () => {
  it('validate, inspect cleanly and report the memory they were built with', () => {
    property('inspectWasm', 'generated modules read completely');
    fc.assert(
      fc.property(moduleSpec, (spec) => {
        const bytes = buildModule(spec);
        expect(validates(bytes)).toBe(true);
        const r = attempt('inspectWasm', () => inspectWasm(bytes));
        if (r.threw) throw r.error;
        expect(r.value.reasons).toEqual([]);
        expect(r.value.imports).toHaveLength(spec.imports.length + (spec.importMemory ? 1 : 0));
        if (spec.memory) {
          expect(r.value.memories).toEqual([
            {
              index: 0,
              imported: false,
              min: spec.memory.min,
              max: spec.memory.max,
              shared: false,
              memory64: false
            }
          ]);
        }
      }),
      params()
    );
  });

  it('the memory rewrite keeps them valid and changes nothing but the memory limits', () => {
    property('rewriteMemoryMaximum', 'valid in, valid out; only limits change');
    let changed = 0;
    fc.assert(
      fc.property(moduleSpec, cap, (spec, maxPages) => {
        const bytes = buildModule(spec);
        const copy = bytes.slice();
        const r = attempt('rewriteMemoryMaximum', () => rewriteMemoryMaximum(bytes, maxPages));
        if (r.threw) throw r.error;
        expect(bytes).toEqual(copy); // the input is never written to
        if (spec.importMemory) {
          expect(r.value.ok ? null : r.value.reason.code).toBe('wasm.memory-imported');
          return;
        }
        if (spec.memory && spec.memory.min > maxPages) {
          expect(r.value.ok ? null : r.value.reason.code).toBe('wasm.memory-min-over-cap');
          return;
        }
        if (!r.value.ok)
          throw new Error(`refused: ${r.value.reason.code} ${r.value.reason.message}`);
        expectOnlyLimitsChanged(bytes, r.value.bytes, maxPages);
        if (!r.value.changed) expect(r.value.bytes).toEqual(bytes);
        else changed++;
        // A second rewrite with the same cap has nothing left to do.
        const again = rewriteMemoryMaximum(r.value.bytes, maxPages);
        expect(again.ok && !again.changed).toBe(true);
        roundTrip('rewriteMemoryMaximum');
      }),
      params(2)
    );
    // The generator must reach the interesting case (a limit actually rewritten) often.
    expect(changed).toBeGreaterThan(params(2).numRuns! / 10);
  });
});

describe('random and mutated modules', () => {
  it('inspectWasm and rewriteMemoryMaximum return reasons, never throw; a valid input rewrites to a valid output', () => {
    property('inspectWasm', 'no throw');
    property('rewriteMemoryMaximum', 'no throw');
    const generated = moduleSpec.map(buildModule);
    const input = fc.oneof(
      anyBytes,
      ...MODULES.map(mutatedBytes),
      generated.chain((bytes) => mutatedBytes(bytes))
    );
    fc.assert(
      fc.property(input, cap, (bytes, maxPages) => {
        const inspected = attempt('inspectWasm', () => inspectWasm(bytes));
        if (inspected.threw) throw inspected.error;
        expect(inspected.value.ok).toBe(inspected.value.reasons.length === 0);
        // What the engine accepts, the reader reads (no false refusal of a valid module).
        if (validates(bytes)) expect(inspected.value.reasons).toEqual([]);
        const r = attempt('rewriteMemoryMaximum', () => rewriteMemoryMaximum(bytes, maxPages));
        if (r.threw) throw r.error;
        if (!r.value.ok) {
          expect(r.value.reason.code).toMatch(/^wasm\./);
          return;
        }
        if (validates(bytes)) expectOnlyLimitsChanged(bytes, r.value.bytes, maxPages);
        for (const memory of inspectWasm(r.value.bytes).memories) {
          expect(memory.max !== null && Number(memory.max) <= maxPages).toBe(true);
        }
      }),
      params(3)
    );
  });

  it('every fixture module is rewritten with only its limits changed, at every cap tried', () => {
    property('rewriteMemoryMaximum', 'fixtures: only limits change');
    fc.assert(
      fc.property(fc.constantFrom(...MODULES), cap, (bytes, maxPages) => {
        const r = attempt('rewriteMemoryMaximum', () => rewriteMemoryMaximum(bytes, maxPages));
        if (r.threw) throw r.error;
        if (!r.value.ok) {
          expect(r.value.reason.code).toMatch(/^wasm\.memory-(min-over-cap|imported)$/);
          return;
        }
        expectOnlyLimitsChanged(bytes, r.value.bytes, maxPages);
        roundTrip('rewriteMemoryMaximum');
      }),
      params()
    );
  });
});
