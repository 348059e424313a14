/**
 * Merkle tree hashing of RFC 6962 / RFC 9162 section 2.1, over SHA-256:
 *   MTH({})        = SHA-256()                            (the empty tree)
 *   leaf hash      = SHA-256(0x00 || data)
 *   node hash      = SHA-256(0x01 || left || right)
 *   MTH(D[0:n])    = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two below n.
 * In the audit log the data of leaf i is the 32-byte hash of record i.
 *
 * CompactRange is the incremental form stored with each append: the roots of the perfect
 * subtrees that make up a tree of `size` leaves, largest (leftmost) first, one per set bit of size.
 * MerkleTree holds every level of a tree (flat 32-byte rows) so that proofs cost O(log n) after one
 * O(n) build. The proof verifiers follow RFC 9162 sections 2.1.3.2 and 2.1.4.2 to the letter and
 * return false for any bad input; the builders throw TypeError / RangeError for misuse.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual } from '../bytes';
import { hashFromHex, hexOf, isCount, isHashHex } from './digest';

export const HASH_SIZE = 32;

/** Roots of the perfect subtrees of a tree of `size` leaves, left to right, lowercase hex. */
export interface CompactRange {
  size: number;
  roots: string[];
}

export const EMPTY_RANGE: Readonly<CompactRange> = Object.freeze({
  size: 0,
  roots: Object.freeze([]) as unknown as string[]
});

// One reused SHA-256 state and scratch buffers: building a 100,000-leaf tree makes 200,000 hashes.
const pristine = sha256.create();
const hasher = sha256.create();
const NODE = new Uint8Array(1 + 2 * HASH_SIZE);
NODE[0] = 0x01;
const DIGEST = new Uint8Array(HASH_SIZE);
let leafScratch = new Uint8Array(1 + HASH_SIZE);

function digest(data: Uint8Array, out: Uint8Array, offset = 0): Uint8Array {
  pristine._cloneInto(hasher);
  hasher.update(data);
  if (offset === 0 && out.length === HASH_SIZE) {
    hasher.digestInto(out);
  } else {
    hasher.digestInto(DIGEST);
    out.set(DIGEST, offset);
  }
  return out;
}

/** MTH of the empty tree: SHA-256 of nothing. */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('leafHash: data must be a Uint8Array');
  return leafHashInto(data, new Uint8Array(HASH_SIZE), 0);
}

/** leafHash written into out at offset (no allocation for 32-byte data). */
export function leafHashInto(data: Uint8Array, out: Uint8Array, offset: number): Uint8Array {
  if (data.length + 1 > leafScratch.length) leafScratch = new Uint8Array(data.length + 1);
  leafScratch[0] = 0x00;
  leafScratch.set(data, 1);
  return digest(leafScratch.subarray(0, data.length + 1), out, offset);
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'left');
  assertHash(right, 'right');
  return nodeInto(left, right, new Uint8Array(HASH_SIZE), 0);
}

function nodeInto(left: Uint8Array, right: Uint8Array, out: Uint8Array, offset: number) {
  NODE.set(left, 1);
  NODE.set(right, 1 + HASH_SIZE);
  return digest(NODE, out, offset);
}

// ---------------------------------------------------------------------------------------------
// Compact range

/** Whether a value (e.g. read back from storage) is a well-formed CompactRange. */
export function isCompactRange(value: unknown): value is CompactRange {
  if (typeof value !== 'object' || value === null) return false;
  const { size, roots } = value as { size?: unknown; roots?: unknown };
  if (!isCount(size) || !Array.isArray(roots)) return false;
  return roots.length === popcount(size) && roots.every(isHashHex);
}

/** The range after appending one leaf hash (pure: `range` is not changed). */
export function appendLeaf(range: CompactRange, leaf: Uint8Array): CompactRange {
  if (!isCompactRange(range)) throw new TypeError('appendLeaf: range is not a CompactRange');
  assertHash(leaf, 'leafHash');
  if (range.size >= Number.MAX_SAFE_INTEGER) throw new RangeError('appendLeaf: the tree is full');
  const roots = range.roots.slice();
  let node = leaf;
  // Each trailing 1 bit of the old size is a perfect subtree the new leaf completes.
  for (let size = range.size; size % 2 === 1; size = Math.floor(size / 2)) {
    node = nodeHash(hashFromHex(roots.pop()!), node);
  }
  roots.push(hexOf(node));
  return { size: range.size + 1, roots };
}

