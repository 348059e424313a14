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
 * the others (verdict, free text) scan rows in batches, newest first, publishing matches as they
 * are found. Changing a filter cancels a running query; another tab's append lets it finish and
 * then runs it again. Queries: storage/audit-query.ts; matcher and row texts:
 * core/audit/present.ts; the proof: audit-proof.ts; export: audit-export.ts.
 */
import { untrack } from 'svelte';
import { NO_FILTERS, matcher, type AuditFilters } from '$lib/core/audit/present';
import { AUDIT_EVENTS, type AuditEvent } from '$lib/core/audit/record';
import {
  allSeqs,
  countRows,
  indexedCandidates,
  lastKey,
  newestRows,
  pause,
  readSeqs,
  scanNewestFirst
} from '$lib/storage/audit-query';
import type { NightCoreDatabase } from '$lib/storage/db';
import type { AuditRow } from '$lib/storage/records';
import { cancelExport, runExport, type ExportProgress, type ExportScope } from './audit-export';
import { TreeCache, proveRecord, type ProofState } from './audit-proof';
import { auditLog } from './audit-log.svelte';
import { database } from './database';

// The row texts the timeline and detail view show (pure: core/audit/present.ts).
export { isoTime, jsonText, subjectText, summaryText } from '$lib/core/audit/present';
export type { AuditFilters, AuditRow, ExportScope, ProofState };

/** Newest rows read with the head, before anything else: the first screenful and then some. */
const FIRST_PAGE = 40;
/** Rows kept in the page cache around the visible window, at most. */
const CACHE_LIMIT = 3000;

type Generation = { readonly id: number };

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
  exportProgress = $state.raw<ExportProgress | null>(null);

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
  #trees = new TreeCache();
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
          const keys = await allSeqs(db);
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
    return auditLog.revision > 0 ? auditLog.count : countRows(db);
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

  /** Opens a record: shows it and computes its inclusion proof (see audit-proof.ts). */
  async open(seq: number): Promise<void> {
    const token: Generation = { id: this.#openToken.id + 1 };
    this.#openToken = token;
    const live = () => this.#openToken === token;
    this.openedSeq = seq;
    this.opened = this.row(seq) ?? null;
    this.proof = { state: 'computing', seq, done: 0, size: 0 };
    try {
      const proof = await proveRecord(await database(), seq, {
        live,
        shown: (row) => (this.opened = row),
        progress: (done, size) => (this.proof = { state: 'computing', seq, done, size }),
        trees: this.#trees
      });
      if (proof && live()) this.proof = proof;
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

  // ---------------------------------------------------------------- export

  /** Exports the whole log or the current filtered selection (see audit-export.ts). */
  export(scope: ExportScope): Promise<void> {
    return runExport(this, scope, (size) => this.#allMatches(size));
  }

  cancelExport(): void {
    cancelExport(this);
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

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
