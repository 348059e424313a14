/** Runs in IndexedDB: one row per run, written when it starts and again when it ends. */
import type { NightCoreDatabase } from './db';
import type { RequestRow, RunRow } from './records';
import { storageWrite } from './storage-errors';

/** Over quota: StorageFullError, and the run's row stays as it was before this write. */
export async function putRun(db: NightCoreDatabase, run: RunRow): Promise<void> {
  await storageWrite(`the record of run ${run.id.slice(0, 8)} (${run.status})`, () =>
    db.put('runs', run)
  );
}

/** Newest first. */
export async function listRuns(db: NightCoreDatabase): Promise<RunRow[]> {
  return (await db.getAllFromIndex('runs', 'byStarted')).reverse();
}

/**
 * Moves a request from one of `from` to `to` in one transaction; null when it is not in one of
 * `from` (another tab ran it first, or it was never approved).
 */
export async function moveRequest(
  db: NightCoreDatabase,
  id: string,
  from: readonly RequestRow['state'][],
  to: RequestRow['state']
): Promise<RequestRow | null> {
  const tx = db.transaction('requests', 'readwrite');
  const row = await tx.store.get(id);
  if (!row || !from.includes(row.state)) {
    await tx.done;
    return null;
  }
  const next = { ...row, state: to };
  await storageWrite(
    `the request's new state (${to})`,
    () => Promise.all([tx.store.put(next), tx.done]),
    tx
  );
  return next;
}

/**
 * Marks a run interrupted if, read again in this transaction, it is still queued or running; false
 * when it ended meanwhile (its tab wrote the outcome) or is gone.
 */
export async function markInterrupted(
  db: NightCoreDatabase,
  id: string,
  endedAt: number
): Promise<boolean> {
  const tx = db.transaction('runs', 'readwrite');
  const row = await tx.store.get(id);
  if (!row || (row.status !== 'running' && row.status !== 'queued')) {
    await tx.done;
    return false;
  }
  await tx.store.put({
    ...row,
    status: 'interrupted',
    outcome: 'interrupted',
    endedAt: row.endedAt ?? endedAt
  });
  await tx.done;
  return true;
}
