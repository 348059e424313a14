/**
 * Shared by the hostile suite: the seed and run count (reproducible, scalable from the
 * environment), the "fails only with its typed error" check with a per-input time bound, and the
 * counters each file writes to reports/hostile/ for the summary table (global-setup.ts merges).
 */
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll } from 'vitest';

/** NIGHTCORE_HOSTILE_SEED: fast-check's seed (default fixed, so every run tries the same inputs). */
export const SEED = envInt('NIGHTCORE_HOSTILE_SEED', 20_260_901);
/** NIGHTCORE_HOSTILE_RUNS: inputs per property (default 200; raise it for a longer soak). */
export const RUNS = envInt('NIGHTCORE_HOSTILE_RUNS', 200);
/** No single input may take longer than this (generous: bounded input must mean bounded time). */
export const CASE_BOUND_MS = 2000;
export const REPORT_DIR = 'reports/hostile';

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${text}`);
  return value;
}

/** fast-check parameters: the suite's seed and runs (scaled by `factor`). */
export function params<T>(factor = 1): fc.Parameters<T> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(RUNS * factor)), endOnFailure: true };
}

export interface ParserCount {
  inputs: number;
  properties: Set<string>;
  roundTrips: number;
  slowestMs: number;
}
export interface MutationCount {
  tried: number;
  rejected: number;
  acceptedUnsigned: number;
  /** What the accepted mutations touched (each must be unsigned text). */
  acceptedWhere: Record<string, number>;
}

const parsers = new Map<string, ParserCount>();
const mutations = new Map<string, MutationCount>();

function parserCount(name: string): ParserCount {
  let count = parsers.get(name);
  if (!count) {
    count = { inputs: 0, properties: new Set(), roundTrips: 0, slowestMs: 0 };
    parsers.set(name, count);
  }
  return count;
}

/** Constructors a parser may throw on bad input (most throw nothing: they return reasons). */
export type Typed = abstract new (...args: never[]) => Error;

/** What an attempt ended in, for the property to check. */
export type Outcome<T> = { threw: false; value: T } | { threw: true; error: Error };

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`.slice(0, 300);
  return `a thrown non-Error: ${String(error).slice(0, 200)}`;
}

function check(parser: string, started: number, error: unknown, typed: readonly Typed[]): void {
  const ms = performance.now() - started;
  const count = parserCount(parser);
  count.inputs++;
  count.slowestMs = Math.max(count.slowestMs, ms);
  if (ms > CASE_BOUND_MS) {
    throw new Error(`${parser}: one input took ${Math.round(ms)} ms (bound ${CASE_BOUND_MS} ms)`);
  }
  if (error === undefined) return;
  if (!typed.some((type) => error instanceof type)) {
    throw new Error(
      `${parser} threw ${describeError(error)}; only ${typed.map((t) => t.name).join(', ') || 'nothing'} is allowed ` +
        `(seed ${SEED}; rerun with NIGHTCORE_HOSTILE_SEED=${SEED})`
    );
  }
}

/**
 * Runs one parser call on one input: it must return, or throw one of `typed`, within the bound.
 * Counted under `parser` for the summary table.
 */
export function attempt<T>(
  parser: string,
  call: () => T,
  typed: readonly Typed[] = []
): Outcome<T> {
  const started = performance.now();
  try {
    const value = call();
    check(parser, started, undefined, typed);
    return { threw: false, value };
  } catch (error) {
    check(parser, started, error, typed);
    return { threw: true, error: error as Error };
  }
}

/** attempt() for async parsers. */
export async function attemptAsync<T>(
  parser: string,
  call: () => Promise<T>,
  typed: readonly Typed[] = []
): Promise<Outcome<T>> {
  const started = performance.now();
  try {
    const value = await call();
    check(parser, started, undefined, typed);
    return { threw: false, value };
  } catch (error) {
    check(parser, started, error, typed);
    return { threw: true, error: error as Error };
  }
}

