// The run-output migration (after the v3 upgrade, outside it) against fake-indexeddb: it moves
// inline output in batches, survives a failure mid-way without losing or doubling anything, does
// nothing the second time, stops quietly over quota, and reads are right before, during and after.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { openNightCoreDB, type NightCoreDatabase } from '../../src/lib/storage/db';
import type { RunOutput, RunRow } from '../../src/lib/storage/records';
import {
  RUN_OUTPUT_MIGRATION,
  migrateRunOutputs
} from '../../src/lib/storage/run-output-migration';
import { getRunOutput, getRunOutputs, listRuns } from '../../src/lib/storage/runs-store';

let counter = 0;
const open: NightCoreDatabase[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const SHA = 'cd'.repeat(32);
const id = (i: number) => `run-${String(i).padStart(3, '0')}`;

/** A v2 run row: output inline, no sizes. Every third run never ended (no output at all). */
function v2Run(i: number): RunRow {
  const base: RunRow = {
    id: id(i),
    requestId: `req-${i}`,
    moduleSha256: SHA,
    startedAt: i,
    endedAt: null,
    outcome: null
  };
  if (i % 3 === 0) return base;
  return {
    ...base,
    endedAt: i + 1,
    outcome: 'exited',
    status: 'exited',
    stdout: new TextEncoder().encode(`out ${i}\n`.repeat(i)),
    stderr: Uint8Array.of(i % 256),
    files: i % 2 ? [{ path: `f${i}.bin`, bytes: Uint8Array.of(i % 256, 1) }] : []
  };
}

function expectedOutput(i: number): RunOutput | undefined {
  const run = v2Run(i);
  if (!run.stdout) return undefined;
  return { id: run.id, stdout: run.stdout, stderr: run.stderr!, files: run.files! };
}

const N = 50;
const WITH_OUTPUT = Array.from({ length: N }, (_, i) => i).filter((i) => i % 3 !== 0).length;

/** A v2 profile of N runs, opened at the current version (the rung moves nothing). */
async function upgradedProfile(): Promise<NightCoreDatabase> {
  const name = `migration-${++counter}`;
  const v2 = await openNightCoreDB({ name, version: 2 });
  const tx = v2.transaction('runs', 'readwrite');
  await Promise.all([...Array.from({ length: N }, (_, i) => tx.store.put(v2Run(i))), tx.done]);
  v2.close();
  const db = await openNightCoreDB({ name });
  open.push(db);
  return db;
}

/** Every read the app makes gives the same answers whatever shape the rows are in. */
async function expectReadsRight(db: NightCoreDatabase) {
  const listed = await listRuns(db);
  expect(listed.map((r) => r.id)).toEqual(Array.from({ length: N }, (_, i) => id(N - 1 - i)));
  for (const row of listed) {
    expect(row).not.toHaveProperty('stdout');
    expect(row).not.toHaveProperty('files');
    const want = expectedOutput(Number(row.id.slice(4)));
    if (want)
      expect(row).toMatchObject({
        stdoutBytes: want.stdout.length,
        stderrBytes: want.stderr.length,
        filesCount: want.files.length
      });
  }
  const ids = Array.from({ length: N }, (_, i) => id(i));
  const outputs = await getRunOutputs(db, ids);
  expect(outputs.size).toBe(WITH_OUTPUT);
  for (let i = 0; i < N; i++) expect(outputs.get(id(i))).toEqual(expectedOutput(i));
  expect(await getRunOutput(db, id(7))).toEqual(expectedOutput(7));
}

/** How many rows still carry output inline. */
async function inlineCount(db: NightCoreDatabase) {
  return (await db.getAll('runs')).filter((r) => r.stdout !== undefined).length;
}

describe('run output migration', () => {
  it('moves every inline output in batches; reads are right before, during and after', async () => {
    const db = await upgradedProfile();
    expect(await inlineCount(db)).toBe(WITH_OUTPUT);
    await expectReadsRight(db);

    const progress: number[] = [];
    const result = await migrateRunOutputs(db, {
      batchSize: 20,
      afterBatch: async (moved) => {
        progress.push(moved);
        await expectReadsRight(db); // half in one shape, half in the other
      }
    });
    expect(result).toEqual({ outcome: 'done', moved: WITH_OUTPUT });
    // 50 runs by 20: three batches (13, 13 and 7 of them with output), then one finding no more.
    expect(progress).toEqual([13, 26, 33]);
    expect(await inlineCount(db)).toBe(0);
    expect(await db.count('runOutputs')).toBe(WITH_OUTPUT);
    expect(await db.get('meta', RUN_OUTPUT_MIGRATION)).toEqual({
      name: RUN_OUTPUT_MIGRATION,
      value: 'done'
    });
    await expectReadsRight(db);
    // A run that never ended gains no output row and keeps its row unchanged.
    expect(await db.get('runs', id(3))).toEqual(v2Run(3));
  });

  it('resumes after a failure mid-way: nothing lost, nothing doubled', async () => {
    const db = await upgradedProfile();
    const failure = new Error('tab crashed');
    await expect(
      migrateRunOutputs(db, {
        batchSize: 7,
        afterBatch: (moved) => {
          if (moved > 10) throw failure;
        }
      })
    ).rejects.toBe(failure);
    const movedBefore = await db.count('runOutputs');
    expect(movedBefore).toBeGreaterThan(0);
    expect(movedBefore).toBeLessThan(WITH_OUTPUT);
    expect(await inlineCount(db)).toBe(WITH_OUTPUT - movedBefore);
    expect(await db.get('meta', RUN_OUTPUT_MIGRATION)).toBeUndefined();
    await expectReadsRight(db);

    // The next load starts over the scan; rows already moved have nothing inline to move.
    expect(await migrateRunOutputs(db, { batchSize: 7 })).toEqual({
      outcome: 'done',
      moved: WITH_OUTPUT - movedBefore
    });
    expect(await db.count('runOutputs')).toBe(WITH_OUTPUT);
    expect(await inlineCount(db)).toBe(0);
    await expectReadsRight(db);
  });

  it('storage full: stops quietly (no throw, not marked done), and a later load goes on', async () => {
    const db = await upgradedProfile();
    // fake-indexeddb has no quota; the browser's error is thrown where a batch's commit would fail.
    const full = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const result = await migrateRunOutputs(db, {
      batchSize: 10,
      afterBatch: () => {
        throw full;
      }
    });
    expect(result.outcome).toBe('stopped-quota');
    expect(await db.count('runOutputs')).toBe(result.moved);
    expect(await db.get('meta', RUN_OUTPUT_MIGRATION)).toBeUndefined();
    await expectReadsRight(db);
    expect(await migrateRunOutputs(db)).toEqual({
      outcome: 'done',
      moved: WITH_OUTPUT - result.moved
    });
    await expectReadsRight(db);
  });

  it('is idempotent: a second run (another load, another tab) moves nothing', async () => {
    const db = await upgradedProfile();
    const [first, second] = await Promise.all([migrateRunOutputs(db), migrateRunOutputs(db)]);
    expect(first).toEqual({ outcome: 'done', moved: WITH_OUTPUT });
    expect(second).toEqual({ outcome: 'already-done', moved: 0 });
    const rows = await db.getAll('runs');
    const outputs = await db.getAll('runOutputs');
    // Without the meta row the scan runs again, and still changes nothing.
    await db.delete('meta', RUN_OUTPUT_MIGRATION);
    expect(await migrateRunOutputs(db)).toEqual({ outcome: 'done', moved: 0 });
    expect(await db.getAll('runs')).toEqual(rows);
    expect(await db.getAll('runOutputs')).toEqual(outputs);
    await expectReadsRight(db);
  });

  it('a fresh profile (nothing to move) is marked done at once', async () => {
    const db = await openNightCoreDB({ name: `migration-${++counter}` });
    open.push(db);
    expect(await migrateRunOutputs(db)).toEqual({ outcome: 'done', moved: 0 });
  });

  it('stops quietly when the connection closes, and a later load finishes', async () => {
    const db = await upgradedProfile();
    const result = await migrateRunOutputs(db, {
      batchSize: 5,
      afterBatch: (moved) => {
        if (moved > 0) db.close(); // another tab asked for a newer schema
      }
    });
    expect(result.outcome).toBe('stopped-closed');
    expect(result.moved).toBeGreaterThan(0);
    const reopened = await openNightCoreDB({ name: db.name });
    open.push(reopened);
    expect(await inlineCount(reopened)).toBe(WITH_OUTPUT - result.moved);
    await expectReadsRight(reopened);
    expect(await migrateRunOutputs(reopened)).toEqual({
      outcome: 'done',
      moved: WITH_OUTPUT - result.moved
    });
    await expectReadsRight(reopened);
  });
});
