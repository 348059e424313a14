// RFC 6962 / RFC 9162 Merkle hashing (src/lib/core/audit/merkle.ts) against the published
// transparency-dev vectors (tests/fixtures/audit/rfc6962.json) and against a naive recursive
// implementation written here with node:crypto, for every proof with n <= 8 and random sizes up to
// 2000. Every corruption transparency-dev's own verifier tests try must fail here too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/lib/core/bytes';
import {
  EMPTY_RANGE,
  MerkleTree,
  appendLeaf,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  isCompactRange,
  leafHash,
  nodeHash,
  rangeRoot,
  rootFromInclusionProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion
} from '../../src/lib/core/audit/merkle';
import type { CompactRange } from '../../src/lib/core/audit/merkle';

interface Vectors {
  leaves: string[];
  roots: string[];
  nodeHashes: string[][];
  compactTrees: string[][];
  inclusion: { index: number; size: number; proof: string[] }[];
  consistency: { m: number; n: number; proof: string[] }[];
}
const V = JSON.parse(
  readFileSync(new URL('../fixtures/audit/rfc6962.json', import.meta.url), 'utf8')
) as Vectors;

// --- the naive reference: RFC 6962 section 2.1 read literally, node:crypto for SHA-256 ---------
const sha = (...parts: Uint8Array[]) =>
  new Uint8Array(createHash('sha256').update(Buffer.concat(parts)).digest());
const refLeaf = (data: Uint8Array) => sha(Uint8Array.of(0), data);
const refNode = (l: Uint8Array, r: Uint8Array) => sha(Uint8Array.of(1), l, r);
const split = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
function refRoot(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return sha();
  if (hashes.length === 1) return hashes[0]!;
  const k = split(hashes.length);
  return refNode(refRoot(hashes.slice(0, k)), refRoot(hashes.slice(k)));
}
function refPath(m: number, hashes: Uint8Array[]): Uint8Array[] {
  if (hashes.length <= 1) return [];
  const k = split(hashes.length);
  return m < k
    ? [...refPath(m, hashes.slice(0, k)), refRoot(hashes.slice(k))]
    : [...refPath(m - k, hashes.slice(k)), refRoot(hashes.slice(0, k))];
}
function refSubproof(m: number, hashes: Uint8Array[], complete: boolean): Uint8Array[] {
  const n = hashes.length;
  if (m === n) return complete ? [] : [refRoot(hashes)];
  const k = split(n);
  return m <= k
    ? [...refSubproof(m, hashes.slice(0, k), complete), refRoot(hashes.slice(k))]
    : [...refSubproof(m - k, hashes.slice(k), false), refRoot(hashes.slice(0, k))];
}
const refProof = (m: number, hashes: Uint8Array[]) =>
  m === 0 || m === hashes.length ? [] : refSubproof(m, hashes, true);

const hex = (list: Uint8Array[]) => list.map(toHex);
const flip = (bytes: Uint8Array, bit = 3) => {
  const copy = bytes.slice();
  copy[0]! ^= 1 << bit;
  return copy;
};
const SOME_HASH = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');

const CT_LEAVES = V.leaves.map((data) => leafHash(fromHex(data)));
/** The root of the first `size` CT leaves, continuing past 8 with more leaves. */
const ctRoot = (size: number) =>
  refRoot(
    [...CT_LEAVES, ...Array.from({ length: 8 }, (_, i) => refLeaf(Uint8Array.of(0xee, i)))].slice(
      0,
      size
    )
  );
/** Leaf hashes for the random-size properties (the leaf data is just the index). */
const MANY: Uint8Array[] = Array.from({ length: 2000 }, (_, i) =>
  refLeaf(Uint8Array.of(i >> 8, i & 255))
);

