/**
 * The audit log as the UI sees it: chain status (shown on every page), counts, the device key, and
 * the one way the rest of the app writes records. Other tabs' appends arrive over BroadcastChannel.
 */
import type { AuditRecordInput } from '$lib/core/audit/record';
import { AUDIT_CHANNEL, AuditStore, runLockName, type AuditAnchor } from '$lib/storage/audit-store';
import { deviceKey, type DeviceKey } from '$lib/storage/device-key';
import { withLock } from '$lib/storage/locks';
import type { CheckpointRow } from '$lib/storage/records';
import { isQuotaError } from '$lib/storage/storage-errors';
import { database } from './database';

export type ChainStatus = 'checking' | 'ok' | 'broken' | 'error';

const VERIFIED_ANCHOR = 'audit-verified';
const SWEEP_LOCK = 'nightcore-interrupted-sweep';

export class AuditLog {
  status = $state<ChainStatus>('checking');
  brokenSeq = $state<number | null>(null);
  problem = $state<string | null>(null);
  count = $state(0);
  /** Bumped on every append, in this tab or another: views re-read when it changes. */
  revision = $state(0);
  device = $state.raw<DeviceKey | null>(null);
  latestCheckpoint = $state.raw<CheckpointRow | null>(null);
  lastCheckedAt = $state<number | null>(null);
  #store: AuditStore | null = null;
  #starting: Promise<AuditStore> | null = null;

  /** Opens the log (once per page): device key, chain check, interrupted runs. */
  start(): Promise<AuditStore> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.status = 'error';
      this.problem = `The audit log could not be opened: ${error instanceof Error ? error.message : String(error)}`;
      this.#starting = null;
      throw error;
    });
    return this.#starting;
  }

  async #start(): Promise<AuditStore> {
    const db = await database();
    const { key, created } = await deviceKey(db);
    const store = new AuditStore(db, key);
    this.#store = store;
    this.device = key;
    if (typeof BroadcastChannel === 'function') {
      new BroadcastChannel(AUDIT_CHANNEL).addEventListener('message', () => void this.refresh());
    }
    if (created) {
      await store.append({
        time: Date.now(),
        event: 'device.key-created',
        subject: { keyIds: [key.id] },
        details: { name: key.name, algorithm: 'Ed25519', extractable: false }
      });
    }
    await this.refresh();
    await this.check({ record: false });
    await this.#recordInterruptedRuns(store);
    return store;
  }

  /**
   * Records runs that started and never ended and whose tab is gone. Called at start, and by the
   * Runs page when it finds such a run (the old page's lock may outlive this page's start by a
   * moment during a reload).
   */
  async recordInterruptedRuns(): Promise<void> {
    await this.#recordInterruptedRuns(await this.store());
    await this.refresh();
  }

  /**
   * Intent before, outcome after: a run logged `run.started` whose tab no longer holds its run
   * lock (closed, reloaded, crashed) will never log an outcome, so it is recorded as interrupted.
   */
  async #recordInterruptedRuns(store: AuditStore): Promise<void> {
    // One sweep at a time across tabs, so two tabs loading together record a run once.
    const recorded = await withLock(SWEEP_LOCK, async () => {
      const open = await store.unfinishedRuns();
      if (open.length === 0) return 0;
      // Asked after reading the log: a run writes its outcome before it lets go of its lock, so a
      // run whose lock is free now either has its outcome on record by now or lost its tab.
      const held = new Set(((await navigator.locks?.query())?.held ?? []).map((l) => l.name));
      const candidates = open.filter((runId) => !held.has(runLockName(runId)));
      if (candidates.length === 0) return 0;
      const still = new Set(await store.unfinishedRuns());
      let count = 0;
      for (const runId of candidates) {
        if (!still.has(runId)) continue; // it ended while we looked
        await store.append({
          time: Date.now(),
          event: 'run.interrupted',
          subject: { runId },
          details: {
            reason: 'The page running it was closed, reloaded or crashed before the run ended.'
          }
        });
        count++;
      }
      return count;
    });
    if (recorded > 0) await this.refresh();
  }

  async store(): Promise<AuditStore> {
    return this.#store ?? this.start();
  }

  /** Appends a record; the one write path for the whole app. */
  async record(input: Omit<AuditRecordInput, 'time'> & { time?: number }): Promise<number> {
    const store = await this.store();
    const row = await store.append({ ...input, time: input.time ?? Date.now() });
    await this.refresh();
    return row.seq;
  }

  /**
   * Verifies the chain: first from the last verified point (fast, so the status is right at once),
   * then from genesis, because a record older than that point may have been edited since.
   * `record` appends the result as an `audit.check` record (done when the user asks).
   */
  async check({ record = true } = {}): Promise<void> {
    const store = await this.store();
    this.status = 'checking';
    const db = store.db;
    const anchor = (await db.get('meta', VERIFIED_ANCHOR))?.value as AuditAnchor | undefined;
    const quick = anchor ? await store.verify(anchor) : null;
    const full = quick && !quick.ok ? quick : await store.verify(null);
    this.lastCheckedAt = Date.now();
    if (full.ok) {
      this.status = 'ok';
      this.brokenSeq = null;
      this.problem = null;
      const head = await store.head();
      if (head) {
        // Only a shortcut for the next check: on a full disk the log is still verified and open.
        await db
          .put('meta', {
            name: VERIFIED_ANCHOR,
            value: { seq: head.seq, hash: head.hash, range: head.range } satisfies AuditAnchor
          })
          .catch((error: unknown) => {
            if (!isQuotaError(error)) throw error;
          });
      }
    } else {
      this.status = 'broken';
      this.brokenSeq = full.seq;
      this.problem = full.reason.message;
    }
    if (record || !full.ok) {
      await store.append({
        time: Date.now(),
        event: 'audit.check',
        subject: {},
        details: full.ok
          ? { result: 'intact', records: full.count }
          : { result: 'broken', seq: full.seq, code: full.reason.code, reason: full.reason.message }
      });
      await this.refresh();
    }
  }

  async makeCheckpoint(): Promise<CheckpointRow | null> {
    const store = await this.store();
    const checkpoint = await store.checkpoint();
    if (checkpoint) {
      // Recorded after signing: the checkpoint covers the records before this one.
      await store.append({
        time: Date.now(),
        event: 'audit.checkpoint',
        subject: {},
        details: { size: checkpoint.size, root: checkpoint.rootHash }
      });
    }
    await this.refresh();
    return checkpoint;
  }

  async refresh(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    this.count = await store.count();
    this.latestCheckpoint = await store.latestCheckpoint();
    this.revision += 1;
  }
}

export const auditLog = new AuditLog();

export type { DeviceKey };
