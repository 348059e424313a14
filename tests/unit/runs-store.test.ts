// Run rows and their output (schema v3: output in its own store) against fake-indexeddb: the row
// and its output are written in one transaction with the outcome record (both or neither), a full
// disk still records the outcome without the output, and listing reads no output.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import type { AuditRecordInput } from '../../src/lib/core/audit/record';
import { AuditStore } from '../../src/lib/storage/audit-store';
import { openNightCoreDB, type NightCoreDatabase } from '../../src/lib/storage/db';
import type { DeviceKey } from '../../src/lib/storage/device-key';
import type { RequestRow, RunRow } from '../../src/lib/storage/records';
import {
  getRunOutput,
  getRunOutputs,
  joinRun,
  listRuns,
  putRun,
  recordRunEnd,
  splitRun
} from '../../src/lib/storage/runs-store';

const SEED = new Uint8Array(32).fill(9);
const DEVICE: DeviceKey = {
  name: 'nightcore-device-test',
  publicKey: publicKeyFromSecret(SEED),
  id: 'ab'.repeat(32),
  createdAt: 0,
  sign: async (message) => sign(message, SEED)
};
const SHA = 'cd'.repeat(32);
const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

let counter = 0;
const open: { db: NightCoreDatabase; store: AuditStore }[] = [];
async function fresh() {
  const db = await openNightCoreDB({ name: `runs-store-${++counter}` });
  const store = new AuditStore(db, DEVICE);
  open.push({ db, store });
  await db.add('requests', request());
  return { db, store };
}
afterEach(() => {
  for (const { db, store } of open.splice(0)) {
    store.close();
    db.close();
  }
});

function request(): RequestRow {
  return {
    id: 'req-1',
    state: 'running',
    createdAt: 1,
    channel: 'paste',
    moduleSha256: SHA,
    manifestSha256: null,
    fileName: 'hello.ncb',
    name: 'hello',
    version: '1.0.0',
    format: 'bundle',
    size: 100,
    verdict: { ok: true, kind: 'verified', reasons: [], notes: [], signers: [] }
  };
}

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
  exitCode: 0,
  message: null,
  stdout: new TextEncoder().encode('hello from wasm\n'),
  stderr: Uint8Array.of(7),
  files: [{ path: 'out.txt', bytes: Uint8Array.of(1, 2) }]
};
const finished = (details: AuditRecordInput['details'] = { status: 'exited' }) =>
  ({
    time: 4,
    event: 'run.finished',
    subject: { runId: 'run-1', requestId: 'req-1' },
    details
  }) satisfies AuditRecordInput;

/** The real store, except that a write whose work stored an output row fails as over quota. */
function fullForOutput(store: AuditStore): AuditStore {
  const full = Object.create(store) as AuditStore;
  full.appendWith = (stores, work, what) =>
    store.appendWith(
      stores,
      async (tx) => {
        const record = await work(tx);
        if ((await tx.objectStore('runOutputs' as never).count()) > 0) throw quota();
        return record;
      },
      what
    );
  return full;
}

