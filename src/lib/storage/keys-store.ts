/**
 * Pinned public keys in IndexedDB, by canonical key id. Every change is written in ONE transaction
 * with its audit record (AuditStore.appendWith): a crash or a full disk leaves both or neither,
 * never a key raised to `auto` with nothing on record.
 */
import type { AuditRecordInput } from '$lib/core/audit/record';
import type { AuditStore } from './audit-store';
import type { NightCoreDatabase } from './db';
import type { KeyRow } from './records';

export type KeyChange = Partial<Pick<KeyRow, 'label' | 'trust' | 'scope' | 'capabilities'>>;

/** What a change did: written with its record, nothing to change, or the key is gone. */
export type KeyWrite = 'saved' | 'unchanged' | 'missing';

export async function listKeys(db: NightCoreDatabase): Promise<KeyRow[]> {
  const rows = await db.getAll('keys');
  return rows.sort((a, b) => b.addedAt - a.addedAt);
}

/**
 * Pins `row` and appends `record` together; false when a key with the same canonical id is
 * already pinned (nothing is written).
 */
export async function addKey(
  audit: AuditStore,
  row: KeyRow,
  record: AuditRecordInput
): Promise<boolean> {
  const written = await audit.appendWith(
    ['keys'],
    async (tx) => {
      const keys = tx.objectStore('keys');
      if (await keys.get(row.id)) return null;
      await keys.add(row);
      return record;
    },
    `the key ${row.label}`
  );
  return written !== null;
}

/**
 * Applies the change `plan` makes of the key as stored now, and appends its record, together.
 * `plan` returns null when there is nothing to change (nothing is written). Reading the key in
 * the same transaction means the record's "from" is what was really replaced.
 */
export async function updateKey(
  audit: AuditStore,
  id: string,
  plan: (before: KeyRow) => { change: KeyChange; record: AuditRecordInput } | null
): Promise<KeyWrite> {
  let result: KeyWrite = 'missing';
  await audit.appendWith(
    ['keys'],
    async (tx) => {
      const keys = tx.objectStore('keys');
      const before = await keys.get(id);
      if (!before) return null;
      const planned = plan(before);
      result = planned === null ? 'unchanged' : 'saved';
      if (planned === null) return null;
      await keys.put({ ...before, ...planned.change });
      return planned.record;
    },
    'the key change'
  );
  return result;
}

/** Forgets key `id` and appends `record(before)` together; false when it was not pinned. */
export async function deleteKey(
  audit: AuditStore,
  id: string,
  record: (before: KeyRow) => AuditRecordInput
): Promise<boolean> {
  const written = await audit.appendWith(
    ['keys'],
    async (tx) => {
      const keys = tx.objectStore('keys');
      const before = await keys.get(id);
      if (!before) return null;
      await keys.delete(id);
      return record(before);
    },
    'the key removal'
  );
  return written !== null;
}
