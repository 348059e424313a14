/**
 * The audit log in IndexedDB: append-only, hash-chained, with a Merkle compact range stored on
 * every row and signed checkpoints every CHECKPOINT_EVERY records.
 *
 * An append reads the head and adds the record after it in one readwrite transaction, which
 * IndexedDB runs alone over the audit store (whatever the tab), so two tabs can never both extend
 * the same head. Each row is written with add(), never put(): nothing can overwrite a sequence
 * number. Hashing inside that transaction is synchronous (awaiting other work inside a
 * transaction commits it early); signing a checkpoint happens after it commits.
 */
import { fromHex, toHex } from '$lib/core/bytes';
import { hashFromHex } from '$lib/core/audit/digest';
import { appendLeaf, leafHash, rangeRoot, type CompactRange } from '$lib/core/audit/merkle';
import { verifyChain } from '$lib/core/audit/chain';
import { createRecord, type AuditRecordInput } from '$lib/core/audit/record';
import { signCheckpoint } from '$lib/core/audit/checkpoint';
import { reason, type Reason } from '$lib/core/verdict';
import type { IDBPTransaction } from 'idb';
import type { NightCoreDB, NightCoreDatabase, StoreName } from './db';
import type { DeviceKey } from './device-key';
import { withLock } from './locks';
import type { AuditRow, CheckpointRow } from './records';
import { isQuotaError, storageWrite } from './storage-errors';

export const AUDIT_LOCK = 'nightcore-audit-append';
export const AUDIT_CHANNEL = 'nightcore-audit';
/** A signed checkpoint is made automatically every this many records (and on demand). */
export const CHECKPOINT_EVERY = 256;
const VERIFY_BATCH = 2000;
const EMPTY_RANGE: CompactRange = { size: 0, roots: [] };
const RUN_OUTCOMES = new Set<string>(['run.finished', 'run.killed', 'run.interrupted']);
/** A running run holds this Web Lock in its tab; a tab that dies releases it. */
export const runLockName = (runId: string) => `nightcore-run-${runId}`;

/** The two requests an append makes on the audit store, whatever else its transaction spans. */
interface AuditWriter {
  openCursor(query: null, direction: 'prev'): Promise<{ value: AuditRow } | null>;
  add(row: AuditRow): Promise<unknown>;
}

export type ChainCheck =
  | { ok: true; count: number; headSeq: number | null; from: number }
  | { ok: false; seq: number; reason: Reason; from: number };

export interface AuditAnchor {
  seq: number;
  hash: string;
  range: CompactRange;
}

export class AuditStore {
  readonly origin: string;
  #channel: BroadcastChannel | null;

  constructor(
    readonly db: NightCoreDatabase,
    readonly device: DeviceKey
  ) {
    this.origin = `nightcore.local/device/${device.id.slice(0, 16)}`;
    this.#channel =
      typeof BroadcastChannel === 'function' ? new BroadcastChannel(AUDIT_CHANNEL) : null;
  }

  async head(): Promise<AuditRow | null> {
    const cursor = await this.db.transaction('audit').store.openCursor(null, 'prev');
    return cursor?.value ?? null;
  }

  async count(): Promise<number> {
    return this.db.count('audit');
  }

  /** Appends one record after the current head, whichever tab wrote it. */
  async append(input: AuditRecordInput): Promise<AuditRow> {
    const [row] = await this.#extend([input]);
    this.#channel?.postMessage({ type: 'appended', seq: row!.seq });
    return row!;
  }

  /**
   * Appends many records in one transaction (imports, and seeding large logs in tests and
   * benchmarks). All or nothing: a failure leaves the log as it was.
   */
  async appendMany(inputs: readonly AuditRecordInput[]): Promise<number> {
    if (inputs.length === 0) return 0;
    const rows = await this.#extend(inputs);
    this.#channel?.postMessage({ type: 'appended', seq: rows[rows.length - 1]!.seq });
    return inputs.length;
  }

