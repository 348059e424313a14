import { openNightCoreDB, type NightCoreDatabase } from '$lib/storage/db';
import { migrateRunOutputs } from '$lib/storage/run-output-migration';
import { CLOSED_FOR_UPGRADE, databaseStatus } from './database-status.svelte';

let opening: Promise<NightCoreDatabase> | undefined;
/** The run-output migration starts once per page load, on the first connection that opens. */
let migrationStarted = false;

/** How often a busy page looks again whether it can let a newer tab upgrade. */
const RELEASE_POLL_MS = 500;

/** The page's one connection to the database, opened on first use. */
export function database(): Promise<NightCoreDatabase> {
  opening ??= openNightCoreDB({
    onBlocked: () => (databaseStatus.blocked = true),
    onBlocking: (db) => release(db)
  }).then(
    (db) => {
      databaseStatus.blocked = false;
      startMigration(db);
      return db;
    },
    (error: unknown) => {
      databaseStatus.blocked = false;
      opening = undefined; // let a later call retry (e.g. after the user frees space)
      throw error;
    }
  );
  return opening;
}

/**
 * Moves output still inline in pre-v3 run rows, in the background: in a later task, so the page's
 * first reads are not queued behind it. It stops by itself when storage is full or the connection
 * closes (release below), and a later load goes on where it stopped.
 */
function startMigration(db: NightCoreDatabase): void {
  if (migrationStarted) return;
  migrationStarted = true;
  setTimeout(() => {
    migrateRunOutputs(db).catch((error: unknown) => {
      // Reads work on both shapes, so nothing depends on it finishing: report, do not break.
      console.warn('Night Core: moving old run output failed; a later load tries again.', error);
    });
  }, 0);
}

/**
 * Another tab needs a newer schema. Holding the connection would keep that tab waiting forever,
 * so it is closed, but only once no run here still has its outcome to write (closing under a run
 * would lose the outcome). From then on this page needs a reload: reopening would find a schema
 * newer than its code.
 */
function release(db: NightCoreDatabase): void {
  const close = () => {
    opening = Promise.reject(new Error(CLOSED_FOR_UPGRADE));
    opening.catch(() => {}); // read by the next caller; not an unhandled rejection meanwhile
    db.close();
    databaseStatus.closed = true;
  };
  if (!databaseStatus.busy()) return close();
  const timer = setInterval(() => {
    if (databaseStatus.busy()) return;
    clearInterval(timer);
    close();
  }, RELEASE_POLL_MS);
}
