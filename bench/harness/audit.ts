/**
 * Audit log benchmarks, through the app's own AuditStore (src/lib/storage/audit-store.ts) on a
 * real IndexedDB, each repetition in a fresh database opened with the app's schema
 * (openNightCoreDB under another name) and deleted afterwards.
 *
 * audit-append: 10,000 records appended one by one with AuditStore.append, the path every record
 * of the app takes (AuditLog.record), against raw idb puts of the same rows into a plain object
 * store with the same batching: one readwrite transaction per record, awaited before the next,
 * because the app commits each record before it returns (an event must be durable before the
 * action it logs goes on).
 *
 * audit-verify: AuditStore.verify(null), the full check AuditLog.check runs, over 100,000 records,
 * against crypto.subtle SHA-256 over the same canonical record bytes (record.ts's encodeRecord of
 * every row, concatenated: one digest, the fastest any hash of those bytes gets here).
 */
import { deleteDB, openDB } from 'idb';
import { fromHex } from '$lib/core/bytes';
import { appendLeaf, leafHash, type CompactRange } from '$lib/core/audit/merkle';
import { createRecord, encodeRecord, type AuditRecordInput } from '$lib/core/audit/record';
import { AuditStore } from '$lib/storage/audit-store';
import { openNightCoreDB } from '$lib/storage/db';
import { deviceKey } from '$lib/storage/device-key';
import type { AuditRow } from '$lib/storage/records';
import { pause, time, type BenchCase, type PageResult } from './measure';

const APPEND_RECORDS = 10_000;
const VERIFY_RECORDS = 100_000;
const APPEND_REPS = 5;

/** Record i of a synthetic log: the mix of events and subjects the app writes. */
function input(i: number): AuditRecordInput {
  const hex = (i * 2654435761).toString(16).padStart(8, '0').repeat(8).slice(0, 64);
  switch (i % 4) {
    case 0:
      return {
        time: 1_760_000_000_000 + i,
        event: 'verdict',
        subject: { requestId: `req-${i}`, moduleSha256: hex, keyIds: [hex] },
        details: { ok: true, format: 'bundle', name: `module ${i}`, size: 1024 + i, reasons: [] }
      };
    case 1:
      return {
        time: 1_760_000_000_000 + i,
        event: 'run.started',
        subject: { requestId: `req-${i - 1}`, runId: `run-${i}` },
        details: { limits: { memoryMiB: 64, timeoutMs: 5000 }, capabilities: ['stdout'] }
      };
    case 2:
      return {
        time: 1_760_000_000_000 + i,
        event: 'run.finished',
        subject: { runId: `run-${i - 1}` },
        details: { exitCode: 0, durationMs: 12 + (i % 50), stdoutBytes: 4096, truncated: false }
      };
    default:
      return {
        time: 1_760_000_000_000 + i,
        event: 'settings.changed',
        subject: {},
        details: { key: 'theme', from: 'light', to: 'dark' }
      };
  }
}

const inputs = (n: number) => Array.from({ length: n }, (_, i) => input(i));

/** The rows AuditStore writes for these inputs (the same records, for the raw baseline). */
function rowsOf(list: readonly AuditRecordInput[]): AuditRow[] {
  let previous: { seq: number; hash: string } | null = null;
  let range: CompactRange = { size: 0, roots: [] };
  return list.map((item) => {
    const record = createRecord(previous, item);
    range = appendLeaf(range, leafHash(fromHex(record.hash)));
    previous = { seq: record.seq, hash: record.hash };
    return { ...record, range };
  });
}

let dbCounter = 0;
const freshName = (what: string) => `bench-${what}-${Date.now()}-${dbCounter++}`;

async function appStore(name: string): Promise<AuditStore> {
  const db = await openNightCoreDB({ name });
  const { key } = await deviceKey(db);
  return new AuditStore(db, key);
}

async function appAppend(list: readonly AuditRecordInput[]): Promise<number> {
  const name = freshName('app');
  const store = await appStore(name);
  try {
    return await time(async () => {
      for (const item of list) await store.append(item);
    });
  } finally {
    store.close();
    store.db.close();
    await deleteDB(name);
  }
}

