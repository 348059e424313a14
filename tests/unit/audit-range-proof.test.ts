// Inclusion paths from stored compact ranges (src/lib/core/audit/range-proof.ts) against the full
// tree's own proofs (MerkleTree.inclusionProof) for many (index, size) pairs up to 1500, and every
// kind of damage to a stored range or hash making the path fail verifyInclusion (or throw).
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/lib/core/bytes';
import {
  EMPTY_RANGE,
  MerkleTree,
  appendLeaf,
  leafHash,
  verifyInclusion,
  type CompactRange
} from '../../src/lib/core/audit/merkle';
import {
  evaluatePath,
  evaluatePlan,
  pathPlan,
  pathSeqs,
  type RangeRow
} from '../../src/lib/core/audit/range-proof';

const N = 1500;

// A deterministic log of N records: each row's hash and the compact range after appending it.
function makeRows(n: number): { rows: Map<number, RangeRow>; leaves: Uint8Array[] } {
  const rows = new Map<number, RangeRow>();
  const leaves: Uint8Array[] = [];
  let range: CompactRange = EMPTY_RANGE;
  let state = 0x9e3779b9;
  for (let seq = 0; seq < n; seq++) {
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bytes[i] = state >>> 24;
    }
    const leaf = leafHash(bytes);
    range = appendLeaf(range, leaf);
    rows.set(seq, { hash: toHex(bytes), range });
    leaves.push(leaf);
  }
  return { rows, leaves };
}

const { rows, leaves } = makeRows(N);
const flat = (size: number) => {
  const out = new Uint8Array(size * 32);
  leaves.slice(0, size).forEach((leaf, i) => out.set(leaf, i * 32));
  return out;
};

// Sizes: every size to 70, powers of two and their neighbours, and a spread up to N.
const sizes = new Set<number>();
for (let s = 1; s <= 70; s++) sizes.add(s);
for (let p = 64; p <= 1024; p *= 2) [p - 1, p, p + 1].forEach((s) => sizes.add(s));
for (let s = 97; s <= N; s += 89) sizes.add(s);
sizes.add(N);

function indexesFor(size: number): number[] {
  if (size <= 70) return Array.from({ length: size }, (_, i) => i);
  const out = new Set([0, 1, size - 2, size - 1, Math.floor(size / 2)]);
  for (let i = 3; i < size; i += Math.max(1, Math.floor(size / 23))) out.add(i);
  for (let p = 1; p < size; p *= 2) [p - 1, p].forEach((i) => out.add(i));
  return [...out].filter((i) => i >= 0 && i < size);
}

describe('range-based inclusion paths', () => {
  it('equal MerkleTree.inclusionProof and verify, for many (index, size) pairs up to 1500', () => {
    let pairs = 0;
    for (const size of sizes) {
      const tree = MerkleTree.fromFlatLeafHashes(flat(size));
      const root = tree.root();
      for (const index of indexesFor(size)) {
        const plan = pathPlan(index, size);
        const path = evaluatePlan(plan, rows);
        const expected = tree.inclusionProof(index).map(toHex);
        expect(path.map(toHex), `(index ${index}, size ${size})`).toEqual(expected);
        expect(verifyInclusion(leaves[index]!, index, size, path, root)).toBe(true);
        pairs += 1;
      }
    }
    expect(pairs).toBeGreaterThan(3000);
  });

  it('read O(log² n) rows: only the planned seqs, all below the size', () => {
    for (const [index, size] of [
      [0, 1],
      [0, N],
      [N - 1, N],
      [700, 1025],
      [1023, 1024]
    ] as const) {
      const seqs = pathSeqs(pathPlan(index, size));
      const log = Math.ceil(Math.log2(size + 1));
      expect(seqs.length, `(index ${index}, size ${size})`).toBeLessThanOrEqual(log * log + 1);
      expect(seqs.every((seq) => seq >= 0 && seq < size)).toBe(true);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      // Only those rows are needed.
      const some = new Map(seqs.map((seq) => [seq, rows.get(seq)!]));
      const path = evaluatePlan(pathPlan(index, size), some);
      const tree = MerkleTree.fromFlatLeafHashes(flat(size));
      expect(verifyInclusion(leaves[index]!, index, size, path, tree.root())).toBe(true);
    }
  });

  it('a tree of one leaf has an empty path', () => {
    expect(pathPlan(0, 1)).toEqual([]);
    expect(pathSeqs([])).toEqual([]);
  });

  it('rejects an index or size out of range', () => {
    for (const [index, size] of [
      [0, 0],
      [1, 1],
      [-1, 4],
      [4, 4],
      [1.5, 4],
      [0, Number.NaN],
      [0, 2.5]
    ] as const) {
      expect(() => pathPlan(index, size), `(index ${index}, size ${size})`).toThrow(RangeError);
    }
  });
});

