/**
 * The mutation corpus's machinery: enumerate every single-byte change of a region, duplicate a
 * field in JSON text (which JSON.stringify cannot write), and a Ledger that runs each mutated
 * input through the real verifier, counts it, and collects every mutation that verified without
 * the explanation the format allows (touching only unsigned text, with the signed content
 * byte-identical to the original).
 */
import { expect } from 'vitest';
import { attemptAsync, mutation, mutationCount, property } from './harness';

/** Every byte position in [from, to), each changed by xor 0x01 and xor 0xff. */
export function* byteFlips(
  bytes: Uint8Array,
  from = 0,
  to = bytes.length
): Generator<{ at: number; mutated: Uint8Array }> {
  for (let at = from; at < to; at++) {
    for (const mask of [0x01, 0xff]) {
      const mutated = bytes.slice();
      mutated[at]! ^= mask;
      yield { at, mutated };
    }
  }
}

/** Every bit of every byte of `bytes` flipped once (8 mutations per byte). */
export function* bitFlips(bytes: Uint8Array): Generator<{ at: number; mutated: Uint8Array }> {
  for (let at = 0; at < bytes.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const mutated = bytes.slice();
      mutated[at]! ^= 1 << bit;
      yield { at, mutated };
    }
  }
}

/** `count` positions spread evenly over [0, length), first and last included. */
export function samplePositions(length: number, count: number): number[] {
  if (length <= count) return [...Array(length).keys()];
  const out = new Set<number>();
  for (let i = 0; i < count; i++) out.add(Math.round((i * (length - 1)) / (count - 1)));
  return [...out];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * JSON text of `value` where the object at `path` has `key` written twice: first as is, then with
 * `second` (the attack: two readers that keep different copies see different documents).
 */
export function withDuplicateKey(value: Json, path: string[], key: string, second: Json): string {
  const write = (v: Json, at: string[]): string => {
    if (Array.isArray(v))
      return `[${v.map((item, i) => write(item, [...at, String(i)])).join(',')}]`;
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    const members = Object.entries(v).map(
      ([k, item]) => `${JSON.stringify(k)}:${write(item, [...at, k])}`
    );
    if (at.join('/') === path.join('/'))
      members.push(`${JSON.stringify(key)}:${JSON.stringify(second)}`);
    return `{${members.join(',')}}`;
  };
  return write(value, []);
}

/** Every (path, key) of every object in a JSON value, parents first. */
export function objectFields(value: Json, path: string[] = []): { path: string[]; key: string }[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string, Json][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value);
  const out: { path: string[]; key: string }[] = [];
  for (const [key, child] of entries) {
    if (!Array.isArray(value)) out.push({ path, key });
    out.push(...objectFields(child, [...path, key]));
  }
  return out;
}

/** A copy of `value` without `key` in the object at `path`. */
export function withoutKey(value: Json, path: string[], key: string): Json {
  const copy = JSON.parse(JSON.stringify(value)) as Json;
  let at: Json = copy;
  for (const step of path) at = (at as Record<string, Json>)[step]!;
  delete (at as Record<string, Json>)[key];
  return copy;
}

export interface Outcome {
  ok: boolean;
}

/**
 * Runs mutations of one format. `allowed` names the unsigned places a mutation may touch and
 * still verify; `unchanged` asserts (throws) that an accepted result carries exactly the signed
 * content of the original.
 */
export class Ledger<T extends Outcome> {
  readonly problems: string[] = [];

  constructor(
    readonly format: string,
    /** The verifier's name in the parser table, e.g. `verify(bundle)`. */
    private readonly parser: string,
    private readonly verify: (input: Uint8Array) => Promise<T>,
    private readonly allowed: ReadonlySet<string>,
    private readonly unchanged: (result: T) => void
  ) {
    property(parser, 'mutation corpus');
  }

  /** One mutation; `where` names what it touched (for the table and the allowed check). */
  async try(where: string, input: Uint8Array): Promise<void> {
    await this.tryWith(where, () => this.verify(input));
  }

  /** One mutation the caller verifies itself (e.g. the module changed, the signature not). */
  async tryWith(where: string, run: () => Promise<T>): Promise<T | null> {
    const r = await attemptAsync(this.parser, run);
    if (r.threw) {
      this.problems.push(`${where}: verify threw ${String(r.error)}`);
      mutation(this.format, null);
      return null;
    }
    if (!r.value.ok) {
      mutation(this.format, null);
      return r.value;
    }
    mutation(this.format, where);
    if (!this.allowed.has(where)) {
      this.problems.push(`${where}: verified, but it is not unsigned text`);
      return r.value;
    }
    try {
      this.unchanged(r.value);
    } catch (error) {
      this.problems.push(`${where}: verified with changed signed content (${String(error)})`);
    }
    return r.value;
  }

  /** No mutation verified unexplained, and every one was counted. */
  finish(): void {
    expect(this.problems.slice(0, 20)).toEqual([]);
    const count = mutationCount(this.format);
    expect(count?.tried ?? 0).toBeGreaterThan(0);
    expect(count!.rejected + count!.acceptedUnsigned).toBe(count!.tried);
  }
}
