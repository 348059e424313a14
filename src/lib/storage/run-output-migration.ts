/**
 * Moves run output that is still inline in `runs` rows (written before schema v3) into
 * `runOutputs`, after the database has opened, in small ordinary transactions.
 *
 * Why not in the upgrade: the versionchange transaction keeps the old rows until it commits, so
 * moving everything there needs up to twice the output's size at once. A profile near its quota
 * then fails the upgrade, and every later load retries and fails the same way: nothing works, not
 * even backup export. Here a batch that does not fit just stops the migration; the app works on
 * both shapes (runs-store reads inline output until it is moved) and a later load tries again.
 */
import type { NightCoreDatabase } from './db';
import { withLock } from './locks';
import { splitRun } from './runs-store';
import { isQuotaError } from './storage-errors';

/** The meta row saying every run has been moved; later loads skip the scan. */
export const RUN_OUTPUT_MIGRATION = 'run-output-migration';
/** One tab at a time: two tabs moving the same rows would only double the work. */
export const RUN_OUTPUT_MIGRATION_LOCK = 'nightcore-run-output-migration';

/** Small enough that a batch of large outputs stays well inside what a near-full disk can take. */
export const MIGRATION_BATCH = 20;

export type MigrationOutcome =
  /** Every run is in the new shape now (recorded in meta). */
  | 'done'
  /** A previous load (or another tab) had finished it. */
  | 'already-done'
  /** Storage is full: left for a later load, the rows not moved stay readable inline. */
  | 'stopped-quota'
  /** The connection closed (another tab upgrades, or the page is going away). */
  | 'stopped-closed';

export interface MigrationResult {
  outcome: MigrationOutcome;
  /** Runs moved by this call. */
  moved: number;
}

export interface MigrationOptions {
  batchSize?: number;
  /** Called after each committed batch (tests inject failures here). */
  afterBatch?: (moved: number) => void | Promise<void>;
}

/** Runs the migration under the cross-tab lock. Never throws for quota or a closed connection. */
export function migrateRunOutputs(
  db: NightCoreDatabase,
  options: MigrationOptions = {}
): Promise<MigrationResult> {
  return withLock(RUN_OUTPUT_MIGRATION_LOCK, () => migrate(db, options));
}

async function migrate(db: NightCoreDatabase, options: MigrationOptions): Promise<MigrationResult> {
  const batchSize = Math.max(1, options.batchSize ?? MIGRATION_BATCH);
  let moved = 0;
  try {
    if ((await db.get('meta', RUN_OUTPUT_MIGRATION))?.value === 'done')
      return { outcome: 'already-done', moved };
    let after: string | undefined;
    for (;;) {
      const batch = await moveBatch(db, after, batchSize);
      moved += batch.moved;
      if (batch.last === undefined) break;
      after = batch.last;
      await options.afterBatch?.(moved);
    }
    await db.put('meta', { name: RUN_OUTPUT_MIGRATION, value: 'done' });
    return { outcome: 'done', moved };
  } catch (error) {
    if (isQuotaError(error)) return { outcome: 'stopped-quota', moved };
    if (isClosedError(error)) return { outcome: 'stopped-closed', moved };
    throw error;
  }
}

/**
 * Looks at up to `size` runs after key `after` and moves the inline ones: each run's output row
 * and its rewritten row in this one transaction, so a run is never in both shapes nor in neither.
 * `last` is the last key looked at, undefined when the store has no more runs.
 */
async function moveBatch(
  db: NightCoreDatabase,
  after: string | undefined,
  size: number
): Promise<{ moved: number; last: string | undefined }> {
  const tx = db.transaction(['runs', 'runOutputs'], 'readwrite');
  // Read by the catch below; a request failing first must not leave this rejection unhandled.
  const done = tx.done;
  done.catch(() => {});
  try {
    const outputs = tx.objectStore('runOutputs');
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
    let moved = 0;
    let seen = 0;
    let last: string | undefined;
    let cursor = await tx.objectStore('runs').openCursor(range);
    while (cursor && seen < size) {
      const { row, output } = splitRun(cursor.value);
      if (output) {
        await Promise.all([outputs.put(output), cursor.update(row)]);
        moved++;
      }
      last = cursor.key;
      seen++;
      cursor = seen < size ? await cursor.continue() : null;
    }
    await done;
    return { moved, last };
  } catch (error) {
    // Requests of an aborted transaction say AbortError; the quota error is on the transaction.
    throw tx.error && isQuotaError(tx.error) ? tx.error : error;
  }
}

function isClosedError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  // Closing the connection aborts the open transaction (AbortError) or refuses new ones
  // (InvalidStateError).
  return name === 'InvalidStateError' || name === 'AbortError';
}