/** MTH of the tree the range describes (the empty-tree hash for size 0). */
export function rangeRoot(range: CompactRange): Uint8Array {
  if (!isCompactRange(range)) throw new TypeError('rangeRoot: range is not a CompactRange');
  const { roots } = range;
  if (roots.length === 0) return emptyRoot();
  let root = hashFromHex(roots[roots.length - 1]!);
  for (let i = roots.length - 2; i >= 0; i--) root = nodeHash(hashFromHex(roots[i]!), root);
  return root;
}

// ---------------------------------------------------------------------------------------------
// Whole trees and proofs

/** Every level of an RFC 6962 tree: level j row i is MTH(D[i*2^j : min((i+1)*2^j, size)]). */
export class MerkleTree {
  readonly size: number;
  readonly #levels: Uint8Array[];

  private constructor(levels: Uint8Array[], size: number) {
    this.size = size;
    this.#levels = levels;
  }

  /** Builds the levels above `flatLeaves`, yielding after every `slice` node hashes. */
  static *#build(flatLeaves: Uint8Array, slice: number): Generator<number, MerkleTree, void> {
    const size = flatLeaves.length / HASH_SIZE;
    const levels = [flatLeaves];
    let row = flatLeaves;
    let hashed = 0;
    for (let count = size; count > 1;) {
      const nextCount = Math.ceil(count / 2);
      const next = new Uint8Array(nextCount * HASH_SIZE);
      for (let i = 0; i + 1 < count; i += 2) {
        NODE.set(row.subarray(i * HASH_SIZE, (i + 2) * HASH_SIZE), 1);
        digest(NODE, next, (i / 2) * HASH_SIZE);
        if (++hashed % slice === 0) yield hashed;
      }
      // An odd node out is carried up unchanged (that is exactly RFC 6962's split at 2^k).
      if (count % 2 === 1)
        next.set(row.subarray((count - 1) * HASH_SIZE), (nextCount - 1) * HASH_SIZE);
      levels.push(next);
      row = next;
      count = nextCount;
    }
    return new MerkleTree(levels, size);
  }

  /** A tree over leaf hashes (each 32 bytes). */
  static fromLeafHashes(leafHashes: readonly Uint8Array[]): MerkleTree {
    if (!Array.isArray(leafHashes)) throw new TypeError('leafHashes must be an array');
    const flat = new Uint8Array(leafHashes.length * HASH_SIZE);
    leafHashes.forEach((leaf, i) => flat.set(assertHash(leaf, `leafHashes[${i}]`), i * HASH_SIZE));
    return MerkleTree.fromFlatLeafHashes(flat);
  }

  /** A tree over leaf hashes laid end to end (32 bytes each); the array is kept, not copied. */
  static fromFlatLeafHashes(flat: Uint8Array): MerkleTree {
    const build = MerkleTree.buildSteps(flat, Infinity);
    for (;;) {
      const step = build.next();
      if (step.done) return step.value;
    }
  }

  /**
   * fromFlatLeafHashes in slices: yields the count of node hashes made so far after every `slice`
   * of them (a tree of n leaves makes n - 1), and returns the tree. For callers that must stay
   * responsive while building a large tree.
   */
  static buildSteps(flat: Uint8Array, slice: number): Generator<number, MerkleTree, void> {
    if (!(flat instanceof Uint8Array) || flat.length % HASH_SIZE !== 0) {
      throw new TypeError('flat leaf hashes must be a Uint8Array of a multiple of 32 bytes');
    }
    if (!(slice >= 1)) throw new RangeError('slice must be >= 1');
    return MerkleTree.#build(flat, slice);
  }

  root(): Uint8Array {
    if (this.size === 0) return emptyRoot();
    return this.#levels[this.#levels.length - 1]!.slice(0, HASH_SIZE);
  }

  /** PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, bottom-up. */
  inclusionProof(index: number): Uint8Array[] {
    if (!isCount(index) || index >= this.size) {
      throw new RangeError(`inclusionProof: index ${index} is outside a tree of ${this.size}`);
    }
    const proof: Uint8Array[] = [];
    let position = index;
    let count = this.size;
    for (let level = 0; count > 1; level++) {
      const sibling = position % 2 === 1 ? position - 1 : position + 1;
      if (sibling < count) proof.push(this.#node(level, sibling));
      position = Math.floor(position / 2);
      count = Math.ceil(count / 2);
    }
    return proof;
  }

  /** PROOF(m, D[0:size]) of RFC 9162 section 2.1.4.1 (empty for m = 0 or m = size). */
  consistencyProof(m: number): Uint8Array[] {
    if (!isCount(m) || m > this.size) {
      throw new RangeError(`consistencyProof: size ${m} is outside a tree of ${this.size}`);
    }
    const proof: Uint8Array[] = [];
    if (m > 0 && m < this.size) this.#subproof(m, 0, this.size, true, proof);
    return proof;
  }

  /** SUBPROOF(m, D[start:end], complete), appending in the RFC's order. */
  #subproof(m: number, start: number, end: number, complete: boolean, out: Uint8Array[]): void {
    const size = end - start;
    if (m === size) {
      if (!complete) out.push(this.#subtree(start, end));
      return;
    }
    const k = largestPowerOfTwoBelow(size);
    if (m <= k) {
      this.#subproof(m, start, start + k, complete, out);
      out.push(this.#subtree(start + k, end));
    } else {
      this.#subproof(m - k, start + k, end, false, out);
      out.push(this.#subtree(start, start + k));
    }
  }

  /** MTH(D[start:end]) for a node of this tree (perfect and aligned, or ending at size). */
  #subtree(start: number, end: number): Uint8Array {
    let level = 0;
    while (2 ** level < end - start) level++;
    return this.#node(level, start / 2 ** level);
  }

  #node(level: number, index: number): Uint8Array {
    return this.#levels[level]!.slice(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }
}

/** MTH over leaf hashes. */
export function treeRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  return MerkleTree.fromLeafHashes(leafHashes).root();
}

