/**
 * Read-only queries on the `audit` store for the Audit page: the head, the newest rows, index key
 * lookups intersected, batched scans newest first, page reads of chosen seqs, and batched reads of
 * every leaf hash for a Merkle tree. Nothing here writes; appends go through audit-store.ts.
 *
 * Long reads are split into batches of SCAN_BATCH rows with a yield to the event loop between
 * them, so a 100,000-record log never blocks the page.
 */
import { fromHex } from '$lib/core/bytes';
import { HASH_SIZE, leafHashInto } from '$lib/core/audit/merkle';
import { parseLocalTime, type AuditFilters } from '$lib/core/audit/present';
import type { NightCoreDatabase } from './db';
import type { AuditRow, CheckpointRow } from './records';

/** Rows read (and hashed, or searched) per batch before yielding to the event loop. */
export const SCAN_BATCH = 2000;

/** Yields to the event loop (between batches). */
export const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** The newest record's seq, or null for an empty log. */
export async function lastKey(db: NightCoreDatabase): Promise<number | null> {
  const cursor = await db.transaction('audit').store.openKeyCursor(null, 'prev');
  return cursor ? cursor.key : null;
}

/** One record, or null. */
export async function readRow(db: NightCoreDatabase, seq: number): Promise<AuditRow | null> {
  return (await db.get('audit', seq)) ?? null;
}

/** Every seq in the log, ascending. */
export function allSeqs(db: NightCoreDatabase): Promise<number[]> {
  return db.getAllKeys('audit');
}

/** Records in the log (slow in Chromium: it walks every record). */
export function countRows(db: NightCoreDatabase): Promise<number> {
  return db.count('audit');
}

/** `IDBObjectStore.getAllRecords` (Chromium 141+), as idb's wrapper exposes it: a promise. */
type RecordsReader = {
  getAllRecords?: (options: {
    count: number;
    direction: 'prev';
  }) => Promise<{ primaryKey: IDBValidKey; value: AuditRow }[]>;
};

/**
 * The newest `limit` rows, newest first. One request where the browser has getAllRecords (so it is
 * not queued behind other work on the database between two requests), else two in one
 * transaction: the head's key, then one range read.
 */
export async function newestRows(db: NightCoreDatabase, limit: number): Promise<AuditRow[]> {
  const store = db.transaction('audit').store;
  const reader = store as unknown as RecordsReader;
  if (typeof IDBObjectStore !== 'undefined' && 'getAllRecords' in IDBObjectStore.prototype) {
    const records = await reader.getAllRecords!({ count: limit, direction: 'prev' });
    return records.map((record) => record.value);
  }
  const head = await store.openKeyCursor(null, 'prev');
  if (!head) return [];
  const rows = await store.getAll(IDBKeyRange.bound(Math.max(0, head.key - limit + 1), head.key));
  return rows.reverse();
}

/** The latest signed checkpoint, or null. */
export async function latestCheckpoint(db: NightCoreDatabase): Promise<CheckpointRow | null> {
  const cursor = await db.transaction('checkpoints').store.openCursor(null, 'prev');
  return cursor?.value ?? null;
}

function prefixRange(prefix: string): IDBKeyRange {
  return IDBKeyRange.bound(prefix, `${prefix}\uffff`);
}

/**
 * The seqs allowed by the indexed filters (event, module, key, time), intersected (ascending), or
 * null when none is set.
 */
export async function indexedCandidates(
  db: NightCoreDatabase,
  filters: AuditFilters
): Promise<number[] | null> {
  const sets: Promise<number[]>[] = [];
  const event = filters.event.trim();
  const module = filters.module.trim().toLowerCase();
  const keyId = filters.keyId.trim().toLowerCase();
  const from = parseLocalTime(filters.from);
  // `datetime-local` has minute precision: the end is inclusive to the end of that minute.
  const toStart = parseLocalTime(filters.to);
  const to = toStart === null ? null : toStart + 59_999;
  if (event) sets.push(db.getAllKeysFromIndex('audit', 'byEvent', event));
  if (module) sets.push(db.getAllKeysFromIndex('audit', 'byModule', prefixRange(module)));
  if (keyId) sets.push(db.getAllKeysFromIndex('audit', 'byKey', prefixRange(keyId)));
  if (from !== null || to !== null) {
    if (from !== null && to !== null && to < from) return [];
    const range =
      from !== null && to !== null
        ? IDBKeyRange.bound(from, to)
        : from !== null
          ? IDBKeyRange.lowerBound(from)
          : IDBKeyRange.upperBound(to!);
    sets.push(db.getAllKeysFromIndex('audit', 'byTime', range));
  }
  if (sets.length === 0) return null;
  const lists = (await Promise.all(sets)).sort((a, b) => a.length - b.length);
  let result = new Set(lists[0]);
  for (const list of lists.slice(1)) {
    const other = new Set(list);
    result = new Set([...result].filter((seq) => other.has(seq)));
  }
  return [...result].sort((a, b) => a - b);
}

