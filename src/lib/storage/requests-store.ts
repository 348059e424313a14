/**
 * Run requests and the module bytes they carry, written together (with the audit record that
 * says so) so that none exists alone.
 */
import type { NightCoreDatabase } from './db';
import type { AuditRecordInput } from '$lib/core/audit/record';
import { reason } from '$lib/core/verdict';
import type { AuditStore } from './audit-store';
import type { ModuleRow, RequestRow } from './records';

/**
 * Stores a request, its module (when it has one) and `record` (its verdict's audit record) in ONE
 * transaction: a page that dies during an intake leaves all three or none, never a request without
 * its bytes or its verdict on record.
 */
export async function saveRequest(
  audit: AuditStore,
  request: RequestRow,
  module: ModuleRow | null,
  record: AuditRecordInput
): Promise<void> {
  await audit.appendWith(
    ['requests', 'modules'],
    async (tx) => {
      const writes: Promise<unknown>[] = [tx.objectStore('requests').add(request)];
      // Bytes are keyed by their SHA-256: the same module arriving twice is stored once.
      if (module) writes.push(tx.objectStore('modules').put(module));
      await Promise.all(writes);
      return record;
    },
    `the request for ${request.fileName}${module ? ` (${module.size} bytes of module)` : ''}`
  );
}

/** Newest first. */
export async function listRequests(db: NightCoreDatabase): Promise<RequestRow[]> {
  const rows = await db.getAllFromIndex('requests', 'byCreated');
  return rows.reverse().map(readRequest);
}

/** The code of the verdict a stored row without one is read with. */
export const NO_VERDICT = 'input.stored-without-verdict';

/**
 * A stored request in today's shape. A row that has no verdict (schema v1 declared only id, state,
 * createdAt, channel and the digests; or a row edited by hand) is read with a rejected verdict that
 * says so: it shows, cannot be approved or run, and crashes nothing.
 */
export function readRequest(row: RequestRow): RequestRow {
  if (row.verdict && typeof row.fileName === 'string') return row;
  return {
    ...row,
    fileName: row.fileName ?? '(name not stored)',
    name: row.name ?? null,
    version: row.version ?? null,
    format: row.format ?? 'unknown',
    size: row.size ?? null,
    verdict: row.verdict ?? {
      ok: false,
      kind: 'rejected',
      reasons: [
        reason(
          NO_VERDICT,
          'Stored without its verdict (by an older version, or edited by hand): it cannot be approved or run. Take the bundle in again.'
        )
      ],
      notes: [],
      signers: []
    }
  };
}

/**
 * Replaces a request's state and decision and appends `record` (the decision's audit record) in
 * ONE transaction: a page that dies in the middle leaves both or neither, never an approval nobody
 * recorded nor a recorded decision that did not happen. Null, and nothing written, when the request
 * no longer exists or was decided (another tab won).
 */
export async function recordDecision(
  audit: AuditStore,
  id: string,
  state: RequestRow['state'],
  decision: NonNullable<RequestRow['decision']>,
  record: AuditRecordInput
): Promise<RequestRow | null> {
  let next: RequestRow | null = null;
  const row = await audit.appendWith(
    ['requests'],
    async (tx) => {
      const requests = tx.objectStore('requests');
      const stored = await requests.get(id);
      // A request is decided once: a second tab deciding the same request loses, visibly. And a
      // decision binds the digests of the request as stored, never another module's.
      if (
        !stored ||
        stored.state !== 'pending' ||
        stored.moduleSha256 !== decision.moduleSha256 ||
        stored.manifestSha256 !== decision.manifestSha256
      ) {
        return null;
      }
      next = { ...stored, state, decision };
      await requests.put(next);
      return record;
    },
    'the decision and its audit record'
  );
  return row ? next : null;
}

export async function getRequest(db: NightCoreDatabase, id: string): Promise<RequestRow | null> {
  const row = await db.get('requests', id);
  return row ? readRequest(row) : null;
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
