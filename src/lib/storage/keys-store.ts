/** Pinned public keys in IndexedDB, by canonical key id. */
import type { NightCoreDatabase } from './db';
import type { KeyRow, KeyTrust } from './records';

export async function listKeys(db: NightCoreDatabase): Promise<KeyRow[]> {
  const rows = await db.getAll('keys');
  return rows.sort((a, b) => b.addedAt - a.addedAt);
}

/** Adds a key; false when a key with the same canonical id is already pinned (nothing changes). */
export async function addKey(db: NightCoreDatabase, row: KeyRow): Promise<boolean> {
  const tx = db.transaction('keys', 'readwrite');
  if (await tx.store.get(row.id)) {
    await tx.done;
    return false;
  }
  await tx.store.add(row);
  await tx.done;
  return true;
}

export async function updateKey(
  db: NightCoreDatabase,
  id: string,
  change: Partial<Pick<KeyRow, 'label' | 'trust' | 'scope' | 'capabilities'>>
): Promise<KeyRow | null> {
  const tx = db.transaction('keys', 'readwrite');
  const row = await tx.store.get(id);
  if (!row) {
    await tx.done;
    return null;
  }
  const next = { ...row, ...change };
  await tx.store.put(next);
  await tx.done;
  return next;
}

export async function deleteKey(db: NightCoreDatabase, id: string): Promise<void> {
  await db.delete('keys', id);
}