describe('RFC 6962 vectors', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    V.nodeHashes[0]!.forEach((want, i) => expect(toHex(CT_LEAVES[i]!), `leaf ${i}`).toBe(want));
    for (let level = 1; level < V.nodeHashes.length; level++) {
      V.nodeHashes[level]!.forEach((want, i) => {
        const below = V.nodeHashes[level - 1]!;
        const node = nodeHash(fromHex(below[2 * i]!), fromHex(below[2 * i + 1]!));
        expect(toHex(node), `level ${level} node ${i}`).toBe(want);
      });
    }
  });

  it('matches the published root for every size 0..8, and the naive MTH', () => {
    expect(toHex(emptyRoot())).toBe(V.roots[0]);
    expect(toHex(treeRoot([]))).toBe(V.roots[0]);
    for (let n = 1; n <= 8; n++) {
      const root = toHex(treeRoot(CT_LEAVES.slice(0, n)));
      expect(root, `size ${n}`).toBe(V.roots[n]);
      expect(root, `size ${n} (naive)`).toBe(toHex(refRoot(CT_LEAVES.slice(0, n))));
    }
    // Hard-coded as published, so a wrong fixture file cannot make this pass.
    expect(toHex(treeRoot(CT_LEAVES))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'
    );
  });

  it('builds the published compact ranges leaf by leaf', () => {
    let range: CompactRange = EMPTY_RANGE;
    expect(toHex(rangeRoot(range))).toBe(V.roots[0]);
    CT_LEAVES.forEach((leaf, i) => {
      const before = structuredClone(range);
      const next = appendLeaf(range, leaf);
      expect(range, 'appendLeaf is pure').toEqual(before);
      range = next;
      expect(range.size).toBe(i + 1);
      expect(range.roots, `size ${i + 1}`).toEqual(V.compactTrees[i + 1]);
      expect(toHex(rangeRoot(range)), `size ${i + 1}`).toBe(V.roots[i + 1]);
    });
  });

  it.each(V.inclusion)('inclusion proof for leaf $index of $size is the published one', (v) => {
    const proof = inclusionProof(CT_LEAVES, v.index, v.size);
    expect(hex(proof)).toEqual(v.proof);
    const root = fromHex(V.roots[v.size]!);
    expect(verifyInclusion(CT_LEAVES[v.index]!, v.index, v.size, proof, root)).toBe(true);
    expect(toHex(rootFromInclusionProof(CT_LEAVES[v.index]!, v.index, v.size, proof)!)).toBe(
      V.roots[v.size]
    );
  });

  it.each(V.consistency)('consistency proof $m -> $n is the published one', (v) => {
    const proof = consistencyProof(CT_LEAVES, v.m, v.n);
    expect(hex(proof)).toEqual(v.proof);
    const [rootM, rootN] = [fromHex(V.roots[v.m]!), fromHex(V.roots[v.n]!)];
    expect(verifyConsistency(v.m, v.n, rootM, rootN, proof)).toBe(true);
  });
});

/** transparency-dev's corruptInclusionProof probes: none of them may verify. */
function inclusionProbes(
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
  rootOf: (size: number) => Uint8Array
) {
  const leaf = CT_LEAVES[index] ?? MANY[index]!;
  const probes: [string, Uint8Array, number, number, Uint8Array[], Uint8Array][] = [
    ['index - 1', leaf, index - 1, size, proof, root],
    ['index + 1', leaf, index + 1, size, proof, root],
    ['index ^ 2', leaf, index ^ 2, size, proof, root],
    ['size * 2', leaf, index, size * 2, proof, root],
    ['size / 2', leaf, index, Math.floor(size / 2), proof, root],
    // The proof does not pin the size by itself (the signed checkpoint carries size and root
    // together), so a neighbouring size is tried with that tree's own root.
    ['size + 1 (its root)', leaf, index, size + 1, proof, rootOf(size + 1)],
    ['size - 1 (its root)', leaf, index, size - 1, proof, rootOf(size - 1)],
    ['wrong leaf', SOME_HASH, index, size, proof, root],
    ['empty root', leaf, index, size, proof, emptyRoot()],
    ['random root', leaf, index, size, proof, SOME_HASH],
    ['altered root', leaf, index, size, proof, flip(root)],
    ['trailing root', leaf, index, size, [...proof, root], root],
    ['preceding root', leaf, index, size, [root, ...proof], root],
    ['short hash appended', leaf, index, size, [...proof, new Uint8Array(0)], root]
  ];
  proof.forEach((_, i) => {
    const wrong = proof.slice();
    wrong[i] = flip(wrong[i]!);
    probes.push([`proof[${i}] bit flipped`, leaf, index, size, wrong, root]);
  });
  if (proof.length > 0)
    probes.push(['removed component', leaf, index, size, proof.slice(0, -1), root]);
  if (proof.length > 1) {
    probes.push(['inserted', leaf, index, size, [proof[0]!, SOME_HASH, ...proof.slice(1)], root]);
  }
  return probes;
}

