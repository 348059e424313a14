/**
 * Fresh fake-indexeddb databases with an audit store signed by a test device key, closed after
 * each test: what the atomic-write tests (a change and its audit record in one transaction) share.
 * The caller imports 'fake-indexeddb/auto' first.
 */
import { afterEach } from 'vitest';
import { publicKeyFromSecret, sign } from '../../../src/lib/core/ed25519';
import { AuditStore } from '../../../src/lib/storage/audit-store';
import { openNightCoreDB, type NightCoreDatabase } from '../../../src/lib/storage/db';
import type { DeviceKey } from '../../../src/lib/storage/device-key';

/** A device key from a fixed seed (every byte `seedByte`). */
export function testDevice(seedByte: number): DeviceKey {
  const seed = new Uint8Array(32).fill(seedByte);
  return {
    name: 'nightcore-device-test',
    publicKey: publicKeyFromSecret(seed),
    id: 'ab'.repeat(32),
    createdAt: 0,
    sign: async (message) => sign(message, seed)
  };
}

/** Returns `fresh()`: a new database named `prefix-N` and its audit store, closed after the test. */
export function auditDatabases(
  prefix: string,
  device: DeviceKey
): () => Promise<{ db: NightCoreDatabase; store: AuditStore }> {
  let counter = 0;
  const open: { db: NightCoreDatabase; store: AuditStore }[] = [];
  afterEach(() => {
    for (const { db, store } of open.splice(0)) {
      store.close();
      db.close();
    }
  });
  return async () => {
    const db = await openNightCoreDB({ name: `${prefix}-${++counter}` });
    const store = new AuditStore(db, device);
    open.push({ db, store });
    return { db, store };
  };
}