  /**
   * Reads the head and adds the records after it in ONE readwrite transaction. IndexedDB never
   * runs two readwrite transactions over the same store at once, in any tab, so the head cannot
   * move between the read and the adds: a second writer's transaction waits and then chains after
   * this one (this is what the Web Lock around the append did; the transaction alone costs one
   * round trip to the database instead of three). Records are hashed synchronously between the
   * read and the adds, so the transaction cannot commit early; add() never overwrites a seq.
   */
  async #extend(inputs: readonly AuditRecordInput[]): Promise<AuditRow[]> {
    const tx = this.db.transaction('audit', 'readwrite');
    const { rows, added } = await this.#addAfterHead(tx, inputs);
    // Over quota the transaction is rolled back whole: no record is added, the head stays where
    // it was, and the chain is as intact as before (StorageFullError names the event).
    await storageWrite(
      `the audit record (${inputs.length === 1 ? inputs[0]!.event : `${inputs.length} records`})`,
      () => Promise.all([added, tx.done]),
      tx
    );
    await this.#checkpointIfCrossed(rows);
    return rows;
  }

  /**
   * Appends the record `work` returns in the SAME readwrite transaction as the writes `work` makes
   * to `stores` (a decision and its record: both or neither, whatever dies in between). `work`
   * may only await requests of `tx`; returning null aborts the transaction, so nothing it wrote
   * stays and nothing is appended. Resolves to the row appended, or null.
   */
  async appendWith<S extends Exclude<StoreName, 'audit'>>(
    stores: readonly S[],
    work: (
      tx: IDBPTransaction<NightCoreDB, ('audit' | S)[], 'readwrite'>
    ) => Promise<AuditRecordInput | null>,
    /** What the user lost if it does not fit, as a phrase ("the decision"). */
    what?: string
  ): Promise<AuditRow | null> {
    const tx = this.db.transaction(['audit', ...stores], 'readwrite');
    const writing = what ?? 'the audit record';
    let input: AuditRecordInput | null;
    try {
      // A failed write aborts the transaction, and the other requests of `work` then reject with
      // a bare AbortError: storageWrite finds the real cause (a full disk) on the transaction.
      input = await storageWrite(writing, () => work(tx), tx);
    } catch (error) {
      await abandon(tx);
      throw error;
    }
    if (!input) {
      await abandon(tx);
      return null;
    }
    const { rows, added } = await storageWrite(writing, () => this.#addAfterHead(tx, [input]), tx);
    // Over quota the whole transaction (the work and its record) is rolled back.
    await storageWrite(
      what ?? `the audit record (${input.event})`,
      () => Promise.all([added, tx.done]),
      tx
    );
    const row = rows[0]!;
    await this.#checkpointIfCrossed(rows);
    this.#channel?.postMessage({ type: 'appended', seq: row.seq });
    return row;
  }

  /**
   * Reads the head in `tx` and adds the records after it (hashed synchronously in between).
   * `added` settles with the adds; the caller awaits it together with `tx.done`.
   */
  async #addAfterHead(
    tx: { abort(): void; done: Promise<void>; objectStore(name: 'audit'): AuditWriter },
    inputs: readonly AuditRecordInput[]
  ): Promise<{ rows: AuditRow[]; added: Promise<unknown> }> {
    const audit = tx.objectStore('audit');
    const head = (await audit.openCursor(null, 'prev'))?.value ?? null;
    let previous = head ? { seq: head.seq, hash: head.hash } : null;
    let range = head?.range ?? EMPTY_RANGE;
    const rows: AuditRow[] = [];
    try {
      for (const input of inputs) {
        const record = createRecord(previous, input);
        range = appendLeaf(range, leafHash(fromHex(record.hash)));
        rows.push({ ...record, range });
        previous = { seq: record.seq, hash: record.hash };
      }
    } catch (error) {
      await abandon(tx);
      throw error;
    }
    return { rows, added: Promise.all(rows.map((row) => audit.add(row))) };
  }

  async #checkpointIfCrossed(rows: readonly AuditRow[]): Promise<void> {
    // One checkpoint per call, at its end, when it crossed a multiple of CHECKPOINT_EVERY.
    const lastRow = rows[rows.length - 1]!;
    const firstSeq = rows[0]!.seq;
    const crossed =
      Math.floor((lastRow.seq + 1) / CHECKPOINT_EVERY) > Math.floor(firstSeq / CHECKPOINT_EVERY);
    try {
      if (crossed) await this.#saveCheckpoint(lastRow);
    } catch (error) {
      // The records are committed: a checkpoint that does not fit must not report them as lost.
      // The next one (every CHECKPOINT_EVERY records, or Make checkpoint) covers them.
      if (!isQuotaError(error)) throw error;
    }
  }

  /** A signed checkpoint of the log as it is now (none for an empty log). */
  async checkpoint(): Promise<CheckpointRow | null> {
    return withLock(AUDIT_LOCK, async () => {
      const head = await this.head();
      return head ? this.#saveCheckpoint(head) : null;
    });
  }

  async latestCheckpoint(): Promise<CheckpointRow | null> {
    const cursor = await this.db.transaction('checkpoints').store.openCursor(null, 'prev');
    return cursor?.value ?? null;
  }

  async markExported(size: number): Promise<void> {
    const row = await this.db.get('checkpoints', size);
    if (row) await this.db.put('checkpoints', { ...row, exportedAt: Date.now() });
  }

  async #saveCheckpoint(head: AuditRow): Promise<CheckpointRow> {
    const root = rangeRoot(head.range);
    const note = await signCheckpoint(
      { origin: this.origin, size: head.range.size, root },
      { name: this.device.name, publicKey: this.device.publicKey, sign: (m) => this.device.sign(m) }
    );
    const row: CheckpointRow = {
      size: head.range.size,
      rootHash: toHex(root),
      note,
      createdAt: Date.now(),
      exportedAt: null
    };
    await this.db.put('checkpoints', row);
    return row;
  }

  /** Rows with seq in [from, to], in order. */
  async rows(from: number, to: number): Promise<AuditRow[]> {
    if (to < from) return [];
    return this.db.getAll('audit', IDBKeyRange.bound(from, to));
  }

  /**
   * Verifies the stored chain from `anchor` (the record after it) or from genesis: every record's
   * hash, every link, the stored Merkle ranges, and every stored checkpoint's root. Reports the
   * first bad sequence number and why. Reads in batches so a 100,000-record log never sits in
   * memory at once.
   */
  async verify(anchor: AuditAnchor | null = null): Promise<ChainCheck> {
    const from = anchor ? anchor.seq + 1 : 0;
    let previous = anchor ? { seq: anchor.seq, hash: anchor.hash } : undefined;
    let range = anchor?.range ?? EMPTY_RANGE;
    const checkpoints = new Map((await this.db.getAll('checkpoints')).map((c) => [c.size, c]));
    let count = 0;
    // The next batch is read while this one is hashed: reading rows out of IndexedDB (a round
    // trip to the browser's database process) and hashing them (JS on this thread) overlap.
    let next = this.rows(from, from + VERIFY_BATCH - 1);
    for (let start = from; ; start += VERIFY_BATCH) {
      const batch = await next;
      if (batch.length === 0) break;
      next =
        batch.length < VERIFY_BATCH
          ? Promise.resolve([])
          : this.rows(start + VERIFY_BATCH, start + 2 * VERIFY_BATCH - 1);
      // A failure below returns with `next` in flight; its rows are simply dropped.
      next.catch(() => undefined);
      const chain = verifyChain(batch, previous);
      if (!chain.ok) return { ok: false, seq: chain.seq, reason: chain.reason, from };
      for (const row of batch) {
        // hashFromHex: verifyChain has just checked row.hash is 64 lowercase hex (table lookup,
        // not the general regex-and-parseInt fromHex).
        range = appendLeaf(range, leafHash(hashFromHex(row.hash)));
        if (!sameRange(range, row.range)) {
          return {
            ok: false,
            seq: row.seq,
            reason: reason(
              'audit.range',
              `Record ${row.seq}'s stored Merkle range does not match the records before it.`
            ),
            from
          };
        }
        const checkpoint = checkpoints.get(range.size);
        if (checkpoint && checkpoint.rootHash !== toHex(rangeRoot(range))) {
          return {
            ok: false,
            seq: row.seq,
            reason: reason(
              'audit.checkpoint-root',
              `The signed checkpoint at size ${range.size} names a different root: the log was rewritten after it was signed.`
            ),
            from
          };
        }
      }
      const last = batch[batch.length - 1]!;
      previous = { seq: last.seq, hash: last.hash };
      count += batch.length;
      if (batch.length < VERIFY_BATCH) break;
    }
    return { ok: true, count, headSeq: previous?.seq ?? null, from };
  }

  /** Run ids with a `run.started` record and no outcome record (finished, killed, interrupted). */
  async unfinishedRuns(): Promise<string[]> {
    const started = await this.db.getAllFromIndex('audit', 'byEvent', 'run.started');
    const open: string[] = [];
    for (const row of started) {
      const runId = row.subject.runId;
      if (!runId) continue;
      const events = await this.db.getAllFromIndex('audit', 'byRun', runId);
      if (!events.some((e) => RUN_OUTCOMES.has(e.event))) open.push(runId);
    }
    return open;
  }

  close(): void {
    this.#channel?.close();
    this.#channel = null;
  }
}

/** Aborts a transaction (unless a failed request already did) and waits until it has ended. */
async function abandon(tx: { abort(): void; done: Promise<void> }): Promise<void> {
  try {
    tx.abort();
  } catch {
    // Already aborted: a failed request aborts its transaction by itself.
  }
  await tx.done.catch(() => undefined);
}

function sameRange(a: CompactRange, b: CompactRange | undefined): boolean {
  return (
    !!b &&
    a.size === b.size &&
    a.roots.length === b.roots.length &&
    a.roots.every((r, i) => r === b.roots[i])
  );
}
