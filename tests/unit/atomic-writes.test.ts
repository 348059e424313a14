// Writes that must not be half done share one IndexedDB transaction with their audit record
// (AuditStore.appendWith): a decision and its record (recordDecision), a request, its module bytes
// and its verdict record (saveRequest). Failures are injected deterministically inside the
// transaction, against fake-indexeddb; a run's outcome (recordRunEnd) likewise; the sweep's re-read
// (markInterrupted) is checked too.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { auditDatabases, testDevice } from './helpers/audit-db';
import type { AuditRecordInput } from '../../src/lib/core/audit/record';
import { AuditStore } from '../../src/lib/storage/audit-store';
import type { RequestDecision, RequestRow, RunRow } from '../../src/lib/storage/records';
import { getRequest, recordDecision, saveRequest } from '../../src/lib/storage/requests-store';
import { markInterrupted, putRun, recordRunEnd } from '../../src/lib/storage/runs-store';

const DEVICE = testDevice(7);
const SHA = 'cd'.repeat(32);

const fresh = auditDatabases('decision-atomic', DEVICE);

function pending(id = 'req-1'): RequestRow {
  return {
    id,
    state: 'pending',
    createdAt: 1,
    channel: 'paste',
    moduleSha256: SHA,
    manifestSha256: 'ef'.repeat(32),
    fileName: 'hello.ncb',
    name: 'hello',
    version: '1.0.0',
    format: 'bundle',
    size: 100,
    verdict: { ok: true, kind: 'verified', reasons: [], notes: [], signers: [] }
  };
}

function decision(): RequestDecision {
  return {
    action: 'approve',
    decidedAt: 2,
    moduleSha256: SHA,
    manifestSha256: 'ef'.repeat(32),
    limits: { timeoutMs: 1000 },
    capabilities: [],
    statement: '{}',
    signature: 'c2ln',
    deviceKeyId: DEVICE.id
  };
}

function record(details: AuditRecordInput['details'] = { action: 'approve' }): AuditRecordInput {
  return { time: 3, event: 'decision', subject: { requestId: 'req-1' }, details };
}