/** Names the properties a parser was tried under (the table's "properties" column). */
export function property(parser: string, name: string): void {
  parserCount(parser).properties.add(name);
}

/** Counts one completed round trip (encode/sign, then parse/verify, equal to the start). */
export function roundTrip(parser: string): void {
  parserCount(parser).roundTrips++;
}

/** Counts one mutation of a signed input: rejected, or accepted because it touched `where`. */
export function mutation(format: string, accepted: string | null): void {
  let count = mutations.get(format);
  if (!count) {
    count = { tried: 0, rejected: 0, acceptedUnsigned: 0, acceptedWhere: {} };
    mutations.set(format, count);
  }
  count.tried++;
  if (accepted === null) count.rejected++;
  else {
    count.acceptedUnsigned++;
    count.acceptedWhere[accepted] = (count.acceptedWhere[accepted] ?? 0) + 1;
  }
}

export function mutationCount(format: string): MutationCount | undefined {
  return mutations.get(format);
}

/** Each test file writes its counts once it is done; global-setup.ts sums them. */
export function reportCounts(file: string): void {
  afterAll(() => {
    mkdirSync(REPORT_DIR, { recursive: true });
    const out = {
      seed: SEED,
      runs: RUNS,
      parsers: Object.fromEntries(
        [...parsers].map(([name, c]) => [
          name,
          {
            inputs: c.inputs,
            properties: [...c.properties].sort(),
            roundTrips: c.roundTrips,
            slowestMs: Math.round(c.slowestMs)
          }
        ])
      ),
      mutations: Object.fromEntries(mutations)
    };
    writeFileSync(`${REPORT_DIR}/${basename(file)}.json`, `${JSON.stringify(out, null, 2)}\n`);
  });
}

/** A valid input with one to four bytes overwritten, inserted or deleted. */
export function mutatedBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc
    .array(
      fc.tuple(
        fc.nat(Math.max(0, base.length - 1)),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('set', 'ins', 'del')
      ),
      { minLength: 1, maxLength: 4 }
    )
    .map((edits) => {
      const out = Array.from(base);
      for (const [at, value, op] of edits) {
        const i = Math.min(at, Math.max(0, out.length - 1));
        if (op === 'set') out[i] = value;
        else if (op === 'ins') out.splice(i, 0, value);
        else out.splice(i, 1);
      }
      return Uint8Array.from(out);
    });
}

/** A valid text with one to four characters overwritten, inserted or deleted. */
export function mutatedText(base: string): fc.Arbitrary<string> {
  return fc
    .array(
      fc.tuple(
        fc.nat(Math.max(0, base.length - 1)),
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 3, unit: 'binary' }),
          fc.constantFrom('\n', ' ', '=', '+', '"', '{', '}', '\u2014', '\uD800')
        ),
        fc.constantFrom('set', 'ins', 'del')
      ),
      { minLength: 1, maxLength: 4 }
    )
    .map((edits) => {
      let out = base;
      for (const [at, value, op] of edits) {
        const i = Math.min(at, out.length);
        if (op === 'set') out = out.slice(0, i) + value + out.slice(i + 1);
        else if (op === 'ins') out = out.slice(0, i) + value + out.slice(i);
        else out = out.slice(0, i) + out.slice(i + 1);
      }
      return out;
    });
}

/** Arbitrary bytes, arbitrary text as UTF-8, and JSON-shaped values as text. */
export const anyBytes = fc.uint8Array({ maxLength: 1024 });
/** Any UTF-16 code unit, lone surrogates included (fast-check's 'binary' gives code points). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));
export const anyText = fc.oneof(
  fc.string({ maxLength: 512, unit: 'binary' }),
  fc.string({ maxLength: 256, unit: codeUnit }),
  fc.string({ maxLength: 512, unit: 'grapheme' }),
  fc.json({ maxDepth: 6 })
);