/** The audit path for leaf `index` in the tree of the first `size` leaf hashes. */
export function inclusionProof(
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number
): Uint8Array[] {
  return treeOf(leafHashes, size).inclusionProof(index);
}

/** The consistency proof between the trees of the first m and the first n leaf hashes. */
export function consistencyProof(
  leafHashes: readonly Uint8Array[],
  m: number,
  n: number
): Uint8Array[] {
  return treeOf(leafHashes, n).consistencyProof(m);
}

function treeOf(leafHashes: readonly Uint8Array[], size: number): MerkleTree {
  if (!Array.isArray(leafHashes)) throw new TypeError('leafHashes must be an array');
  if (!isCount(size) || size > leafHashes.length) {
    throw new RangeError(`tree size ${size} is outside 0..${leafHashes.length}`);
  }
  return MerkleTree.fromLeafHashes(leafHashes.slice(0, size));
}

/**
 * The root an inclusion proof leads to (RFC 9162 section 2.1.3.2 without the final comparison),
 * or null when the proof cannot be one for (index, size) (wrong length, bad input).
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[]
): Uint8Array | null {
  if (!isHash(leaf) || !isCount(index) || !isCount(size) || index >= size) return null;
  if (!Array.isArray(proof) || !proof.every(isHash)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf.slice();
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      nodeInto(p, r, r, 0);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      nodeInto(r, p, r, 0);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

/** Whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` with root `root`. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array
): boolean {
  if (!isHash(root)) return false;
  const computed = rootFromInclusionProof(leaf, index, size, proof);
  return computed !== null && bytesEqual(computed, root);
}

/**
 * Whether `proof` shows the tree of size m (root rootM) is a prefix of the tree of size n (root
 * rootN): RFC 9162 section 2.1.4.2. m = n needs an empty proof and equal roots; m = 0 needs an
 * empty proof and rootM = the empty-tree hash (every tree extends the empty one).
 */
export function verifyConsistency(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  proof: readonly Uint8Array[]
): boolean {
  if (!isCount(m) || !isCount(n) || m > n || !isHash(rootM) || !isHash(rootN)) return false;
  if (!Array.isArray(proof) || !proof.every(isHash)) return false;
  if (m === n) return proof.length === 0 && bytesEqual(rootM, rootN);
  if (m === 0) return proof.length === 0 && bytesEqual(rootM, emptyRoot());
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const fr = path[0]!.slice();
  const sr = path[0]!.slice();
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      nodeInto(c, fr, fr, 0);
      nodeInto(c, sr, sr, 0);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      nodeInto(sr, c, sr, 0);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, rootM) && bytesEqual(sr, rootN);
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function assertHash(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (value.length !== HASH_SIZE) {
    throw new RangeError(`${what} must be ${HASH_SIZE} bytes, not ${value.length}`);
  }
  return value;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && largestPowerOfTwoBelow(n * 2) === n;
}

function popcount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}