/**
 * Rows newest first, in batches: all of them, or only the given candidates (descending). The next
 * batch is requested before the current one is handed out, so IndexedDB reads while we match.
 */
export async function* scanNewestFirst(
  db: NightCoreDatabase,
  head: number | null,
  candidates: number[] | null
): AsyncGenerator<AuditRow[]> {
  const batches: (() => Promise<AuditRow[]>)[] = [];
  if (candidates) {
    for (let i = 0; i < candidates.length; i += SCAN_BATCH) {
      const seqs = candidates.slice(i, i + SCAN_BATCH);
      batches.push(async () => (await readSeqs(db, seqs)).sort((a, b) => b.seq - a.seq));
    }
  } else if (head !== null) {
    for (let to = head; to >= 0; to -= SCAN_BATCH) {
      const range = IDBKeyRange.bound(Math.max(0, to - SCAN_BATCH + 1), to);
      batches.push(async () => (await db.getAll('audit', range)).reverse());
    }
  }
  let next = batches[0]?.();
  for (let i = 0; next; i++) {
    const current = next;
    next = batches[i + 1]?.();
    // A cancelled scan stops consuming: keep the prefetched read from rejecting unhandled.
    next?.catch(() => undefined);
    yield await current;
  }
}

/** Reads the rows of some seqs: one range read when they are close together, else one get each. */
export async function readSeqs(db: NightCoreDatabase, seqs: number[]): Promise<AuditRow[]> {
  if (seqs.length === 0) return [];
  let low = Infinity;
  let high = -Infinity;
  for (const seq of seqs) {
    if (seq < low) low = seq;
    if (seq > high) high = seq;
  }
  if (high - low + 1 <= Math.max(64, seqs.length * 4)) {
    const wanted = new Set(seqs);
    const rows = await db.getAll('audit', IDBKeyRange.bound(low, high));
    return rows.filter((row) => wanted.has(row.seq));
  }
  const store = db.transaction('audit').store;
  const rows = await Promise.all(seqs.map((seq) => store.get(seq)));
  return rows.filter((row): row is AuditRow => row !== undefined);
}

/** Records 0..size-1 in order, read in batches. */
export async function readAll(
  db: NightCoreDatabase,
  size: number,
  progress: (done: number) => void
): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for (let from = 0; from < size; from += SCAN_BATCH) {
    const to = Math.min(size, from + SCAN_BATCH) - 1;
    for (const row of await db.getAll('audit', IDBKeyRange.bound(from, to))) rows.push(row);
    progress(rows.length);
    await pause();
  }
  return rows;
}

/**
 * The leaf hashes of records 0..size-1, flat (HASH_SIZE bytes each), read and hashed in batches.
 * Throws when a record is missing.
 */
export async function readLeafHashes(
  db: NightCoreDatabase,
  size: number,
  progress: (done: number) => void
): Promise<Uint8Array> {
  const flat = new Uint8Array(size * HASH_SIZE);
  let done = 0;
  for (let from = 0; from < size; from += SCAN_BATCH) {
    const to = Math.min(size, from + SCAN_BATCH) - 1;
    const rows = await db.getAll('audit', IDBKeyRange.bound(from, to));
    for (const row of rows) {
      if (row.seq !== done) throw new Error(`record ${done} is missing from the log`);
      leafHashInto(fromHex(row.hash), flat, done * HASH_SIZE);
      done += 1;
    }
    progress(done);
    await pause();
  }
  if (done !== size) {
    throw new Error(`the log has ${done} of the ${size} records the tree needs`);
  }
  return flat;
}
