/**
 * The Merkle inclusion proof of one audit record, as the Audit page's detail view shows it.
 *
 * The path is built from the compact ranges stored with O(log² n) rows (core/audit/range-proof.ts)
 * and checked against the latest signed checkpoint's root (or the current root, for a record the
 * checkpoint does not cover yet). Only if that fails (a stored range was damaged) is the tree
 * rebuilt from every record's hash, in batches; that tree is cached until the log changes.
 */
import { bytesEqual, fromHex, toHex } from '$lib/core/bytes';
import { verifySignedCheckpoint } from '$lib/core/audit/checkpoint';
import { MerkleTree, leafHash, rangeRoot, verifyInclusion } from '$lib/core/audit/merkle';
import { evaluatePlan, pathPlan, pathSeqs } from '$lib/core/audit/range-proof';
import { hashRecord } from '$lib/core/audit/record';
import {
  lastKey,
  latestCheckpoint,
  readLeafHashes,
  readRow,
  readSeqs
} from '$lib/storage/audit-query';
import type { NightCoreDatabase } from '$lib/storage/db';
import type { AuditRow } from '$lib/storage/records';
import { auditLog } from './audit-log.svelte';

export type ProofState =
  | { state: 'idle' }
  | { state: 'computing'; seq: number; done: number; size: number }
  | { state: 'error'; seq: number; message: string }
  | {
      state: 'ready';
      seq: number;
      leafIndex: number;
      size: number;
      /** Sibling hashes from the leaf up, lowercase hex. */
      hashes: string[];
      leafHash: string;
      root: string;
      against: 'checkpoint' | 'current';
      /** How the path was found: from the Merkle ranges stored with a few records, or all leaves. */
      source: 'ranges' | 'records';
      /** Records read to build the path. */
      reads: number;
      /** The record's content hashes to its `hash`. */
      contentOk: boolean;
      /** The path leads from the record's leaf to the root. */
      included: boolean;
      /** For a checkpoint: whether its note's signature verifies with the device key. */
      signatureOk: boolean | null;
      /** All of the above: this record, as shown, is in the (signed) tree. */
      verifies: boolean;
    };

export type ReadyProof = Extract<ProofState, { state: 'ready' }>;

/**
 * The Merkle tree over records 0..size-1: their leaf hashes read and hashed in batches (yielding
 * between them), then every level built once so each proof is a few lookups. Shared by every
 * proof of the same size until the log changes.
 */
export class TreeCache {
  #tree: { revision: number; size: number; promise: Promise<MerkleTree> } | null = null;

  get(db: NightCoreDatabase, size: number, progress: (done: number) => void): Promise<MerkleTree> {
    const revision = auditLog.revision;
    const cached = this.#tree;
    if (cached && cached.revision === revision && cached.size === size) return cached.promise;
    const promise = readLeafHashes(db, size, progress).then((flat) =>
      MerkleTree.fromFlatLeafHashes(flat)
    );
    this.#tree = { revision, size, promise };
    promise.catch(() => {
      if (this.#tree?.promise === promise) this.#tree = null;
    });
    return promise;
  }
}

export interface ProofHooks {
  /** False once the caller no longer wants this proof: stop, resolve to null. */
  live(): boolean;
  /** The record as read from the log (null when it is not there). */
  shown(row: AuditRow | null): void;
  /** Leaves read so far of the tree of `size`. */
  progress(done: number, size: number): void;
  trees: TreeCache;
}

/** The inclusion proof of record `seq`; null when `live()` turned false; throws on a read error. */
export async function proveRecord(
  db: NightCoreDatabase,
  seq: number,
  hooks: ProofHooks
): Promise<ReadyProof | null> {
  const { live } = hooks;
  const row = await readRow(db, seq);
  if (!live()) return null;
  hooks.shown(row);
  if (!row) throw new Error(`record ${seq} is not in the log`);
  const head = await readRow(db, (await lastKey(db)) ?? -1);
  if (!live()) return null;
  if (!head) throw new Error('the log is empty');
  const checkpoint = await latestCheckpoint(db);
  const againstCheckpoint = checkpoint !== null && seq < checkpoint.size;
  const size = againstCheckpoint ? checkpoint.size : head.range.size;
  const root = againstCheckpoint ? fromHex(checkpoint.rootHash) : rangeRoot(head.range);
  let signatureOk: boolean | null = null;
  if (againstCheckpoint) {
    const device = auditLog.device ?? (await auditLog.store()).device;
    const verified = verifySignedCheckpoint(checkpoint.note, {
      publicKey: device.publicKey,
      name: device.name
    });
    signatureOk =
      verified.ok &&
      verified.checkpoint.size === checkpoint.size &&
      bytesEqual(verified.checkpoint.root, root);
  }
  hooks.progress(0, size);
  const leaf = leafHash(fromHex(row.hash));
  let contentOk = false;
  try {
    contentOk = hashRecord(row) === row.hash;
  } catch {
    contentOk = false; // not encodable: malformed
  }
  // Fast: the path from the compact ranges stored with O(log² n) records. If that fails (a
  // stored range was damaged), rebuild the tree from every record's hash, in batches.
  let source: 'ranges' | 'records' = 'ranges';
  let path: Uint8Array[] | null = null;
  let reads = 0;
  try {
    const plan = pathPlan(seq, size);
    const needed = pathSeqs(plan);
    reads = needed.length;
    const stored = new Map((await readSeqs(db, needed)).map((r) => [r.seq, r]));
    path = evaluatePlan(plan, stored);
    if (!verifyInclusion(leaf, seq, size, path, root)) path = null;
  } catch {
    path = null;
  }
  if (!live()) return null;
  if (path === null) {
    source = 'records';
    reads = size;
    const tree = await hooks.trees.get(db, size, (done) => {
      if (live()) hooks.progress(done, size);
    });
    if (!live()) return null;
    path = tree.inclusionProof(seq);
  }
  const included = verifyInclusion(leaf, seq, size, path, root);
  return {
    state: 'ready',
    seq,
    leafIndex: seq,
    size,
    hashes: path.map(toHex),
    leafHash: toHex(leaf),
    root: toHex(root),
    against: againstCheckpoint ? 'checkpoint' : 'current',
    source,
    reads,
    contentOk,
    included,
    signatureOk,
    verifies: contentOk && included && signatureOk !== false
  };
}
