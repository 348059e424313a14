/**
 * The storage side of backup and restore (docs/backup.md).
 *
 * - readSnapshot reads every store in ONE readonly transaction, so the backup is one consistent
 *   moment of the profile even while other tabs write.
 * - restoreBackup writes a backup that core/backup/read.ts has already verified in full, in ONE
 *   readwrite transaction over every store: a failure, a closed tab or a reload leaves the profile
 *   as it was. It writes only into an empty profile, checked before and again inside the
 *   transaction; the audit.import record that links the old device key and the imported chain
 *   head is part of the same transaction, so no restored profile exists without it.
 */
import { fromHex, toBase64 } from '$lib/core/bytes';
import { appendLeaf, leafHash } from '$lib/core/audit/merkle';
import { createRecord, type AuditRecord } from '$lib/core/audit/record';
import type { JsonObject } from '$lib/core/json';
import {
  BACKUP_FORMAT,
  DATA_META_NAMES,
  PREVIOUS_DEVICE_KEYS,
  backupFailure,
  type BackupFailure
} from '$lib/core/backup/format';
import { encodePreviousDeviceKeys, type PreviousDeviceKey, type Row } from '$lib/core/backup/rows';
import type { ParsedBackup } from '$lib/core/backup/read';
import type { BackupInput, BackupModule } from '$lib/core/backup/write';
import type { IDBPTransaction } from 'idb';
import {
  PERSISTENCE_ANSWER,
  STORE_NAMES,
  type NightCoreDB,
  type NightCoreDatabase,
  type StoreName
} from './db';
import type { DeviceKey } from './device-key';
import type { AuditRow, MetaRow, ModuleRow, RunRow } from './records';
import { moduleBytes } from './requests-store';
import { joinRun, splitRun } from './runs-store';

/** Stores that hold the user's data: any row in them makes a profile non-empty. */
const DATA_STORES = ['keys', 'policies', 'requests', 'modules', 'runs'] as const;
/** Audit events a profile writes by itself before holding any data (or on a refused restore). */
const BOOTSTRAP_EVENTS = new Set([
  'device.key-created',
  'audit.check',
  'audit.checkpoint',
  'audit.export',
  'audit.import',
  'settings.changed'
]);
/** More local records than this is not a fresh profile, whatever they are. */
export const MAX_BOOTSTRAP_RECORDS = 200;
/** The last verified audit position (audit-log.svelte.ts): it names the chain being replaced. */
const VERIFIED_ANCHOR = 'audit-verified';
const DATA_META: ReadonlySet<string> = new Set(DATA_META_NAMES);

export type Snapshot = Pick<BackupInput, 'rows' | 'modules' | 'audit'>;

/** Every store as one consistent snapshot (one readonly transaction). */
export async function readSnapshot(db: NightCoreDatabase): Promise<Snapshot> {
  const tx = db.transaction(STORE_NAMES, 'readonly');
  const [keys, policies, requests, stored, outputs, checkpoints, meta, modules, audit] =
    await Promise.all([
      tx.objectStore('keys').getAll(),
      tx.objectStore('policies').getAll(),
      tx.objectStore('requests').getAll(),
      tx.objectStore('runs').getAll(),
      tx.objectStore('runOutputs').getAll(),
      tx.objectStore('checkpoints').getAll(),
      tx.objectStore('meta').getAll(),
      tx.objectStore('modules').getAll(),
      tx.objectStore('audit').getAll()
    ]);
  await tx.done;
  // The file format predates the runOutputs store (v3): each run row carries its output again.
  // A row not yet migrated (run-output-migration) still has its output inline and keeps it.
  const byRun = new Map(outputs.map((output) => [output.id, output]));
  const runs = stored.map((row) => joinRun(row, byRun.get(row.id)));
  // A Blob read after its transaction still holds the bytes it had when read.
  const withBytes: BackupModule[] = [];
  for (const row of modules) {
    withBytes.push({
      sha256: row.sha256,
      size: row.size,
      addedAt: row.addedAt,
      bytes: await moduleBytes(row)
    });
  }
  return {
    rows: {
      keys: keys as unknown as Row[],
      policies: policies as unknown as Row[],
      requests: requests as unknown as Row[],
      runs: runs as unknown as Row[],
      checkpoints: checkpoints as unknown as Row[],
      meta: meta.filter((row) => DATA_META.has(row.name)) as unknown as Row[]
    },
    modules: withBytes,
    audit: audit.map(({ seq, time, event, subject, details, prevHash, hash }): AuditRecord => ({
      seq,
      time,
      event,
      subject,
      details,
      prevHash,
      hash
    }))
  };
}

