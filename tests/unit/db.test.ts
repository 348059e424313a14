import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DB_VERSION, STORE_NAMES, countRecords, openNightCoreDB } from '../../src/lib/storage/db';
import { migrateRunOutputs } from '../../src/lib/storage/run-output-migration';

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
      runOutputs: 0,
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

  it('v2 -> v3 only creates runOutputs; the migration then moves each output, keeping every other field', async () => {
    const name = freshName();
    const v2 = await openNightCoreDB({ name, version: 2 });
    expect(v2.objectStoreNames.contains('runOutputs')).toBe(false);
    const base = { moduleSha256: 'ab'.repeat(32), outcome: 'exited', exitCode: 0 };
    const printed = {
      ...base,
      id: 'printed',
      requestId: 'req-1',
      startedAt: 1,
      endedAt: 2,
      status: 'exited' as const,
      receipt: '{"r":1}',
      limits: { timeoutMs: 5000 },
      stdout: new TextEncoder().encode('hello\n'),
      stderr: Uint8Array.of(1, 2, 3),
      files: [{ path: 'out/a.bin', bytes: Uint8Array.of(0, 255) }]
    };
    // Interrupted under v2: it never had output fields, and must not gain an output row.
    const bare = { ...base, id: 'bare', requestId: 'req-2', startedAt: 3, endedAt: null };
    // Only stdout (a row shape older code could write): the rest of the output is empty.
    const onlyOut = {
      ...base,
      id: 'only-out',
      requestId: 'req-3',
      startedAt: 4,
      endedAt: 5,
      stdout: Uint8Array.of(65)
    };
    for (const row of [printed, bare, onlyOut]) await v2.put('runs', row);
    await v2.put('meta', { name: 'kept', value: 7 });
    v2.close();

    const current = await openNightCoreDB({ name });
    expect(current.version).toBe(DB_VERSION);
    // The rung moves nothing (it must not need twice the output's space): rows are as v2 left them.
    expect(current.objectStoreNames.contains('runOutputs')).toBe(true);
    expect(await current.count('runOutputs')).toBe(0);
    for (const row of [printed, bare, onlyOut])
      expect(await current.get('runs', row.id)).toEqual(row);

    expect(await migrateRunOutputs(current)).toEqual({ outcome: 'done', moved: 2 });
    const { stdout, stderr, files, ...printedRow } = printed;
    expect(await current.get('runs', 'printed')).toEqual({
      ...printedRow,
      stdoutBytes: 6,
      stderrBytes: 3,
      filesCount: 1
    });
    expect(await current.get('runOutputs', 'printed')).toEqual({
      id: 'printed',
      stdout,
      stderr,
      files
    });
    expect(await current.get('runs', 'bare')).toEqual(bare);
    expect(await current.get('runOutputs', 'bare')).toBeUndefined();
    expect(await current.get('runOutputs', 'only-out')).toEqual({
      id: 'only-out',
      stdout: Uint8Array.of(65),
      stderr: new Uint8Array(0),
      files: []
    });
    expect(await current.get('runs', 'only-out')).toMatchObject({
      stdoutBytes: 1,
      stderrBytes: 0,
      filesCount: 0
    });
    expect(await current.count('runOutputs')).toBe(2);
    // The indexes still find the rewritten rows.
    expect((await current.getAllFromIndex('runs', 'byStarted')).map((r) => r.id)).toEqual([
      'printed',
      'bare',
      'only-out'
    ]);
    expect(await current.get('meta', 'kept')).toEqual({ name: 'kept', value: 7 });
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