describe('a damaged range never verifies', () => {
  const size = 1000;
  const tree = MerkleTree.fromFlatLeafHashes(flat(size));
  const root = tree.root();
  const flip = (hex: string) => toHex(fromHex(hex).map((b, i) => (i === 0 ? b ^ 1 : b)));

  // Fails when the path cannot be evaluated (throws) or does not lead to the root.
  const fails = (index: number, damaged: Map<number, RangeRow>) => {
    try {
      const path = evaluatePlan(pathPlan(index, size), damaged);
      return !verifyInclusion(leaves[index]!, index, size, path, root);
    } catch {
      return true;
    }
  };

  for (const index of [0, 1, 499, 511, 512, 998, 999]) {
    const seqs = pathSeqs(pathPlan(index, size)).filter((seq) => seq !== index);

    it(`leaf ${index}: a changed root in any row read fails`, () => {
      expect(seqs.length).toBeGreaterThan(0);
      let tried = 0;
      for (const seq of seqs) {
        const row = rows.get(seq)!;
        for (let r = 0; r < row.range.roots.length; r++) {
          const roots = row.range.roots.slice();
          roots[r] = flip(roots[r]!);
          const damaged = new Map(rows).set(seq, { ...row, range: { ...row.range, roots } });
          // A root the plan does not use leaves the path intact; one it uses must break it.
          const path = (() => {
            try {
              return evaluatePlan(pathPlan(index, size), damaged).map(toHex);
            } catch {
              return null;
            }
          })();
          const intact = tree.inclusionProof(index).map(toHex);
          if (path !== null && path.join() === intact.join()) continue;
          expect(fails(index, damaged), `(leaf ${index}, row ${seq}, root ${r})`).toBe(true);
          tried += 1;
        }
      }
      expect(tried).toBeGreaterThan(0);
    });

    it(`leaf ${index}: a changed hash, a wrong size, a missing root or row fails`, () => {
      for (const seq of seqs) {
        const row = rows.get(seq)!;
        const cases: [string, Map<number, RangeRow>][] = [
          ['missing row', new Map([...rows].filter(([key]) => key !== seq))],
          [
            'wrong size',
            new Map(rows).set(seq, { ...row, range: { ...row.range, size: row.range.size + 1 } })
          ],
          [
            'missing root',
            new Map(rows).set(seq, {
              ...row,
              range: { size: row.range.size, roots: row.range.roots.slice(1) }
            })
          ],
          [
            'empty range',
            new Map(rows).set(seq, { ...row, range: { size: row.range.size, roots: [] } })
          ]
        ];
        const usesLeaf = pathPlan(index, size).some((hash) =>
          JSON.stringify(hash).includes(`"leaf":${seq}}`)
        );
        if (usesLeaf) {
          cases.push(['changed hash', new Map(rows).set(seq, { ...row, hash: flip(row.hash) })]);
        }
        for (const [name, damaged] of cases) {
          const path = (() => {
            try {
              return evaluatePlan(pathPlan(index, size), damaged).map(toHex);
            } catch {
              return null;
            }
          })();
          if (path !== null && path.join() === tree.inclusionProof(index).map(toHex).join()) {
            continue; // the damage is in a part of the row this plan does not read
          }
          expect(fails(index, damaged), `(leaf ${index}, row ${seq}): ${name}`).toBe(true);
        }
      }
    });
  }

  it('a path for the wrong leaf or a shorter tree fails', () => {
    const path = evaluatePlan(pathPlan(10, size), rows);
    expect(verifyInclusion(leaves[11]!, 10, size, path, root)).toBe(false);
    expect(verifyInclusion(leaves[10]!, 11, size, path, root)).toBe(false);
    const short = evaluatePlan(pathPlan(10, size - 1), rows);
    expect(verifyInclusion(leaves[10]!, 10, size, short, root)).toBe(false);
  });

  it('evaluatePath names the missing record', () => {
    expect(() => evaluatePath({ leaf: 5 }, new Map())).toThrow(/record 5 is missing/);
    expect(() => evaluatePath({ tail: 5, from: 3 }, rows)).toThrow(/no subtree/);
  });
});
