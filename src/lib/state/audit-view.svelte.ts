/**
 * The Audit page's view of the log: filters, the matching sequence numbers (newest first), a cache
 * of the rows in the visible window, the opened record with its Merkle inclusion proof, and export.
 *
 * It reads IndexedDB itself (through the page's shared connection) rather than waiting for
 * `auditLog.start()`, whose chain check reads the whole log: the first rows of a 100,000-record
 * log need one request (the newest rows; the head's seq gives the length), and each page of the
 * list after that is one range read. The count (slow in Chromium: it walks every record) comes
 * after the first paint, only to confirm there is no gap.
 *
 * Filters with an index (event, module, key, time) are answered with `getAllKeys` and intersected;
 * the others (verdict, free text) scan rows in batches of SCAN_BATCH, newest first, yielding to
 * the event loop between batches and publishing matches as they are found. Changing a filter
 * cancels a running query; another tab's append lets it finish and then runs it again.
 *
 * The inclusion proof is built from the compact Merkle ranges stored with O(log² n) rows (see
 * pathPlan) and checked against the latest signed checkpoint's root; only if that fails is the
 * tree rebuilt from every record, in batches.
 */
import { untrack } from 'svelte';
import { bytesEqual, fromHex, toHex } from '$lib/core/bytes';
import { verifySignedCheckpoint } from '$lib/core/audit/checkpoint';
import { buildExport } from '$lib/core/audit/export';
import {
  HASH_SIZE,
  MerkleTree,
  leafHash,
  leafHashInto,
  nodeHash,
  rangeRoot,
  verifyInclusion
} from '$lib/core/audit/merkle';
import { AUDIT_EVENTS, hashRecord, type AuditEvent } from '$lib/core/audit/record';
import type { NightCoreDatabase } from '$lib/storage/db';
import type { AuditRow, CheckpointRow } from '$lib/storage/records';
import { auditLog } from './audit-log.svelte';
import { database } from './database';

/** Rows read (and hashed, or searched) per batch before yielding to the event loop. */
export const SCAN_BATCH = 2000;
/** Newest rows read with the head, before anything else: the first screenful and then some. */
const FIRST_PAGE = 40;
/** Rows kept in the page cache around the visible window, at most. */
const CACHE_LIMIT = 3000;

export interface AuditFilters {
  /** An event type, exactly; '' for any. */
  event: string;
  /** Text matched against a record's verdict, result or outcome (case-insensitive prefix). */
  verdict: string;
  /** A key id prefix (lowercase hex). */
  keyId: string;
  /** A module SHA-256 prefix (lowercase hex). */
  module: string;
  /** `datetime-local` values (local time), '' for open-ended. */
  from: string;
  to: string;
  /** Free text searched in each record's JSON (names, reasons, ids). */
  text: string;
}

export const NO_FILTERS: Readonly<AuditFilters> = Object.freeze({
  event: '',
  verdict: '',
  keyId: '',
  module: '',
  from: '',
  to: '',
  text: ''
});

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

export type ExportScope = 'all' | 'filtered';

export type { AuditRow };

