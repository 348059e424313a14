/**
 * Backup round trip on fake-indexeddb: a populated profile is snapshotted, written, read back and
 * restored into a fresh profile with a new device key. Every store comes back as it was, the audit
 * chain verifies (in the store and with the real CLI on the unzipped audit part), the restore is
 * recorded, and restoring into a profile that holds data is refused without a change.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/lib/core/bytes';
import { readBackup } from '../../src/lib/core/backup/read';
import { writeBackup } from '../../src/lib/core/backup/write';
import { AuditStore } from '../../src/lib/storage/audit-store';
import { profileContents, readSnapshot, restoreBackup } from '../../src/lib/storage/backup-store';
import { countRecords, type NightCoreDatabase } from '../../src/lib/storage/db';
import { getRunOutput } from '../../src/lib/storage/runs-store';
import { freshProfile, populatedProfile, type Populated } from './helpers/backup-profile';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;

export async function backupOf(profile: Pick<Populated, 'db' | 'device' | 'audit'>) {
  const snapshot = await readSnapshot(profile.db);
  return writeBackup({
    app: '0.1.0-test',
    created: Date.UTC(2026, 11, 6, 8, 0, 0),
    device: profile.device,
    origin: profile.audit.origin,
    ...snapshot
  });
}

async function everything(db: NightCoreDatabase) {
  const [keys, policies, requests, runs, runOutputs, modules] = await Promise.all([
    db.getAll('keys'),
    db.getAll('policies'),
    db.getAll('requests'),
    db.getAll('runs'),
    db.getAll('runOutputs'),
    db.getAll('modules')
  ]);
  return { keys, policies, requests, runs, runOutputs, modules };
}

describe('backup round trip', () => {
  it('restores every store into a fresh profile, chain intact, restore recorded', async () => {
    const source = await populatedProfile();
    const written = await backupOf(source);
    const read = await readBackup(written.bytes);
    if (!read.ok) throw new Error(read.reason.message);
    const { summary } = read.backup;
    expect(summary.counts).toEqual({
      keys: 1,
      policies: 1,
      requests: 4,
      runs: 1,
      checkpoints: 1,
      meta: 1, // run-mode; the watched-folder job stays behind
      modules: 2,
      audit: 6
    });
    expect(summary.approvals).toBe(2);
    expect(summary.deviceKey.id).toBe(source.device.id);

    const target = await freshProfile();
    const restored = await restoreBackup(target.db, read.backup, target.device, { asBlob: false });
    if (!restored.ok) throw new Error(restored.reason.message);
    expect(restored.replaced).toBe(1); // the fresh profile's device.key-created

    const before = await everything(source.db);
    const after = await everything(target.db);
    expect(after).toEqual(before);
    expect((await target.db.get('meta', 'run-mode'))?.value).toBe('auto');
    expect(await target.db.get('meta', 'watch-job:1')).toBeUndefined();

    // The chain: the source's records verbatim, then the import record by the new device.
    const sourceAudit = await source.db.getAll('audit');
    const targetAudit = await target.db.getAll('audit');
    expect(targetAudit.slice(0, sourceAudit.length)).toEqual(sourceAudit);
    const last = targetAudit.at(-1)!;
    expect(last.event).toBe('audit.import');
    expect(last.seq).toBe(sourceAudit.length);
    expect(last.subject.keyIds).toEqual([source.device.id, target.device.id]);
    expect(last.details).toMatchObject({
      result: 'restored',
      importedHead: { seq: sourceAudit.at(-1)!.seq, hash: sourceAudit.at(-1)!.hash },
      previousDeviceKey: { id: source.device.id }
    });
    const check = await new AuditStore(target.db, target.device).verify();
    expect(check).toMatchObject({ ok: true, count: sourceAudit.length + 1 });
    // The old checkpoint and the one the backup was signed with both stay.
    const checkpoints = await target.db.getAll('checkpoints');
    expect(checkpoints.map((c) => c.size)).toEqual([5, 6]);
    const previous = (await target.db.get('meta', 'previous-device-keys'))?.value as {
      id: string;
      publicKey: string;
    }[];
    expect(previous.map((k) => k.id)).toEqual([source.device.id]);
    expect(fromBase64(previous[0]!.publicKey)).toEqual(source.device.publicKey);

    // A second restore into the restored profile is refused.
    const again = await restoreBackup(target.db, read.backup, target.device, { asBlob: false });
    expect(again.ok ? null : again.reason.code).toBe('backup.not-empty');
  });

  it('a backup of the restored profile restores again (a chain of device keys)', async () => {
    const first = await populatedProfile();
    const one = await readBackup((await backupOf(first)).bytes);
    if (!one.ok) throw new Error(one.reason.message);
    const second = await freshProfile();
    expect((await restoreBackup(second.db, one.backup, second.device, { asBlob: false })).ok).toBe(
      true
    );
    const two = await readBackup((await backupOf(second)).bytes);
    if (!two.ok) throw new Error(two.reason.message);
    const third = await freshProfile();
    const restored = await restoreBackup(third.db, two.backup, third.device, { asBlob: false });
    if (!restored.ok) throw new Error(restored.reason.message);
    expect(restored.previousDeviceKeys.map((k) => k.id)).toEqual([
      first.device.id,
      second.device.id
    ]);
    expect(await new AuditStore(third.db, third.device).verify()).toMatchObject({ ok: true });
  });

  it('refuses a profile that holds data, and changes nothing', async () => {
    const source = await populatedProfile();
    const read = await readBackup((await backupOf(source)).bytes);
    if (!read.ok) throw new Error(read.reason.message);
    const busy = await populatedProfile();
    const before = await countRecords(busy.db);
    const result = await restoreBackup(busy.db, read.backup, busy.device, { asBlob: false });
    expect(result.ok ? null : result.reason).toMatchObject({ code: 'backup.not-empty' });
    expect(result.ok ? '' : result.reason.message).toMatch(/1 keys, 1 policies, 4 requests/);
    expect(await countRecords(busy.db)).toEqual(before);
    expect((await profileContents(busy.db)).empty).toBe(false);
  });

  it('nightcore audit verify accepts the unzipped audit part', async () => {
    expect(existsSync(CLI), 'dist/cli/nightcore.js is missing: run npm run build').toBe(true);
    const source = await populatedProfile();
    const files = unzipSync((await backupOf(source)).bytes);
    const dir = mkdtempSync(join(tmpdir(), 'nightcore-backup-'));
    for (const name of ['log.jsonl', 'log.checkpoint', 'device.vkey']) {
      writeFileSync(join(dir, name), files[`audit/${name}`]!);
    }
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'audit', 'verify', ...args], {
        cwd: dir,
        encoding: 'utf8'
      });
    const ok = run('log.jsonl', '--checkpoint', 'log.checkpoint', '--key', 'device.vkey');
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    // And it is a real check: one changed byte fails.
    const text = Buffer.from(files['audit/log.jsonl']!).toString('utf8').replace('"n":1', '"n":2');
    writeFileSync(join(dir, 'log.jsonl'), text);
    const bad = run('log.jsonl', '--checkpoint', 'log.checkpoint', '--key', 'device.vkey');
    expect(bad.status).toBe(1);
  });

  it('run output travels inside its run row, as before schema v3, and comes back whole', async () => {
    const source = await populatedProfile();
    const written = await backupOf(source);
    const files = unzipSync(written.bytes);
    const name = Object.keys(files).find((f) => f.endsWith('runs.jsonl'))!;
    const line = JSON.parse(Buffer.from(files[name]!).toString('utf8').trim()) as Record<
      string,
      unknown
    >;
    // The file format is unchanged: output as base64 in the row, no store-only fields.
    expect(line).toMatchObject({
      id: 'run-1',
      stdout: Buffer.from('hello from wasm\n').toString('base64'),
      stderr: '',
      files: [{ path: 'out.txt', bytes: Buffer.from([0, 1, 2, 255]).toString('base64') }]
    });
    expect(line).not.toHaveProperty('filesCount');
    const output = await getRunOutput(source.db, 'run-1');
    expect(output?.stdout.length).toBe(16);

    // A backup written by the code before v3: its run row is the v2 row, output inside.
    const snapshot = await readSnapshot(source.db);
    const v2Row = { ...snapshot.rows.runs[0]! };
    delete v2Row.stdoutBytes;
    delete v2Row.stderrBytes;
    const old = await writeBackup({
      app: '0.1.0-before-v3',
      created: Date.UTC(2026, 11, 6, 8, 0, 0),
      device: source.device,
      origin: source.audit.origin,
      ...snapshot,
      rows: { ...snapshot.rows, runs: [v2Row] }
    });
    for (const bytes of [written.bytes, old.bytes]) {
      const read = await readBackup(bytes);
      if (!read.ok) throw new Error(read.reason.message);
      const target = await freshProfile();
      const restored = await restoreBackup(target.db, read.backup, target.device, {
        asBlob: false
      });
      if (!restored.ok) throw new Error(restored.reason.message);
      expect(await getRunOutput(target.db, 'run-1')).toEqual(output);
      const row = await target.db.get('runs', 'run-1');
      expect(row).toMatchObject({ stdoutBytes: 16, stderrBytes: 0, filesCount: 1 });
      expect(row).not.toHaveProperty('stdout');
    }
  });

  it('a profile not yet migrated (output inline, as v2 left it) exports its output', async () => {
    const source = await populatedProfile();
    const output = await getRunOutput(source.db, 'run-1');
    expect(output?.stdout.length).toBe(16);
    // Put the run back in its v2 shape: output inline, no output row, no sizes.
    const row = (await source.db.get('runs', 'run-1'))!;
    const v2Row = { ...row, stdout: output!.stdout, stderr: output!.stderr, files: output!.files };
    delete v2Row.stdoutBytes;
    delete v2Row.stderrBytes;
    delete v2Row.filesCount;
    const tx = source.db.transaction(['runs', 'runOutputs'], 'readwrite');
    await Promise.all([
      tx.objectStore('runs').put(v2Row),
      tx.objectStore('runOutputs').delete('run-1'),
      tx.done
    ]);
    expect(await source.db.count('runOutputs')).toBe(0);

    const written = await backupOf(source);
    const files = unzipSync(written.bytes);
    const name = Object.keys(files).find((f) => f.endsWith('runs.jsonl'))!;
    const line = JSON.parse(Buffer.from(files[name]!).toString('utf8').trim()) as Record<
      string,
      unknown
    >;
    expect(line).toMatchObject({
      id: 'run-1',
      stdout: Buffer.from('hello from wasm\n').toString('base64'),
      files: [{ path: 'out.txt', bytes: Buffer.from([0, 1, 2, 255]).toString('base64') }]
    });

    // Restore writes the v3 shape: sizes in the row, output in its own store.
    const read = await readBackup(written.bytes);
    if (!read.ok) throw new Error(read.reason.message);
    const target = await freshProfile();
    const restored = await restoreBackup(target.db, read.backup, target.device, { asBlob: false });
    if (!restored.ok) throw new Error(restored.reason.message);
    expect(await target.db.get('runOutputs', 'run-1')).toEqual(output);
    const back = await target.db.get('runs', 'run-1');
    expect(back).toMatchObject({ stdoutBytes: 16, stderrBytes: 0, filesCount: 1 });
    expect(back).not.toHaveProperty('stdout');
  });

  it('a write that fails half-way leaves the profile exactly as it was', async () => {
    const source = await populatedProfile();
    const read = await readBackup((await backupOf(source)).bytes);
    if (!read.ok) throw new Error(read.reason.message);
    // The last store written holds a row that cannot be added (two audit rows with one seq), so
    // the transaction fails after every other store was written in it.
    const broken = { ...read.backup, audit: [...read.backup.audit, read.backup.audit[0]!] };
    const target = await freshProfile();
    const before = await countRecords(target.db);
    const auditBefore = await target.db.getAll('audit');
    const result = await restoreBackup(target.db, broken, target.device, { asBlob: false });
    expect(result.ok ? null : result.reason.code).toBe('backup.write');
    expect(await countRecords(target.db)).toEqual(before);
    expect(await target.db.getAll('audit')).toEqual(auditBefore);
    // And the profile is still empty: the intact backup goes in.
    const again = await restoreBackup(target.db, read.backup, target.device, { asBlob: false });
    expect(again.ok).toBe(true);
  });
});