export interface ProfileContents {
  empty: boolean;
  /** Why it is not empty, as a sentence; null when empty. */
  why: string | null;
  /** The audit records this profile wrote by itself (replaced by the restored log). */
  local: AuditRow[];
}

/** Whether a restore may write here: no data, only the records a fresh profile makes itself. */
export async function profileContents(db: NightCoreDatabase): Promise<ProfileContents> {
  const tx = db.transaction([...DATA_STORES, 'audit'], 'readonly');
  const contents = await readContents(tx);
  await tx.done;
  return contents;
}

type ContentsTx = IDBPTransaction<NightCoreDB, StoreName[], IDBTransactionMode>;

/** The emptiness check, inside the caller's transaction (only IDB requests are awaited). */
async function readContents(tx: ContentsTx): Promise<ProfileContents> {
  const counts = await Promise.all(DATA_STORES.map((store) => tx.objectStore(store).count()));
  const auditCount = await tx.objectStore('audit').count();
  const local =
    auditCount <= MAX_BOOTSTRAP_RECORDS
      ? await tx.objectStore('audit').getAll()
      : ([] as AuditRow[]);
  const held = DATA_STORES.map((store, i) => [store, counts[i] ?? 0] as const).filter(
    ([, n]) => n > 0
  );
  const own = local.every(
    (row) => BOOTSTRAP_EVENTS.has(row.event) && row.details.result !== 'restored'
  );
  let why: string | null = null;
  if (held.length > 0) {
    why = `it holds ${held.map(([store, n]) => `${n} ${store}`).join(', ')}`;
  } else if (auditCount > MAX_BOOTSTRAP_RECORDS || !own) {
    why = `its audit log already holds ${auditCount} records of its own history`;
  }
  return { empty: why === null, why, local: why === null ? local : [] };
}

export type RestoreResult =
  | { ok: true; importSeq: number; replaced: number; previousDeviceKeys: PreviousDeviceKey[] }
  | BackupFailure;

/**
 * Writes a verified backup into this (empty) profile, all or nothing. `device` is this profile's
 * own device key (the backup's cannot be carried: its private half never left the old browser).
 * `asBlob` stores module bytes as Blobs, as the app does (Node tests pass false).
 *
 * Emptiness is decided inside the write transaction, so nothing another tab writes can slip in
 * between the check and the writes. The profile's own records (its device key's creation, a
 * refused attempt, or a record written by this very click) are read there too and kept in the
 * audit.import record, which is hashed synchronously in the transaction, as AuditStore does.
 */