type Generation = { readonly id: number };

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export class AuditView {
  filters = $state<AuditFilters>({ ...NO_FILTERS });
  /** Records in the whole log (null until first read). */
  logCount = $state<number | null>(null);
  /** Matching records so far (grows while a scan runs). */
  total = $state(0);
  /** True until the first query has answered. */
  loading = $state(true);
  /** The filters changed and the list does not show their result yet. */
  pending = $state(false);
  /** A scan for verdict or text is running: `scanned` of `scanTotal` rows read. */
  searching = $state(false);
  scanned = $state(0);
  scanTotal = $state(0);
  /** Event types, for the filter's options. */
  readonly events: readonly AuditEvent[] = AUDIT_EVENTS;
  error = $state<string | null>(null);

  /** The opened record (detail view) and its inclusion proof. */
  openedSeq = $state<number | null>(null);
  opened = $state.raw<AuditRow | null>(null);
  proof = $state.raw<ProofState>({ state: 'idle' });

  exporting = $state(false);
  exportMessage = $state<string | null>(null);

  /** Bumped when rows arrive in the cache or the match list changes: readers subscribe to it. */
  version = $state(0);

  /** Matching seqs, newest first; null means every record, contiguous from `#headSeq` down. */
  #matches: number[] | null = null;
  #headSeq = -1;
  #rows = new Map<number, AuditRow>();
  /** Rows from before the last re-query: shown until fresh ones arrive, so nothing flickers. */
  #stale = new Map<number, AuditRow>();
  #loadingSeqs = new Set<number>();
  #window = { start: 0, end: 0 };
  #query: Generation = { id: 0 };
  #openToken: Generation = { id: 0 };
  #tree: { revision: number; size: number; promise: Promise<MerkleTree> } | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastFilterKey = '';
  #running: Promise<void> | null = null;
  #rerun = false;

  /**
   * Wires the view to the component that owns it (call during component initialisation): runs the
   * query now, again when a filter changes (debounced for typing) and when the log grows.
   */
  attach(): void {
    $effect(() => {
      performance.mark('nightcore:audit-open');
      void auditLog.start().catch(() => {
        // auditLog.status/problem say why; the timeline still reads what it can.
      });
      return () => {
        if (this.#timer) clearTimeout(this.#timer);
        this.#query = { id: this.#query.id + 1 };
        this.#openToken = { id: this.#openToken.id + 1 };
      };
    });
    $effect(() => {
      const key = JSON.stringify(this.filters);
      const revision = auditLog.revision;
      untrack(() => this.#schedule(key, revision));
    });
  }

  get filtered(): boolean {
    const f = this.filters;
    return Object.values(f).some((value) => value.trim() !== '');
  }

  clearFilters(): void {
    Object.assign(this.filters, NO_FILTERS);
  }

  /** The seq at a position of the (newest-first) list, or null past its end. */
  seqAt(index: number): number | null {
    void this.version;
    if (index < 0 || index >= this.total) return null;
    if (this.#matches === null) return this.#headSeq - index;
    return this.#matches[index] ?? null;
  }

  /** The position of a seq in the list, or -1. */
  indexOf(seq: number): number {
    void this.version;
    if (this.#matches === null) {
      const index = this.#headSeq - seq;
      return index >= 0 && index < this.total ? index : -1;
    }
    return this.#matches.indexOf(seq);
  }

  /** The cached row for a seq (undefined while it loads). */
  row(seq: number): AuditRow | undefined {
    void this.version;
    return this.#rows.get(seq) ?? this.#stale.get(seq);
  }

  /** The list's visible window (indexes, end exclusive): loads the rows it shows. */
  setWindow(start: number, end: number): void {
    this.#window = { start, end };
    untrack(() => void this.#ensure(start, end));
  }

  // ---------------------------------------------------------------- query

  #schedule(key: string, revision: number): void {
    void revision;
    const filtersChanged = key !== this.#lastFilterKey;
    this.#lastFilterKey = key;
    if (filtersChanged) {
      if (this.#timer) clearTimeout(this.#timer);
      this.pending = true;
      if (this.loading) {
        this.#start(); // the first query: at once
        return;
      }
      // Typing: wait for a pause, then cancel whatever runs and query again.
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#start();
      }, 150);
      return;
    }
    // The log grew: a query about to run will see it; a running one finishes (its rows are still
    // right) and then runs again, so a burst of appends never starves the first paint.
    if (this.#timer) return;
    if (this.#running) {
      this.#rerun = true;
      return;
    }
    this.#start();
  }

  #start(): void {
    this.#rerun = false;
    const run = this.#run();
    this.#running = run;
    void run.finally(() => {
      if (this.#running !== run) return;
      this.#running = null;
      if (this.#rerun) this.#start();
    });
  }

  async #run(): Promise<void> {
    const generation: Generation = { id: this.#query.id + 1 };
    this.#query = generation;
    const live = () => this.#query === generation;
    const filters = { ...this.filters };
    try {
      const db = await database();
      if (!live()) return;
      const indexed = await indexedCandidates(db, filters);
      if (!live()) return;
      const scanning = filters.text.trim() !== '' || filters.verdict.trim() !== '';
      const plain = indexed === null && !scanning;
      // Unfiltered, the newest rows (one cursor read) are all the first paint needs.
      const newest = plain ? await newestRows(db, FIRST_PAGE) : [];
      const head = plain ? (newest[0]?.seq ?? null) : await lastKey(db);
      if (!live()) return;

      this.#stale = new Map([...this.#stale, ...this.#rows]);
      this.#rows = new Map(newest.map((row) => [row.seq, row]));
      this.#loadingSeqs.clear();
      this.scanned = 0;
      this.scanTotal = 0;

      if (plain) {
        // An intact log holds seqs 0..head with no gap, so the list is head+1 records, newest
        // first, without counting them first (count() walks all 100,000). The count that follows
        // confirms it; a log with a gap (records deleted by hand) falls back to listing its keys.
        this.#matches = null;
        this.#headSeq = head ?? -1;
        this.total = head === null ? 0 : head + 1;
        this.searching = false;
        this.#publish();
        await this.#ensure(this.#window.start, this.#window.end);
        this.#stale.clear();
        const count = await this.#count(db);
        if (!live()) return;
        this.logCount = count;
        // Fewer records than head+1: a gap. (More: appended since; the next revision re-reads.)
        if (count < this.total) {
          const keys = await db.getAllKeys('audit');
          if (!live()) return;
          this.#matches = keys.reverse();
          this.total = this.#matches.length;
          this.version += 1;
          await this.#ensure(this.#window.start, this.#window.end);
        }
        return;
      }

      this.logCount = await this.#count(db);
      if (!live()) return;
      if (!scanning) {
        this.#matches = [...(indexed ?? [])].sort((a, b) => b - a);
        this.total = this.#matches.length;
        this.searching = false;
        this.#publish();
        await this.#ensure(this.#window.start, this.#window.end);
        this.#stale.clear();
        return;
      }

      this.#matches = [];
      this.total = 0;
      this.searching = true;
      this.#publish();
      const match = matcher(filters);
      const candidates = indexed === null ? null : [...indexed].sort((a, b) => b - a);
      this.scanTotal = candidates?.length ?? this.logCount;
      const found: number[] = this.#matches;
      for await (const batch of scanNewestFirst(db, head, candidates)) {
        if (!live()) return;
        for (const row of batch) {
          if (!match(row)) continue;
          found.push(row.seq);
          // The first screenfuls are in hand already: cache them so they paint at once.
          if (found.length <= 200) this.#rows.set(row.seq, row);
        }
        this.scanned += batch.length;
        this.total = found.length;
        this.version += 1;
        await pause();
        if (!live()) return;
      }
      this.searching = false;
      await this.#ensure(this.#window.start, this.#window.end);
      this.#stale.clear();
    } catch (error) {
      if (!live()) return;
      this.loading = false;
      this.pending = false;
      this.searching = false;
      this.error = `The audit log could not be read: ${message(error)}`;
    }
  }

  #publish(): void {
    this.pending = false;
    this.loading = false;
    this.error = null;
    this.version += 1;
    if (this.logCount === null || this.logCount < this.total) this.logCount = this.total;
  }

  /** Records in the log: the audit log's own count when it is current, else counted here. */
  async #count(db: NightCoreDatabase): Promise<number> {
    return auditLog.revision > 0 ? auditLog.count : db.count('audit');
  }

  /** Loads the rows of list positions [start, end) that are not cached yet. */
  async #ensure(start: number, end: number): Promise<void> {
    const generation = this.#query;
    const wanted: number[] = [];
    for (let index = Math.max(0, start); index < Math.min(end, this.total); index++) {
      const seq = this.seqAt(index);
      if (seq !== null && !this.#rows.has(seq) && !this.#loadingSeqs.has(seq)) wanted.push(seq);
    }
    if (wanted.length === 0) return;
    for (const seq of wanted) this.#loadingSeqs.add(seq);
    try {
      const db = await database();
      const rows = await readSeqs(db, wanted);
      if (this.#query !== generation) return;
      for (const row of rows) this.#rows.set(row.seq, row);
      this.#evict();
      this.version += 1;
    } catch (error) {
      this.error = `Records could not be read: ${message(error)}`;
    } finally {
      for (const seq of wanted) this.#loadingSeqs.delete(seq);
    }
  }

  /** Keeps the cache near the visible window. */
  #evict(): void {
    if (this.#rows.size <= CACHE_LIMIT) return;
    const keep = new Set<number>();
    const margin = CACHE_LIMIT / 4;
    for (let i = this.#window.start - margin; i < this.#window.end + margin; i++) {
      const seq = this.seqAt(i);
      if (seq !== null) keep.add(seq);
    }
    for (const seq of this.#rows.keys()) if (!keep.has(seq)) this.#rows.delete(seq);
    this.#stale.clear();
  }

  // ---------------------------------------------------------------- detail and proof

  /** Opens a record: shows it and computes its inclusion proof. */
  async open(seq: number): Promise<void> {
    const token: Generation = { id: this.#openToken.id + 1 };
    this.#openToken = token;
    const live = () => this.#openToken === token;
    this.openedSeq = seq;
    this.opened = this.row(seq) ?? null;
    this.proof = { state: 'computing', seq, done: 0, size: 0 };
    try {
      const db = await database();
      const row = (await db.get('audit', seq)) ?? null;
      if (!live()) return;
      this.opened = row;
      if (!row) throw new Error(`record ${seq} is not in the log`);
      const head = await db.get('audit', (await lastKey(db)) ?? -1);
      if (!live()) return;
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
      this.proof = { state: 'computing', seq, done: 0, size };
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
      const plan = pathPlan(seq, size);
      const needed = pathSeqs(plan);
      let path: Uint8Array[] | null = null;
      let reads = needed.length;
      try {
        const stored = new Map((await readSeqs(db, needed)).map((r) => [r.seq, r]));
        path = plan.map((hash) => evaluatePath(hash, stored));
        if (!verifyInclusion(leaf, seq, size, path, root)) path = null;
      } catch {
        path = null;
      }
      if (!live()) return;
      if (path === null) {
        source = 'records';
        reads = size;
        const tree = await this.#treeOf(db, size, (done) => {
          if (live()) this.proof = { state: 'computing', seq, done, size };
        });
        if (!live()) return;
        path = tree.inclusionProof(seq);
      }
      const included = verifyInclusion(leaf, seq, size, path, root);
      this.proof = {
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
    } catch (error) {
      if (live()) this.proof = { state: 'error', seq, message: message(error) };
    }
  }

  close(): void {
    this.#openToken = { id: this.#openToken.id + 1 };
    this.openedSeq = null;
    this.opened = null;
    this.proof = { state: 'idle' };
  }

  /**
   * The Merkle tree over records 0..size-1: their leaf hashes read and hashed in batches
   * (yielding between them), then every level built once so each proof is a few lookups.
   * Shared by every proof of the same size until the log changes.
   */
  #treeOf(
    db: NightCoreDatabase,
    size: number,
    progress: (done: number) => void
  ): Promise<MerkleTree> {
    const revision = auditLog.revision;
    const cached = this.#tree;
    if (cached && cached.revision === revision && cached.size === size) return cached.promise;
    const promise = (async () => {
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
      return MerkleTree.fromFlatLeafHashes(flat);
    })();
    this.#tree = { revision, size, promise };
    promise.catch(() => {
      if (this.#tree?.promise === promise) this.#tree = null;
    });
    return promise;
  }

  // ---------------------------------------------------------------- export

  /**
   * Exports the whole log or the current filtered selection as two downloads: the JSONL records
   * and the signed checkpoint they verify against. Nothing leaves the browser except as a file the
   * user saves. The export itself is then recorded, and the checkpoint marked as exported.
   */
  async export(scope: ExportScope): Promise<void> {
    if (this.exporting) return;
    this.exporting = true;
    this.exportMessage = null;
    try {
      const store = await auditLog.store();
      const checkpoint = await auditLog.makeCheckpoint();
      if (!checkpoint) throw new Error('the log is empty');
      const records = await readAll(store.db, checkpoint.size, (done) => {
        this.exportMessage = `Reading records… ${done} of ${checkpoint.size}`;
      });
      this.exportMessage = 'Writing the export…';
      await pause();
      const seqs = scope === 'filtered' ? await this.#allMatches(checkpoint.size) : null;
      if (seqs && seqs.length === 0) throw new Error('no records match the filters');
      const { jsonl, checkpoint: note } = buildExport(records, {
        origin: store.origin,
        deviceKey: { name: store.device.name, publicKey: store.device.publicKey },
        checkpointNote: checkpoint.note,
        selection: seqs ? { seqs } : 'all'
      });
      const base = `nightcore-audit-${localDate(new Date())}`;
      download(`${base}.jsonl`, jsonl, 'application/x-ndjson');
      download(`${base}.checkpoint`, note, 'text/plain');
      const exported = seqs?.length ?? records.length;
      await auditLog.record({
        event: 'audit.export',
        subject: {},
        details: {
          scope,
          records: exported,
          size: checkpoint.size,
          root: checkpoint.rootHash,
          ...(scope === 'filtered' ? { filters: activeFilters(this.filters) } : {})
        }
      });
      await store.markExported(checkpoint.size);
      this.exportMessage = `Exported ${exported} record${exported === 1 ? '' : 's'} with a checkpoint of size ${checkpoint.size}.`;
    } catch (error) {
      this.exportMessage = `Export failed: ${message(error)}`;
    } finally {
      this.exporting = false;
    }
  }

  /** Every matching seq below `size`, ascending (waits for a running scan to finish). */
  async #allMatches(size: number): Promise<number[]> {
    while (this.searching || this.pending) await new Promise((r) => setTimeout(r, 50));
    const seqs: number[] = [];
    for (let i = 0; i < this.total; i++) {
      const seq = this.seqAt(i);
      if (seq !== null && seq < size) seqs.push(seq);
    }
    return seqs.reverse();
  }
}

// ------------------------------------------------------------------ helpers

async function lastKey(db: NightCoreDatabase): Promise<number | null> {
  const cursor = await db.transaction('audit').store.openKeyCursor(null, 'prev');
  return cursor ? cursor.key : null;
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
async function newestRows(db: NightCoreDatabase, limit: number): Promise<AuditRow[]> {
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

async function latestCheckpoint(db: NightCoreDatabase): Promise<CheckpointRow | null> {
  const cursor = await db.transaction('checkpoints').store.openCursor(null, 'prev');
  return cursor?.value ?? null;
}

function prefixRange(prefix: string): IDBKeyRange {
  return IDBKeyRange.bound(prefix, `${prefix}\uffff`);
}

/** Parses a `datetime-local` value as local time; null when empty or invalid. */
export function parseLocalTime(value: string): number | null {
  if (value.trim() === '') return null;
  const time = new Date(value).getTime();
  return Number.isFinite(time) ? time : null;
}

/**
 * The seqs allowed by the indexed filters, intersected (ascending), or null when none is set.
 */
async function indexedCandidates(
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

/** The filters that need each row's content: verdict and free text. */
function matcher(filters: AuditFilters): (row: AuditRow) => boolean {
  const text = filters.text.trim().toLowerCase();
  const verdict = filters.verdict.trim().toLowerCase();
  return (row) => {
    if (verdict && !verdictOf(row)?.toLowerCase().startsWith(verdict)) return false;
    if (text) {
      const haystack = jsonText([row.event, row.subject, row.details]).toLowerCase();
      if (!haystack.includes(text)) return false;
    }
    return true;
  };
}

/** A record's verdict, result or outcome, when its details carry one. */
export function verdictOf(row: Pick<AuditRow, 'details'>): string | null {
  if (!isObject(row.details)) return null;
  const details = row.details as Record<string, unknown>;
  for (const field of ['verdict', 'decision', 'outcome', 'result']) {
    const value = details[field];
    if (typeof value === 'string') return value;
  }
  return null;
}

/**
 * Rows newest first, in batches: all of them, or only the given candidates (descending). The next
 * batch is requested before the current one is handed out, so IndexedDB reads while we match.
 */
async function* scanNewestFirst(
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
async function readSeqs(db: NightCoreDatabase, seqs: number[]): Promise<AuditRow[]> {
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
async function readAll(
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

function activeFilters(filters: AuditFilters): Partial<AuditFilters> {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v.trim() !== ''));
}

/** Saves text as a file through a temporary object URL: no network involved. */
function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON text of stored data, for search and display. A row edited by hand may hold what JSON cannot
 * (a BigInt, a cycle is impossible in IndexedDB but a BigInt is not): show it, do not throw.
 */
export function jsonText(value: unknown, indent?: number): string {
  try {
    return (
      JSON.stringify(
        value,
        (_key, inner: unknown) => (typeof inner === 'bigint' ? `${inner}n` : inner),
        indent
      ) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

/** An epoch-milliseconds time as ISO 8601, or null when it is not a valid date. */
export function isoTime(time: unknown): string | null {
  if (typeof time !== 'number') return null;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ------------------------------------------------------------------ row text (pure)

/** A short subject for a row: module, key and run ids, shortened. */
export function subjectText(row: Pick<AuditRow, 'subject'>): string {
  // Stored rows are shown even when edited by hand: never trust their shape here.
  const subject = (isObject(row.subject) ? row.subject : {}) as Record<string, unknown>;
  const short = (value: unknown, length: number) =>
    typeof value === 'string' && value !== '' ? value.slice(0, length) : null;
  const parts: string[] = [];
  const module = short(subject.moduleSha256, 12);
  if (module) parts.push(`module ${module}`);
  const keyIds = Array.isArray(subject.keyIds) ? subject.keyIds : [];
  const key = short(keyIds[0], 12);
  if (key) parts.push(`key ${key}${keyIds.length > 1 ? ` +${keyIds.length - 1}` : ''}`);
  const run = short(subject.runId, 16);
  const request = short(subject.requestId, 16);
  if (run) parts.push(`run ${run}`);
  else if (request) parts.push(`request ${request}`);
  return parts.join(' · ');
}

/** A one-line summary of a record's details: its first few simple fields. */
export function summaryText(row: Pick<AuditRow, 'details'>, limit = 120): string {
  if (!isObject(row.details)) return '';
  const details = row.details as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(details)) {
    if (value === null || typeof value === 'object') continue;
    parts.push(`${key}: ${String(value)}`);
    if (parts.join(', ').length > limit) break;
  }
  const text = parts.join(', ');
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

// ------------------------------------------------------------------ inclusion paths from ranges

/**
 * How to get one hash of an audit path from stored rows without reading every record. Each row
 * stores the compact range of the tree it completes (the roots of its perfect subtrees, biggest
 * first), so:
 * - `leaf`: the leaf hash of that record;
 * - `lastRoot`: the last root stored with that record, which is the perfect subtree ending at it
 *   when that subtree is a left child (it starts at an even multiple of its size);
 * - `node`: a perfect subtree that is a right child, as the node of its two halves;
 * - `tail`: the tree's ragged right edge, from `from` to that record, folded from its roots.
 * A path found this way is checked with verifyInclusion against the (signed) root like any other:
 * a damaged range can only make it fail, never make a record verify that is not in the tree.
 * (Pure: a candidate for core/audit/merkle.ts.)
 */
export type PathHash =
  | { leaf: number }
  | { lastRoot: number }
  | { node: [PathHash, PathHash] }
  | { tail: number; from: number };

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

/** PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, bottom-up, as stored-row lookups. */
export function pathPlan(index: number, size: number): PathHash[] {
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
export function evaluatePath(
  hash: PathHash,
  rows: ReadonlyMap<number, Pick<AuditRow, 'hash' | 'range'>>
): Uint8Array {
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
