/**
 * Merkle inclusion paths from stored compact ranges, without reading every record.
 *
 * Each stored audit row carries the compact range of the tree it completes (the roots of its
 * perfect subtrees, biggest first; see CompactRange in ./merkle.ts). Every hash of an RFC 9162
 * audit path is a perfect subtree or the tree's ragged right edge, and each of those can be read
 * from O(log n) rows, so a whole path needs O(log² n) reads instead of n.
 *
 * A path found this way is checked with verifyInclusion against the (signed) root like any other:
 * a damaged range can only make it fail, never make a record verify that is not in the tree.
 */
import { fromHex } from '../bytes';
import { nodeHash, leafHash, type CompactRange } from './merkle';
import type { AuditRecord } from './record';

/**
 * How to get one hash of an audit path from stored rows:
 * - `leaf`: the leaf hash of that record;
 * - `lastRoot`: the last root stored with that record, which is the perfect subtree ending at it
 *   when that subtree is a left child (it starts at an even multiple of its size);
 * - `node`: a perfect subtree that is a right child, as the node of its two halves;
 * - `tail`: the tree's ragged right edge, from `from` to that record, folded from its roots.
 */
export type PathHash =
  | { leaf: number }
  | { lastRoot: number }
  | { node: [PathHash, PathHash] }
  | { tail: number; from: number };

/** What evaluatePath reads from a stored row: its record hash and its compact range. */
export type RangeRow = Pick<AuditRecord, 'hash'> & { range: CompactRange };

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function perfectSubtree(start: number, size: number): PathHash {
  if (size === 1) return { leaf: start };
  if ((start / size) % 2 === 0) return { lastRoot: start + size - 1 };
  const half = size / 2;
  return { node: [perfectSubtree(start, half), perfectSubtree(start + half, half)] };
}

/**
 * PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, bottom-up, as stored-row lookups.
 * Throws RangeError unless `index` and `size` are safe integers with 0 <= index < size.
 */
export function pathPlan(index: number, size: number): PathHash[] {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`pathPlan: size must be a positive integer, got ${size}`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`pathPlan: index must be an integer in [0, ${size}), got ${index}`);
  }
  const out: PathHash[] = [];
  const walk = (start: number, end: number): void => {
    const n = end - start;
    if (n <= 1) return;
    const k = largestPowerOfTwoBelow(n);
    if (index < start + k) {
      walk(start, start + k);
      out.push(n === 2 * k ? perfectSubtree(start + k, k) : { tail: end - 1, from: start + k });
    } else {
      walk(start + k, end);
      out.push(perfectSubtree(start, k));
    }
  };
  walk(0, size);
  return out;
}

/** The seqs whose rows a plan reads, ascending: O(log² n) of them. */
export function pathSeqs(plan: readonly PathHash[]): number[] {
  if (!Array.isArray(plan)) throw new TypeError('pathSeqs: plan must be an array');
  const seqs = new Set<number>();
  const visit = (hash: PathHash): void => {
    if ('leaf' in hash) seqs.add(hash.leaf);
    else if ('lastRoot' in hash) seqs.add(hash.lastRoot);
    else if ('tail' in hash) seqs.add(hash.tail);
    else hash.node.forEach(visit);
  };
  plan.forEach(visit);
  return [...seqs].sort((a, b) => a - b);
}

/** Computes one path hash from the rows read for it. Throws when a row is missing or odd. */
export function evaluatePath(hash: PathHash, rows: ReadonlyMap<number, RangeRow>): Uint8Array {
  if (!(rows instanceof Map)) throw new TypeError('evaluatePath: rows must be a Map');
  const row = (seq: number) => {
    const found = rows.get(seq);
    if (!found) throw new Error(`record ${seq} is missing`);
    return found;
  };
  if ('node' in hash) {
    return nodeHash(evaluatePath(hash.node[0], rows), evaluatePath(hash.node[1], rows));
  }
  if ('leaf' in hash) return leafHash(fromHex(row(hash.leaf).hash));
  const seq = 'lastRoot' in hash ? hash.lastRoot : hash.tail;
  const { range } = row(seq);
  const last = range.roots.length - 1;
  if (range.size !== seq + 1 || last < 0) {
    throw new Error(`record ${seq} stores a range of size ${range.size}`);
  }
  if ('lastRoot' in hash) return fromHex(range.roots[last]!);
  // Where each root's subtree starts: one root per set bit of the size, biggest first.
  const starts: number[] = [];
  let position = 0;
  for (let bit = largestPowerOfTwoBelow(range.size + 1); bit >= 1; bit /= 2) {
    if (Math.floor(range.size / bit) % 2 === 1) {
      starts.push(position);
      position += bit;
    }
  }
  const first = starts.indexOf(hash.from);
  if (first < 0 || starts.length !== range.roots.length) {
    throw new Error(`no subtree of record ${seq}'s range starts at ${hash.from}`);
  }
  let folded = fromHex(range.roots[last]!);
  for (let i = last - 1; i >= first; i--) folded = nodeHash(fromHex(range.roots[i]!), folded);
  return folded;
}

/** Every hash of a plan, leaf side first: the audit path. Throws like evaluatePath. */
export function evaluatePlan(
  plan: readonly PathHash[],
  rows: ReadonlyMap<number, RangeRow>
): Uint8Array[] {
  if (!Array.isArray(plan)) throw new TypeError('evaluatePlan: plan must be an array');
  return plan.map((hash) => evaluatePath(hash, rows));
}