async function rawPuts(rows: readonly AuditRow[]): Promise<number> {
  const name = freshName('raw');
  const db = await openDB(name, 1, {
    upgrade(d) {
      d.createObjectStore('records', { keyPath: 'seq' });
    }
  });
  try {
    return await time(async () => {
      for (const row of rows) await db.put('records', row);
    });
  } finally {
    db.close();
    await deleteDB(name);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perSecond = (n: number, ms: number) => `${Math.round((n / ms) * 1000)} records/s`;

export const auditCases: Record<string, BenchCase> = {
  'audit-append': async (): Promise<PageResult> => {
    const list = inputs(APPEND_RECORDS);
    const rows = rowsOf(list);
    // Warm-up on a tenth of the work (JIT, IndexedDB backing store), then alternate.
    await appAppend(list.slice(0, 1000));
    await rawPuts(rows.slice(0, 1000));
    const samples: number[] = [];
    const baselineSamples: number[] = [];
    for (let i = 0; i < APPEND_REPS; i++) {
      await pause(50);
      baselineSamples.push(await rawPuts(rows));
      await pause(50);
      samples.push(await appAppend(list));
    }
    return {
      samples,
      baselineSamples,
      unit: 'ms',
      extra: {
        records: APPEND_RECORDS,
        append: perSecond(APPEND_RECORDS, median(samples)),
        'raw put': perSecond(APPEND_RECORDS, median(baselineSamples)),
        'per append': `${((median(samples) / APPEND_RECORDS) * 1000).toFixed(0)} µs`
      }
    };
  },
  'audit-verify': async (): Promise<PageResult> => {
    const name = freshName('verify');
    const store = await appStore(name);
    try {
      // Seeded through the app's import path (appendMany), 10,000 records per transaction.
      const list = inputs(VERIFY_RECORDS);
      for (let at = 0; at < list.length; at += 10_000) {
        await store.appendMany(list.slice(at, at + 10_000));
      }
      const stored = await store.rows(0, VERIFY_RECORDS - 1);
      const encoded = stored.map(({ hash: _hash, range: _range, ...body }) => encodeRecord(body));
      const total = encoded.reduce((sum, bytes) => sum + bytes.length, 0);
      const all = new Uint8Array(total);
      let offset = 0;
      for (const bytes of encoded) {
        all.set(bytes, offset);
        offset += bytes.length;
      }
      const subject = async () => {
        const check = await store.verify(null);
        if (!check.ok || check.count !== VERIFY_RECORDS) {
          throw new Error(`the seeded log did not verify: ${JSON.stringify(check)}`);
        }
      };
      const baseline = () => crypto.subtle.digest('SHA-256', all);
      await subject();
      await baseline();
      const samples: number[] = [];
      const baselineSamples: number[] = [];
      for (let i = 0; i < 7; i++) {
        await pause(50);
        baselineSamples.push(await time(baseline));
        await pause(50);
        samples.push(await time(subject));
      }
      // What bounds the check: reading the same rows out of IndexedDB, batched as verify reads.
      const reads: number[] = [];
      for (let i = 0; i < 3; i++) {
        await pause(50);
        reads.push(
          await time(async () => {
            for (let at = 0; at < VERIFY_RECORDS; at += 2000) await store.rows(at, at + 1999);
          })
        );
      }
      // One digest call per record (what a chain needs: one hash per record), for comparison.
      const perRecord = await time(() =>
        Promise.all(
          encoded.map((bytes) => crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
        )
      );
      return {
        samples,
        baselineSamples,
        unit: 'ms',
        extra: {
          records: VERIFY_RECORDS,
          encodedBytes: total,
          verify: perSecond(VERIFY_RECORDS, median(samples)),
          'SHA-256 (one digest)': `${((total / 2 ** 20 / median(baselineSamples)) * 1000).toFixed(0)} MiB/s`,
          'reading the rows alone': `${median(reads).toFixed(0)} ms`,
          'crypto.subtle, one digest per record': `${perRecord.toFixed(0)} ms`
        }
      };
    } finally {
      store.close();
      store.db.close();
      await deleteDB(name);
    }
  }
};
