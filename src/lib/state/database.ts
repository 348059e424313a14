import { openNightCoreDB, type NightCoreDatabase } from '$lib/storage/db';
import { CLOSED_FOR_UPGRADE, databaseStatus } from './database-status.svelte';

let opening: Promise<NightCoreDatabase> | undefined;

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