/** transparency-dev's corruptConsistencyProof probes. */
function consistencyProbes(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  proof: Uint8Array[],
  rootOf: (size: number) => Uint8Array
) {
  const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
    ['m - 1', m - 1, n, rootM, rootN, proof],
    ['m + 1', m + 1, n, rootM, rootN, proof],
    ['m ^ 2', m ^ 2, n, rootM, rootN, proof],
    ['n * 2', m, n * 2, rootM, rootN, proof],
    ['n / 2', m, Math.floor(n / 2), rootM, rootN, proof],
    ['n + 1 (its root)', m, n + 1, rootM, rootOf(n + 1), proof],
    ['altered rootM', m, n, flip(rootM), rootN, proof],
    ['altered rootN', m, n, rootM, flip(rootN), proof],
    ['swapped roots', m, n, rootN, rootM, proof],
    ['empty proof', m, n, rootM, rootN, []],
    ['trailing rootM', m, n, rootM, rootN, [...proof, rootM]],
    ['trailing rootN', m, n, rootM, rootN, [...proof, rootN]],
    ['preceding rootM', m, n, rootM, rootN, [rootM, ...proof]],
    ['preceding rootN', m, n, rootM, rootN, [rootN, ...proof]],
    ['preceding proof[0]', m, n, rootM, rootN, [proof[0]!, ...proof]],
    ['truncated', m, n, rootM, rootN, proof.slice(0, -1)]
  ];
  proof.forEach((_, i) => {
    const wrong = proof.slice();
    wrong[i] = flip(wrong[i]!, 4);
    probes.push([`proof[${i}] bit flipped`, m, n, rootM, rootN, wrong]);
  });
  return probes;
}

describe('every proof in trees of up to 8 leaves', () => {
  for (let n = 1; n <= 8; n++) {
    const leaves = CT_LEAVES.slice(0, n);
    const root = treeRoot(leaves);
    it(`inclusion, size ${n}: equals the naive PATH, verifies, and no corruption verifies`, () => {
      for (let index = 0; index < n; index++) {
        const proof = inclusionProof(CT_LEAVES, index, n);
        expect(hex(proof), `(${index}, ${n})`).toEqual(hex(refPath(index, leaves)));
        expect(verifyInclusion(leaves[index]!, index, n, proof, root), `(${index}, ${n})`).toBe(
          true
        );
        for (const [what, leaf, i, size, p, r] of inclusionProbes(index, n, proof, root, ctRoot)) {
          expect(verifyInclusion(leaf, i, size, p, r), `(${index}, ${n}) ${what}`).toBe(false);
        }
      }
    });
    it(`consistency, size ${n}: equals the naive PROOF, verifies, and no corruption verifies`, () => {
      for (let m = 0; m <= n; m++) {
        const rootM = treeRoot(CT_LEAVES.slice(0, m));
        const proof = consistencyProof(CT_LEAVES, m, n);
        expect(hex(proof), `(${m}, ${n})`).toEqual(hex(refProof(m, leaves)));
        expect(verifyConsistency(m, n, rootM, root, proof), `(${m}, ${n})`).toBe(true);
        if (proof.length === 0) continue; // m = 0 or m = n: covered below
        for (const [what, a, b, rA, rB, p] of consistencyProbes(m, n, rootM, root, proof, ctRoot)) {
          expect(verifyConsistency(a, b, rA, rB, p), `(${m}, ${n}) ${what}`).toBe(false);
        }
      }
    });
  }

  it('handles the trivial cases as RFC 9162 and transparency-dev do', () => {
    const r1 = fromHex(V.roots[1]!);
    expect(verifyConsistency(1, 1, r1, r1, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, SOME_HASH, [])).toBe(false);
    expect(verifyConsistency(1, 1, r1, r1, [r1])).toBe(false);
    expect(verifyConsistency(0, 5, emptyRoot(), SOME_HASH, [])).toBe(true);
    expect(verifyConsistency(0, 5, SOME_HASH, SOME_HASH, [])).toBe(false); // stricter: rootM must be MTH({})
    expect(verifyConsistency(0, 5, emptyRoot(), SOME_HASH, [SOME_HASH])).toBe(false);
    expect(verifyConsistency(2, 1, r1, r1, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, SOME_HASH, [])).toBe(false);
    expect(verifyInclusion(CT_LEAVES[0]!, 0, 1, [], r1)).toBe(true);
    expect(verifyInclusion(CT_LEAVES[0]!, 0, 0, [], r1)).toBe(false);
    expect(verifyInclusion(CT_LEAVES[0]!, 1, 1, [], r1)).toBe(false);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], r1)).toBe(false);
    expect(verifyInclusion(CT_LEAVES[0]!, -1, 1, [], r1)).toBe(false);
    expect(verifyInclusion(CT_LEAVES[0]!, 0.5, 1, [], r1)).toBe(false);
  });
});