describe('run rows and outputs', () => {
  it('recordRunEnd writes the row (sizes only), its output, the request and the record', async () => {
    const { db, store } = await fresh();
    await putRun(db, running);
    expect(await recordRunEnd(store, ended, finished())).toBe('whole');
    const row = await db.get('runs', 'run-1');
    expect(row).toMatchObject({ status: 'exited', stdoutBytes: 16, stderrBytes: 1, filesCount: 1 });
    expect(row).not.toHaveProperty('stdout');
    expect(row).not.toHaveProperty('files');
    expect(await getRunOutput(db, 'run-1')).toEqual({
      id: 'run-1',
      stdout: ended.stdout,
      stderr: ended.stderr,
      files: ended.files
    });
    expect((await db.get('requests', 'req-1'))?.state).toBe('done');
    expect((await db.getAll('audit')).map((r) => r.event)).toEqual(['run.finished']);
    // Listing is cheap: rows only.
    const listed = await listRuns(db);
    expect(listed).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty('stdout');
  });

  it('recordRunEnd writes neither row nor output when the record cannot be appended', async () => {
    const { db, store } = await fresh();
    await putRun(db, running);
    await expect(recordRunEnd(store, ended, finished({ ratio: 0.5 }))).rejects.toThrow(TypeError);
    expect(await db.get('runs', 'run-1')).toMatchObject({ status: 'running', endedAt: null });
    expect(await getRunOutput(db, 'run-1')).toBeUndefined();
    expect(await db.count('runOutputs')).toBe(0);
    expect((await db.get('requests', 'req-1'))?.state).toBe('running');
    expect(await db.count('audit')).toBe(0);
  });

  it('storage full: the outcome is written without the output, and says so', async () => {
    const { db, store } = await fresh();
    await putRun(db, running);
    expect(await recordRunEnd(fullForOutput(store), ended, finished())).toBe('without-output');
    const row = await db.get('runs', 'run-1');
    expect(row).toMatchObject({
      status: 'exited',
      endedAt: 5,
      message: 'Its output was not kept: storage was full.'
    });
    expect(row).not.toHaveProperty('stdout');
    expect(await db.count('runOutputs')).toBe(0);
    expect((await db.get('requests', 'req-1'))?.state).toBe('done');
    const records = await db.getAll('audit');
    expect(records.map((r) => [r.event, r.details.outputKept])).toEqual([['run.finished', false]]);
  });

  it('putRun writes a row with output as two rows in one go; one without output as one', async () => {
    const { db } = await fresh();
    await putRun(db, running);
    expect(await db.count('runOutputs')).toBe(0);
    await putRun(db, { ...ended, id: 'run-2' });
    expect(await db.get('runs', 'run-2')).toMatchObject({ stdoutBytes: 16, filesCount: 1 });
    const outputs = await getRunOutputs(db, ['run-2', 'run-1', 'missing']);
    expect([...outputs.keys()]).toEqual(['run-2']);
    expect(outputs.get('run-2')?.stdout).toEqual(ended.stdout);
  });

  it('splitRun and joinRun: a run with output comes back as it was given (the backup shape)', () => {
    const { row, output } = splitRun(ended);
    expect(output).not.toBeNull();
    const joined = joinRun(row, output ?? undefined);
    expect(joined).toEqual({ ...ended, stdoutBytes: 16, stderrBytes: 1 });
    expect(joined).not.toHaveProperty('filesCount');
    expect(splitRun(running)).toEqual({ row: running, output: null });
    expect(joinRun(running, undefined)).toEqual(running);
  });

  it('reads a run not yet migrated (output inline in its row, as v2 wrote it)', async () => {
    const { db } = await fresh();
    // Written straight to the store, as a v2 profile holds it: output inline, no sizes.
    const legacy: RunRow = { ...ended, id: 'legacy', startedAt: 2 };
    await db.put('runs', legacy);
    await putRun(db, { ...ended, id: 'moved', startedAt: 3, stdout: Uint8Array.of(9) });

    const listed = await listRuns(db);
    expect(listed.map((r) => r.id)).toEqual(['moved', 'legacy']);
    for (const row of listed) {
      expect(row).not.toHaveProperty('stdout');
      expect(row).not.toHaveProperty('stderr');
      expect(row).not.toHaveProperty('files');
    }
    // Sizes come from the inline output when the row lacks them.
    expect(listed[1]).toMatchObject({ stdoutBytes: 16, stderrBytes: 1, filesCount: 1 });

    const expected = {
      id: 'legacy',
      stdout: ended.stdout,
      stderr: ended.stderr,
      files: ended.files
    };
    expect(await getRunOutput(db, 'legacy')).toEqual(expected);
    const outputs = await getRunOutputs(db, ['legacy', 'moved', 'missing']);
    expect([...outputs.keys()].sort()).toEqual(['legacy', 'moved']);
    expect(outputs.get('legacy')).toEqual(expected);
    expect(outputs.get('moved')?.stdout).toEqual(Uint8Array.of(9));
    // Reading strips nothing from the store: the row keeps its output until it is migrated.
    expect(await db.get('runs', 'legacy')).toEqual(legacy);
    expect(await db.count('runOutputs')).toBe(1);
  });
});
