/** Run requests and the module bytes they carry, written together so neither exists alone. */
import type { NightCoreDatabase } from './db';
import type { ModuleRow, RequestRow } from './records';
import { storageWrite } from './storage-errors';

/**
 * Stores a request and (when it has one) its module, in one transaction: over quota, neither is
 * written (StorageFullError).
 */
export async function saveRequest(
  db: NightCoreDatabase,
  request: RequestRow,
  module: ModuleRow | null
): Promise<void> {
  const tx = db.transaction(['requests', 'modules'], 'readwrite');
  const writes: Promise<unknown>[] = [tx.objectStore('requests').add(request)];
  // Bytes are keyed by their SHA-256: the same module arriving twice is stored once.
  if (module) writes.push(tx.objectStore('modules').put(module));
  await storageWrite(
    `the request for ${request.fileName}${module ? ` (${module.size} bytes of module)` : ''}`,
    () => Promise.all([...writes, tx.done]),
    tx
  );
}

/** Newest first. */
export async function listRequests(db: NightCoreDatabase): Promise<RequestRow[]> {
  const rows = await db.getAllFromIndex('requests', 'byCreated');
  return rows.reverse();
}

/** Replaces a request's state and decision; null when it no longer exists or was decided. */
export async function recordDecision(
  db: NightCoreDatabase,
  id: string,
  state: RequestRow['state'],
  decision: NonNullable<RequestRow['decision']>
): Promise<RequestRow | null> {
  const tx = db.transaction('requests', 'readwrite');
  const row = await tx.store.get(id);
  // A request is decided once: a second tab deciding the same request loses, visibly. And a
  // decision binds the digests of the request as stored, never another module's.
  if (
    !row ||
    row.state !== 'pending' ||
    row.moduleSha256 !== decision.moduleSha256 ||
    row.manifestSha256 !== decision.manifestSha256
  ) {
    await tx.done;
    return null;
  }
  const next = { ...row, state, decision };
  await storageWrite('the decision', () => Promise.all([tx.store.put(next), tx.done]), tx);
  return next;
}

export async function getRequest(db: NightCoreDatabase, id: string): Promise<RequestRow | null> {
  return (await db.get('requests', id)) ?? null;
}

/** The bytes of a stored module, whichever way they were stored. */
export async function moduleBytes(row: ModuleRow): Promise<Uint8Array> {
  return row.bytes instanceof Uint8Array
    ? row.bytes
    : new Uint8Array(await row.bytes.arrayBuffer());
}

/** A module's stored bytes by SHA-256, or null. Callers that run or trust them re-hash first. */
export async function getModule(db: NightCoreDatabase, sha256: string): Promise<ModuleRow | null> {
  return (await db.get('modules', sha256)) ?? null;
}

/** How many requests wait for a human decision (the navigation badge). */
export async function countPending(db: NightCoreDatabase): Promise<number> {
  return db.countFromIndex('requests', 'byState', 'pending');
}