describe('random trees up to 2000 leaves (fast-check)', () => {
  it('buildSteps (in slices) makes the same tree, counting its n - 1 node hashes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 1, max: 700 }),
        (n, slice) => {
          const leaves = MANY.slice(0, n);
          const flat = new Uint8Array(n * 32);
          leaves.forEach((leaf, i) => flat.set(leaf, i * 32));
          const build = MerkleTree.buildSteps(flat, slice);
          const counts: number[] = [];
          let step = build.next();
          for (; !step.done; step = build.next()) counts.push(step.value);
          const nodes = Math.max(0, n - 1);
          expect(counts).toEqual(
            Array.from({ length: Math.floor(nodes / slice) }, (_, i) => (i + 1) * slice)
          );
          expect(toHex(step.value.root())).toBe(toHex(refRoot(leaves)));
          if (n > 0) {
            const index = slice % n;
            expect(hex(step.value.inclusionProof(index))).toEqual(hex(refPath(index, leaves)));
          }
        }
      ),
      { numRuns: 60 }
    );
    expect(() => MerkleTree.buildSteps(new Uint8Array(64), 0)).toThrow(RangeError);
    expect(() => MerkleTree.buildSteps(new Uint8Array(33), 1)).toThrow(TypeError);
  });

  it('inclusion proofs equal the naive PATH, verify, and fail when altered', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.nat(), fc.nat(), (n, a, b) => {
        const index = a % n;
        const leaves = MANY.slice(0, n);
        const tree = MerkleTree.fromLeafHashes(leaves);
        const root = tree.root();
        expect(toHex(root)).toBe(toHex(refRoot(leaves)));
        const proof = tree.inclusionProof(index);
        expect(hex(proof)).toEqual(hex(refPath(index, leaves)));
        expect(verifyInclusion(leaves[index]!, index, n, proof, root)).toBe(true);
        if (proof.length > 0) {
          const wrong = proof.slice();
          wrong[b % proof.length] = flip(wrong[b % proof.length]!, b % 8);
          expect(verifyInclusion(leaves[index]!, index, n, wrong, root)).toBe(false);
        }
        // Another tree (one leaf changed) has another root: the proof must not verify against it.
        const other = leaves.slice();
        other[b % n] = SOME_HASH;
        expect(verifyInclusion(leaves[index]!, index, n, proof, treeRoot(other))).toBe(false);
      }),
      { numRuns: 60 }
    );
  });

  it('consistency proofs equal the naive PROOF, verify, and fail when either tree is altered', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.nat(), fc.nat(), (n, a, b) => {
        const m = 1 + (a % n);
        const leaves = MANY.slice(0, n);
        const tree = MerkleTree.fromLeafHashes(leaves);
        const rootM = treeRoot(leaves.slice(0, m));
        const rootN = tree.root();
        const proof = tree.consistencyProof(m);
        expect(hex(proof)).toEqual(hex(refProof(m, leaves)));
        expect(verifyConsistency(m, n, rootM, rootN, proof)).toBe(true);
        if (m === n) return;
        // Alter the old tree (a leaf before m) or the new one (a leaf in m..n-1).
        const oldAltered = leaves.slice(0, m);
        oldAltered[b % m] = SOME_HASH;
        expect(verifyConsistency(m, n, treeRoot(oldAltered), rootN, proof)).toBe(false);
        const newAltered = leaves.slice();
        newAltered[m + (b % (n - m))] = SOME_HASH;
        expect(verifyConsistency(m, n, rootM, treeRoot(newAltered), proof)).toBe(false);
        const wrong = proof.slice();
        wrong[b % proof.length] = flip(wrong[b % proof.length]!, b % 8);
        expect(verifyConsistency(m, n, rootM, rootN, wrong)).toBe(false);
      }),
      { numRuns: 60 }
    );
  });

  it('a compact range grown leaf by leaf always has the tree root', () => {
    let range: CompactRange = EMPTY_RANGE;
    for (let n = 1; n <= 300; n++) {
      range = appendLeaf(range, MANY[n - 1]!);
      expect(isCompactRange(range)).toBe(true);
      expect(toHex(rangeRoot(range)), `size ${n}`).toBe(toHex(refRoot(MANY.slice(0, n))));
    }
    // Serializable: a JSON round trip (as through IndexedDB) is the same range.
    expect(rangeRoot(JSON.parse(JSON.stringify(range)) as CompactRange)).toEqual(rangeRoot(range));
  });
});

