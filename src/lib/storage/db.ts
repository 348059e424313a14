/**
 * The one IndexedDB database of Night Core: its schema as a type and its upgrade ladder.
 *
 * Rules (see docs/architecture.md):
 * - Every schema change bumps DB_VERSION and adds one `if (oldVersion < N)` rung; rungs never change
 *   once shipped, so a profile from any earlier version climbs to the current one step by step.
 * - Compute hashes and other async work *before* opening a transaction: awaiting anything that is
 *   not a request of the same transaction lets IndexedDB auto-commit it (idb README, "Transaction
 *   lifetime").
 * - Only the main thread opens the database; module workers never see it.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type {
  AuditRow,
  CheckpointRow,
  KeyRow,
  MetaRow,
  ModuleRow,
  PolicyRow,
  RequestRow,
  RunOutput,
  RunRow
} from './records';

/** The meta row holding the browser's last audited answer to persist() (state/storage-status). */
export const PERSISTENCE_ANSWER = 'persistence-answer';

export const DB_NAME = 'nightcore';
export const DB_VERSION = 3;

export interface NightCoreDB extends DBSchema {
  /** Pinned public keys, by canonical key id (lowercase hex SHA-256 of the raw 32-byte key). */
  keys: { key: string; value: KeyRow; indexes: { byTrust: string } };
  /** Policy documents; every change is a new version, none is rewritten. */
  policies: { key: number; value: PolicyRow };
  /** Run requests: one per intake, carrying its verdict and the human decision. */
  requests: {
    key: string;
    value: RequestRow;
    indexes: { byState: string; byCreated: number; byModule: string };
  };
  /** Module bytes by their SHA-256: the bytes that were verified are the bytes that run. */
  modules: { key: string; value: ModuleRow };
  /** Runs and their outcomes, without their output (v3): cheap to list by the thousand. */
  runs: { key: string; value: RunRow; indexes: { byRequest: string; byStarted: number } };
  /** Each run's output (stdout, stderr, scratch files) by run id (v3), read one card at a time. */
  runOutputs: { key: string; value: RunOutput };
  /** The append-only, hash-chained audit log, by sequence number. */
  audit: {
    key: number;
    value: AuditRow;
    indexes: { byEvent: string; byTime: number; byModule: string; byKey: string; byRun: string };
  };
  /** Signed checkpoints of the audit log, by tree size (v2). */
  checkpoints: { key: number; value: CheckpointRow };
  /** Small named values: settings, the device key, the last exported checkpoint. */
  meta: { key: string; value: MetaRow };
}

export type NightCoreDatabase = IDBPDatabase<NightCoreDB>;

export const STORE_NAMES = [
  'keys',
  'policies',
  'requests',
  'modules',
  'runs',
  'runOutputs',
  'audit',
  'checkpoints',
  'meta'
] as const satisfies readonly (keyof NightCoreDB & string)[];
export type StoreName = (typeof STORE_NAMES)[number];

/** Opens (creating or upgrading) the database in the global `indexedDB` (fake-indexeddb in Node tests). */
export function openNightCoreDB(
  options: {
    name?: string;
    version?: number;
    onBlocked?: () => void;
    /** Another tab wants a newer schema: the callee closes `db` when it safely can. */
    onBlocking?: (db: NightCoreDatabase) => void;
  } = {}
): Promise<NightCoreDatabase> {
  const { name = DB_NAME, version = DB_VERSION, onBlocked, onBlocking } = options;
  let opened: NightCoreDatabase | undefined;
  return openDB<NightCoreDB>(name, version, {
    upgrade(db, oldVersion, newVersion, tx) {
      // Rungs up to the version asked for (tests open older versions to test the climb).
      const target = newVersion ?? version;
      if (oldVersion < 1 && target >= 1) {
        const keys = db.createObjectStore('keys', { keyPath: 'id' });
        keys.createIndex('byTrust', 'trust');
        db.createObjectStore('policies', { keyPath: 'version' });
        const requests = db.createObjectStore('requests', { keyPath: 'id' });
        requests.createIndex('byState', 'state');
        requests.createIndex('byCreated', 'createdAt');
        requests.createIndex('byModule', 'moduleSha256');
        db.createObjectStore('modules', { keyPath: 'sha256' });
        const runs = db.createObjectStore('runs', { keyPath: 'id' });
        runs.createIndex('byRequest', 'requestId');
        runs.createIndex('byStarted', 'startedAt');
        const audit = db.createObjectStore('audit', { keyPath: 'seq' });
        audit.createIndex('byEvent', 'event');
        audit.createIndex('byTime', 'time');
        db.createObjectStore('meta', { keyPath: 'name' });
      }
      if (oldVersion < 2 && target >= 2) {
        // Audit records carry their subject: index it for the Audit page's filters and for
        // finding runs that started without an outcome.
        const audit = tx.objectStore('audit');
        audit.createIndex('byModule', 'subject.moduleSha256');
        audit.createIndex('byKey', 'subject.keyIds', { multiEntry: true });
        audit.createIndex('byRun', 'subject.runId');
        db.createObjectStore('checkpoints', { keyPath: 'size' });
      }
      if (oldVersion < 3 && target >= 3) {
        // Output leaves the run rows: listing runs read every byte every run printed (2,000 runs
        // of 256 KiB: 500 MB per Overview refresh). This rung only creates the store. Moving the
        // output here would hold old and new rows at once until commit (twice the output's size):
        // a profile near its quota would fail the upgrade on every load, and nothing would work.
        // run-output-migration moves it afterwards in small transactions; reads accept both shapes.
        db.createObjectStore('runOutputs', { keyPath: 'id' });
      }
      // Next schema change: `if (oldVersion < 4 && target >= 4) { ... }` here, never edit the rungs above.
    },
    blocked() {
      onBlocked?.();
    },
    blocking() {
      // Another tab wants a newer schema: let it upgrade instead of holding it up forever.
      if (opened) onBlocking?.(opened);
    }
  }).then((db) => (opened = db));
}

/** Number of records in every store, for the Settings page and tests. */
export async function countRecords(db: NightCoreDatabase): Promise<Record<StoreName, number>> {
  const tx = db.transaction(STORE_NAMES, 'readonly');
  const counts = await Promise.all(STORE_NAMES.map((store) => tx.objectStore(store).count()));
  await tx.done;
  return Object.fromEntries(STORE_NAMES.map((store, i) => [store, counts[i] ?? 0])) as Record<
    StoreName,
    number
  >;
}