describe('recordDecision: decision and audit record in one transaction', () => {
  it('writes both: the request is approved and one decision record chains on', async () => {
    const { db, store } = await fresh();
    await db.add('requests', pending());
    const saved = await recordDecision(store, 'req-1', 'approved', decision(), record());
    expect(saved?.state).toBe('approved');
    expect((await getRequest(db, 'req-1'))?.decision?.signature).toBe('c2ln');
    const rows = await db.getAll('audit');
    expect(rows.map((r) => [r.seq, r.event, r.subject.requestId])).toEqual([
      [0, 'decision', 'req-1']
    ]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('writes neither when the audit append fails inside the transaction', async () => {
    const { db, store } = await fresh();
    await db.add('requests', pending());
    // A fraction cannot be encoded in a record: createRecord throws after the request was put.
    await expect(
      recordDecision(store, 'req-1', 'approved', decision(), record({ risk: 0.5 }))
    ).rejects.toThrow(TypeError);
    expect((await getRequest(db, 'req-1'))?.state).toBe('pending');
    expect(await db.count('audit')).toBe(0);
  });

  it('writes neither when the work dies after its write (the crash window)', async () => {
    const { db, store } = await fresh();
    await db.add('requests', pending());
    await expect(
      store.appendWith(['requests'], async (tx) => {
        await tx.objectStore('requests').put({ ...pending(), state: 'approved' });
        throw new Error('page died here');
      })
    ).rejects.toThrow('page died here');
    expect((await getRequest(db, 'req-1'))?.state).toBe('pending');
    expect(await db.count('audit')).toBe(0);
  });

  it('writes nothing for a request decided already, or one that is gone', async () => {
    const { db, store } = await fresh();
    await db.add('requests', { ...pending(), state: 'denied' });
    expect(await recordDecision(store, 'req-1', 'approved', decision(), record())).toBeNull();
    expect(await recordDecision(store, 'missing', 'approved', decision(), record())).toBeNull();
    expect((await getRequest(db, 'req-1'))?.state).toBe('denied');
    expect(await db.count('audit')).toBe(0);
  });

  it('two deciders at once: exactly one wins and exactly one decision record is written', async () => {
    const { db, store } = await fresh();
    const other = new AuditStore(db, DEVICE);
    await db.add('requests', pending());
    const results = await Promise.all([
      recordDecision(store, 'req-1', 'approved', decision(), record({ tab: 'a' })),
      recordDecision(
        other,
        'req-1',
        'denied',
        { ...decision(), action: 'deny' },
        record({ tab: 'b' })
      )
    ]);
    other.close();
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    const rows = await db.getAll('audit');
    expect(rows).toHaveLength(1);
    const winner = results.find((r) => r !== null)!;
    expect(rows[0]!.details.tab).toBe(winner.state === 'approved' ? 'a' : 'b');
    expect((await getRequest(db, 'req-1'))?.state).toBe(winner.state);
  });
});

describe('saveRequest: request, module bytes and verdict record in one transaction', () => {
  const module = { sha256: SHA, size: 3, bytes: new Uint8Array([1, 2, 3]), addedAt: 1 };
  const verdict = (details: AuditRecordInput['details'] = { verdict: 'verified' }) =>
    ({ time: 3, event: 'verdict', subject: { requestId: 'req-1' }, details }) as const;

  it('writes all three', async () => {
    const { db, store } = await fresh();
    await saveRequest(store, pending(), module, verdict());
    expect(await db.count('requests')).toBe(1);
    expect((await db.get('modules', SHA))?.size).toBe(3);
    expect((await db.getAll('audit')).map((r) => r.event)).toEqual(['verdict']);
  });

  it('writes none when the verdict record cannot be appended', async () => {
    const { db, store } = await fresh();
    await expect(saveRequest(store, pending(), module, verdict({ risk: 0.25 }))).rejects.toThrow(
      TypeError
    );
    expect([
      await db.count('requests'),
      await db.count('modules'),
      await db.count('audit')
    ]).toEqual([0, 0, 0]);
  });

  it('writes none when the request cannot be stored (an id taken)', async () => {
    const { db, store } = await fresh();
    await db.add('requests', { ...pending(), moduleSha256: '' });
    await expect(saveRequest(store, pending(), module, verdict())).rejects.toThrow();
    expect([
      await db.count('requests'),
      await db.count('modules'),
      await db.count('audit')
    ]).toEqual([1, 0, 0]);
  });
});

describe('markInterrupted: re-reads the run before marking it', () => {
  const run = (status: RunRow['status']): RunRow => ({
    id: 'run-1',
    requestId: 'req-1',
    moduleSha256: SHA,
    startedAt: 1,
    endedAt: status === 'running' || status === 'queued' ? null : 5,
    outcome: null,
    status
  });

  it('marks a run still queued or running', async () => {
    for (const status of ['queued', 'running'] as const) {
      const { db } = await fresh();
      await putRun(db, run(status));
      expect(await markInterrupted(db, 'run-1', 9)).toBe(true);
      expect(await db.get('runs', 'run-1')).toMatchObject({
        status: 'interrupted',
        outcome: 'interrupted',
        endedAt: 9
      });
    }
  });

  it('leaves alone a run that ended after the sweep read it, and a missing one', async () => {
    const { db } = await fresh();
    await putRun(db, { ...run('exited'), outcome: 'exited', exitCode: 0 });
    expect(await markInterrupted(db, 'run-1', 9)).toBe(false);
    expect(await markInterrupted(db, 'run-2', 9)).toBe(false);
    expect(await db.get('runs', 'run-1')).toMatchObject({ status: 'exited', endedAt: 5 });
  });
});

describe('recordRunEnd: run row, request state and outcome record in one transaction', () => {
  const running: RunRow = {
    id: 'run-1',
    requestId: 'req-1',
    moduleSha256: SHA,
    startedAt: 1,
    endedAt: null,
    outcome: null,
    status: 'running'
  };
  const ended: RunRow = {
    ...running,
    endedAt: 5,
    outcome: 'exited',
    status: 'exited',
    exitCode: 0
  };
  const finished = (details: AuditRecordInput['details'] = { status: 'exited' }) =>
    ({
      time: 4,
      event: 'run.finished',
      subject: { runId: 'run-1', requestId: 'req-1' },
      details
    }) satisfies AuditRecordInput;

  it('writes all three: the row ends, the request is done, one outcome record chains on', async () => {
    const { db, store } = await fresh();
    await db.add('requests', { ...pending(), state: 'running' });
    await putRun(db, running);
    await recordRunEnd(store, ended, finished());
    expect(await db.get('runs', 'run-1')).toMatchObject({ status: 'exited', endedAt: 5 });
    expect((await getRequest(db, 'req-1'))?.state).toBe('done');
    expect((await db.getAll('audit')).map((r) => [r.event, r.subject.runId])).toEqual([
      ['run.finished', 'run-1']
    ]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('writes none when the outcome record cannot be appended (the row stays running)', async () => {
    const { db, store } = await fresh();
    await db.add('requests', { ...pending(), state: 'running' });
    await putRun(db, running);
    await expect(recordRunEnd(store, ended, finished({ ratio: 0.5 }))).rejects.toThrow(TypeError);
    expect(await db.get('runs', 'run-1')).toMatchObject({ status: 'running', endedAt: null });
    expect((await getRequest(db, 'req-1'))?.state).toBe('running');
    expect(await db.count('audit')).toBe(0);
  });

  it('leaves a request that is no longer running as it is', async () => {
    const { db, store } = await fresh();
    await db.add('requests', { ...pending(), state: 'approved' });
    await recordRunEnd(store, ended, finished());
    expect((await getRequest(db, 'req-1'))?.state).toBe('approved');
    expect(await db.get('runs', 'run-1')).toMatchObject({ status: 'exited' });
  });
});