describe('misuse and malformed ranges', () => {
  it('refuses malformed compact ranges', () => {
    const good = appendLeaf(appendLeaf(EMPTY_RANGE, MANY[0]!), MANY[1]!);
    for (const bad of [
      null,
      { size: 2, roots: [] },
      { size: 3, roots: good.roots },
      { size: -1, roots: [] },
      { size: 2, roots: [good.roots[0]!.toUpperCase()] },
      { size: 2, roots: ['00'] }
    ]) {
      expect(isCompactRange(bad), JSON.stringify(bad)).toBe(false);
      expect(() => rangeRoot(bad as CompactRange)).toThrow(TypeError);
      expect(() => appendLeaf(bad as CompactRange, MANY[0]!)).toThrow(TypeError);
    }
    expect(() => appendLeaf(good, new Uint8Array(31))).toThrow(RangeError);
  });

  it('refuses proofs outside the tree', () => {
    expect(() => inclusionProof(CT_LEAVES, 8, 8)).toThrow(RangeError);
    expect(() => inclusionProof(CT_LEAVES, 0, 9)).toThrow(RangeError);
    expect(() => consistencyProof(CT_LEAVES, 5, 4)).toThrow(RangeError);
    expect(() => treeRoot([new Uint8Array(3)])).toThrow(RangeError);
  });

  it('proves in a 100,000-leaf tree quickly (one O(n) build, O(log n) per proof)', () => {
    const leaves = Array.from({ length: 100_000 }, (_, i) => MANY[i % 2000]!);
    const started = performance.now();
    const tree = MerkleTree.fromLeafHashes(leaves);
    const root = tree.root();
    for (const index of [0, 1, 4095, 65_536, 99_999]) {
      expect(
        verifyInclusion(leaves[index]!, index, 100_000, tree.inclusionProof(index), root)
      ).toBe(true);
    }
    for (const m of [1, 3, 65_536, 99_998]) {
      const rootM = MerkleTree.fromLeafHashes(leaves.slice(0, m)).root();
      expect(verifyConsistency(m, 100_000, rootM, root, tree.consistencyProof(m))).toBe(true);
    }
    console.log(
      `merkle: 100,000-leaf tree + 9 proofs in ${(performance.now() - started).toFixed(0)} ms`
    );
  });
});
