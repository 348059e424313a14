import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DB_VERSION, STORE_NAMES, countRecords, openNightCoreDB } from '../../src/lib/storage/db';

let counter = 0;
const freshName = () => `nightcore-test-${++counter}`;

describe('storage/db', () => {
  it('creates every store and index of the current schema', async () => {
    const db = await openNightCoreDB({ name: freshName() });
    expect(db.version).toBe(DB_VERSION);
    expect([...db.objectStoreNames].sort()).toEqual([...STORE_NAMES].sort());
    const tx = db.transaction(STORE_NAMES, 'readonly');
    expect(tx.objectStore('keys').keyPath).toBe('id');
    expect(tx.objectStore('modules').keyPath).toBe('sha256');
    expect(tx.objectStore('audit').keyPath).toBe('seq');
    expect([...tx.objectStore('requests').indexNames].sort()).toEqual([
      'byCreated',
      'byModule',
      'byState'
    ]);
    expect([...tx.objectStore('runs').indexNames].sort()).toEqual(['byRequest', 'byStarted']);
    expect([...tx.objectStore('audit').indexNames].sort()).toEqual([
      'byEvent',
      'byKey',
      'byModule',
      'byRun',
      'byTime'
    ]);
    expect(tx.objectStore('checkpoints').keyPath).toBe('size');
    db.close();
  });

  it('stores module bytes by sha256 and counts records per store', async () => {
    const db = await openNightCoreDB({ name: freshName() });
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    await db.put('modules', { sha256: 'ab'.repeat(32), size: bytes.length, bytes, addedAt: 1 });
    const counts = await countRecords(db);
    expect(counts).toEqual({
      keys: 0,
      policies: 0,
      requests: 0,
      modules: 1,
      runs: 0,
      audit: 0,
      checkpoints: 0,
      meta: 0
    });
    const row = await db.get('modules', 'ab'.repeat(32));
    expect(row?.bytes).toEqual(bytes);
    db.close();
  });

  it('keeps data across reopening at the same version (the ladder does not rerun)', async () => {
    const name = freshName();
    const first = await openNightCoreDB({ name });
    await first.put('meta', { name: 'theme', value: 'dark' });
    first.close();
    const second = await openNightCoreDB({ name });
    expect(await second.get('meta', 'theme')).toEqual({ name: 'theme', value: 'dark' });
    second.close();
  });

  it('climbs the ladder from a saved v1 database, keeping its data', async () => {
    const name = freshName();
    const v1 = await openNightCoreDB({ name, version: 1 });
    await v1.put('meta', { name: 'kept', value: 42 });
    expect(v1.objectStoreNames.contains('checkpoints')).toBe(false);
    v1.close();
    const current = await openNightCoreDB({ name });
    expect(current.version).toBe(DB_VERSION);
    expect(await current.get('meta', 'kept')).toEqual({ name: 'kept', value: 42 });
    expect(current.objectStoreNames.contains('checkpoints')).toBe(true);
    expect([...current.transaction('audit').store.indexNames]).toContain('byRun');
    current.close();
  });

  it('refuses to open a database from a newer version instead of corrupting it', async () => {
    const name = freshName();
    const newer = await openNightCoreDB({ name, version: DB_VERSION + 1 });
    newer.close();
    await expect(openNightCoreDB({ name })).rejects.toThrow(/version/i);
  });
});

describe('moduleBytes', () => {
  it('reads a module stored as a Blob (the app) or as a Uint8Array (older rows)', async () => {
    const { moduleBytes } = await import('../../src/lib/storage/requests-store');
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const row = { sha256: 'ab'.repeat(32), size: 8, addedAt: 1 };
    expect(await moduleBytes({ ...row, bytes })).toEqual(bytes);
    expect(await moduleBytes({ ...row, bytes: new Blob([bytes]) })).toEqual(bytes);
  });
});
