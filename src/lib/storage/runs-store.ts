/** Runs in IndexedDB: one row per run, written when it starts and again when it ends. */
import type { AuditRecordInput } from '$lib/core/audit/record';
import type { AuditStore } from './audit-store';
import type { NightCoreDatabase } from './db';
import type { RequestRow, RunRow } from './records';
import { StorageFullError, storageWrite } from './storage-errors';

/** Over quota: StorageFullError, and the run's row stays as it was before this write. */
export async function putRun(db: NightCoreDatabase, run: RunRow): Promise<void> {
  await storageWrite(`the record of run ${run.id.slice(0, 8)} (${run.status})`, () =>
    db.put('runs', run)
  );
}

/** How a run's outcome was written: whole, or (storage full) without its output and files. */
export type RunEndWrite = 'whole' | 'without-output';

/**
 * Writes a run's outcome: its row, its request moved from `running` to `done`, and `record` (its
 * `run.finished` / `run.killed` audit record) in ONE transaction. A page that dies in the middle
 * leaves all three or none: never a log saying the run finished beside a row saying it is running
 * (the next load then records the run as interrupted, which is what happened).
 * When storage is full, the output (up to a MiB or more, with files) is what does not fit; the
 * outcome must be on record anyway, so it is written again without the output, saying so in the
 * row's message and in the record (`outputKept: false`). Throws when even that does not fit.
 */
export async function recordRunEnd(
  audit: AuditStore,
  run: RunRow,
  record: AuditRecordInput
): Promise<RunEndWrite> {
  try {
    await writeRunEnd(audit, run, record);
    return 'whole';
  } catch (error) {
    const hasOutput = Boolean(run.stdout?.length || run.stderr?.length || run.files?.length);
    if (!(error instanceof StorageFullError) || !hasOutput) throw error;
    const note = 'Its output was not kept: storage was full.';
    const bare: RunRow = { ...run, message: run.message ? `${run.message} ${note}` : note };
    delete bare.stdout;
    delete bare.stderr;
    delete bare.files;
    await writeRunEnd(audit, bare, {
      ...record,
      details: { ...record.details, outputKept: false }
    });
    return 'without-output';
  }
}

async function writeRunEnd(audit: AuditStore, run: RunRow, record: AuditRecordInput) {
  await audit.appendWith(
    ['runs', 'requests'],
    async (tx) => {
      await tx.objectStore('runs').put(run);
      const requests = tx.objectStore('requests');
      const request = await requests.get(run.requestId);
      if (request?.state === 'running') await requests.put({ ...request, state: 'done' });
      return record;
    },
    `the outcome of run ${run.id.slice(0, 8)} (${run.status}) and its audit record`
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