export async function restoreBackup(
  db: NightCoreDatabase,
  backup: ParsedBackup,
  device: DeviceKey,
  options: { now?: number; asBlob?: boolean } = {}
): Promise<RestoreResult> {
  const now = options.now ?? Date.now();
  const old = backup.manifest.deviceKey;
  const previousDeviceKeys = [
    ...backup.previousDeviceKeys.filter((key) => key.id !== old.id),
    { ...old, retiredAt: now }
  ];
  const head = backup.audit.at(-1)!;
  const keyIds = old.id === device.id ? [old.id] : [old.id, device.id];
  const tx = db.transaction(STORE_NAMES, 'readwrite');
  let importRow: AuditRow;
  let replaced = 0;
  try {
    const before = await readContents(tx);
    if (!before.empty) {
      tx.abort();
      await tx.done.catch(() => undefined);
      return notEmptyFailure(before.why!);
    }
    replaced = before.local.length;
    const record = createRecord(
      { seq: head.seq, hash: head.hash },
      {
        time: now,
        event: 'audit.import',
        subject: { keyIds },
        details: importDetails(backup, device, before.local)
      }
    );
    importRow = { ...record, range: appendLeaf(head.range, leafHash(fromHex(record.hash))) };
    const writes: Promise<unknown>[] = [
      tx.objectStore('audit').clear(),
      tx.objectStore('checkpoints').clear(),
      tx.objectStore('meta').delete(VERIFIED_ANCHOR),
      // The log this profile recorded the browser's storage answer in is replaced: ask it again.
      tx.objectStore('meta').delete(PERSISTENCE_ANSWER)
    ];
    for (const row of backup.rows.keys) writes.push(tx.objectStore('keys').add(row as never));
    for (const row of backup.rows.policies)
      writes.push(tx.objectStore('policies').add(row as never));
    for (const row of backup.rows.requests)
      writes.push(tx.objectStore('requests').add(row as never));
    for (const run of backup.rows.runs) {
      // Output goes to its own store (v3), as the app writes it; a backup from any version has
      // it inside the row.
      const { row, output } = splitRun(run as unknown as RunRow);
      writes.push(tx.objectStore('runs').add(row));
      if (output) writes.push(tx.objectStore('runOutputs').put(output));
    }
    for (const row of backup.rows.checkpoints) {
      writes.push(tx.objectStore('checkpoints').put(row as never));
    }
    if (!backup.rows.checkpoints.some((row) => row.size === backup.checkpoint.size)) {
      writes.push(
        tx.objectStore('checkpoints').put({
          size: backup.checkpoint.size,
          rootHash: backup.checkpoint.root,
          note: backup.checkpoint.note,
          createdAt: Date.parse(backup.manifest.created),
          exportedAt: Date.parse(backup.manifest.created)
        })
      );
    }
    for (const row of backup.rows.meta) {
      if (row.name !== PREVIOUS_DEVICE_KEYS)
        writes.push(tx.objectStore('meta').put(row as unknown as MetaRow));
    }
    writes.push(
      tx.objectStore('meta').put({
        name: PREVIOUS_DEVICE_KEYS,
        value: encodePreviousDeviceKeys(previousDeviceKeys)
      })
    );
    for (const row of backup.rows.modules) {
      const bytes = backup.modules.get(row.sha256 as string)!;
      const module: ModuleRow = {
        sha256: row.sha256 as string,
        size: row.size as number,
        addedAt: row.addedAt as number,
        bytes: options.asBlob === false ? bytes : new Blob([bytes as Uint8Array<ArrayBuffer>])
      };
      writes.push(tx.objectStore('modules').add(module));
    }
    for (const row of backup.audit) writes.push(tx.objectStore('audit').add(row));
    writes.push(tx.objectStore('audit').add(importRow));
    await Promise.all([...writes, tx.done]);
  } catch (error) {
    await tx.done.catch(() => undefined);
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return backupFailure(
      'backup.write',
      `The browser refused to write the backup (${detail}); nothing was written.`
    );
  }
  return { ok: true, importSeq: importRow.seq, replaced, previousDeviceKeys };
}

function importDetails(
  backup: ParsedBackup,
  device: DeviceKey,
  local: readonly AuditRow[]
): JsonObject {
  const old = backup.manifest.deviceKey;
  const head = backup.audit.at(-1)!;
  return {
    kind: 'backup',
    result: 'restored',
    format: BACKUP_FORMAT,
    created: backup.manifest.created,
    app: backup.manifest.app,
    previousDeviceKey: { id: old.id, name: old.name, publicKey: toBase64(old.publicKey) },
    deviceKey: { id: device.id, name: device.name, publicKey: toBase64(device.publicKey) },
    importedHead: { seq: head.seq, hash: head.hash },
    importedRecords: backup.audit.length,
    checkpoint: { size: backup.checkpoint.size, root: backup.checkpoint.root },
    counts: { ...backup.summary.counts },
    // The fresh profile's own few records (its device key's creation, refused attempts) give way
    // to the restored log; they are kept here, in the record that replaced them.
    replaced: local.map((row) => ({
      seq: row.seq,
      time: row.time,
      event: row.event,
      hash: row.hash,
      details: row.details
    }))
  };
}

/** The refusal of a restore into a profile that holds data. */
export function notEmptyFailure(why: string): BackupFailure {
  return backupFailure(
    'backup.not-empty',
    `Restore writes only into an empty profile, and this one is not: ${why}. Nothing was changed. Use a new browser profile (or clear this site's data) and restore there.`
  );
}
