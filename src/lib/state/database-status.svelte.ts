/**
 * What the page's one database connection is waiting for, for the banner (ui/DatabaseBanner):
 * - `blocked`: this page needs a newer schema and another tab, on an older version, still holds
 *   the database open. The open waits (IndexedDB's rule) until that tab lets go or closes.
 * - `closed`: another tab needs a newer schema, so this page let go of the database (after its
 *   runs ended) and must be reloaded to go on; every later read or write says so.
 */
export class DatabaseStatus {
  blocked = $state(false);
  closed = $state(false);
  /** Set by the Runs state: true while a run here still has an outcome to write. */
  busy: () => boolean = () => false;
}

export const databaseStatus = new DatabaseStatus();

export const CLOSED_FOR_UPGRADE =
  'Night Core was updated in another tab, which needs the database: reload this tab to go on. Nothing stored is lost.';
