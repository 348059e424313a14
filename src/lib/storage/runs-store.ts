/**
 * Runs in IndexedDB: one row per run, written when it starts and again when it ends, and (schema
 * v3) its output in `runOutputs` under the same id, written in the same transaction as the row.
 * Rows written before v3 may still carry their output inline until run-output-migration moves it;
 * every read here accepts both shapes.
 */
import type { AuditRecordInput } from '$lib/core/audit/record';
import type { AuditStore } from './audit-store';
import type { NightCoreDatabase } from './db';
import type { RequestRow, RunOutput, RunRow } from './records';
import { StorageFullError, storageWrite } from './storage-errors';

/**
 * A run as given (maybe carrying its output) as the row stored in `runs` (sizes only) and the
 * output row, null when it carries no output at all (queued, running, or output not kept).
 */
export function splitRun(run: RunRow): { row: RunRow; output: RunOutput | null } {
  const { stdout, stderr, files, ...row } = run;
  if (stdout === undefined && stderr === undefined && files === undefined)
    return { row: run, output: null };
  const output: RunOutput = {
    id: run.id,
    stdout: stdout ?? new Uint8Array(0),
    stderr: stderr ?? new Uint8Array(0),
    files: files ?? []
  };
  return {
    row: {
      ...row,
      stdoutBytes: output.stdout.length,
      stderrBytes: output.stderr.length,
      filesCount: output.files.length
    },
    output
  };
}

/** A stored row with its output put back in: the shape a backup file carries (unchanged by v3). */
export function joinRun(row: RunRow, output: RunOutput | undefined): RunRow {
  const joined: RunRow = { ...row };
  // filesCount is the store's own shortcut, not part of the backup format.
  delete joined.filesCount;
  if (!output) return joined;
  return { ...joined, stdout: output.stdout, stderr: output.stderr, files: output.files };
}

/**
 * Writes a run's row and, when it carries output, its output row, in one transaction. Over quota:
 * StorageFullError, and both stay as they were before this write.
 */
export async function putRun(db: NightCoreDatabase, run: RunRow): Promise<void> {
  const { row, output } = splitRun(run);
  const tx = db.transaction(['runs', 'runOutputs'], 'readwrite');
  await storageWrite(
    `the record of run ${run.id.slice(0, 8)} (${run.status})`,
    () =>
      Promise.all([
        tx.objectStore('runs').put(row),
        output ? tx.objectStore('runOutputs').put(output) : null,
        tx.done
      ]),
    tx
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
  const { row, output } = splitRun(run);
  await audit.appendWith(
    ['runs', 'runOutputs', 'requests'],
    async (tx) => {
      await tx.objectStore('runs').put(row);
      // Both or neither: the row says how much output there is, this row holds it. A run written
      // without output leaves no output row behind from an earlier write.
      const outputs = tx.objectStore('runOutputs');
      await (output ? outputs.put(output) : outputs.delete(row.id));
      const requests = tx.objectStore('requests');
      const request = await requests.get(run.requestId);
      if (request?.state === 'running') await requests.put({ ...request, state: 'done' });
      return record;
    },
    `the outcome of run ${run.id.slice(0, 8)} (${run.status}) and its audit record`
  );
}

/**
 * Newest first, without output: cheap for thousands of runs once every row is in the v3 shape. A
 * row written before v3 and not yet migrated (run-output-migration) still carries its output; it
 * is read here (the cost until migration finishes) but stripped, so no caller holds it.
 */
export async function listRuns(db: NightCoreDatabase): Promise<RunRow[]> {
  return (await db.getAllFromIndex('runs', 'byStarted')).reverse().map((row) => splitRun(row).row);
}

/** The output still inline in a row not yet migrated, if it has any. */
function inlineOutput(row: RunRow | undefined): RunOutput | undefined {
  return row ? (splitRun(row).output ?? undefined) : undefined;
}

/** One run's output; undefined when none was kept (or the run is unknown). */
export async function getRunOutput(
  db: NightCoreDatabase,
  id: string
): Promise<RunOutput | undefined> {
  return (await getRunOutputs(db, [id])).get(id);
}

/**
 * The outputs of `ids` in one transaction (a page of cards); missing ones are left out. The output
 * row when there is one, else the output still inline in a run row not yet migrated.
 */
export async function getRunOutputs(
  db: NightCoreDatabase,
  ids: readonly string[]
): Promise<Map<string, RunOutput>> {
  const tx = db.transaction(['runOutputs', 'runs'], 'readonly');
  const outputs = tx.objectStore('runOutputs');
  const runs = tx.objectStore('runs');
  const rows = await Promise.all(
    ids.map(async (id) => (await outputs.get(id)) ?? inlineOutput(await runs.get(id)))
  );
  await tx.done;
  const found = new Map<string, RunOutput>();
  for (const row of rows) if (row) found.set(row.id, row);
  return found;
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
