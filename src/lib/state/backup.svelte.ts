/**
 * Backup and restore as the Settings page sees it (docs/backup.md): export the whole profile to
 * one `.ncbackup` file; read a backup, verify all of it and show what it holds; restore it, after
 * a confirmation, into an empty profile. Every refusal is shown with its code and recorded in the
 * audit log (`audit.import`, result `refused`); the profile is otherwise left as it was.
 */
import { localDate } from '$lib/core/audit/present';
import { formatBytes } from '$lib/core/units';
import {
  BACKUP_EXTENSION,
  BACKUP_MEDIA_TYPE,
  MAX_BACKUP_BYTES,
  backupFailure,
  type BackupFailure
} from '$lib/core/backup/format';
import { readBackup, type BackupSummary, type ParsedBackup } from '$lib/core/backup/read';
import { writeBackup } from '$lib/core/backup/write';
import {
  notEmptyFailure,
  profileContents,
  readSnapshot,
  restoreBackup
} from '$lib/storage/backup-store';
import { auditLog } from './audit-log.svelte';
import { autoLane } from './auto-lane.svelte';
import { database } from './database';
import { downloadBytes } from './download';
import { pendingCount } from './pending.svelte';
import { runMode } from './run-mode.svelte';
import { storageStatus } from './storage-status.svelte';

export type BackupPhase = 'idle' | 'exporting' | 'reading' | 'confirm' | 'restoring';

export interface BackupResult {
  status: 'ok' | 'error';
  /** The refusal's code (`backup.part-hash`, …); null on success. */
  code: string | null;
  message: string;
}

/** Yields to the browser so a progress line paints before the next long step. */
const paint = () => new Promise((resolve) => setTimeout(resolve, 0));

export class BackupState {
  phase = $state<BackupPhase>('idle');
  progress = $state<string | null>(null);
  result = $state.raw<BackupResult | null>(null);
  /** What the chosen backup holds, while it waits for confirmation. */
  summary = $state.raw<BackupSummary | null>(null);
  fileName = $state<string | null>(null);
  #pending: ParsedBackup | null = null;

  get busy(): boolean {
    return this.phase === 'exporting' || this.phase === 'reading' || this.phase === 'restoring';
  }

  async exportBackup(): Promise<void> {
    if (this.busy) return;
    this.#reset('exporting');
    try {
      const store = await auditLog.store();
      this.progress = 'Reading every store…';
      await paint();
      const snapshot = await readSnapshot(await database());
      const written = await writeBackup({
        app: __NIGHTCORE_VERSION__,
        created: Date.now(),
        device: store.device,
        origin: store.origin,
        ...snapshot,
        progress: (step) => (this.progress = step)
      });
      const name = `nightcore-backup-${localDate(new Date())}${BACKUP_EXTENSION}`;
      downloadBytes(name, written.bytes, BACKUP_MEDIA_TYPE);
      const records = snapshot.audit.length;
      await auditLog.record({
        event: 'audit.export',
        subject: {},
        details: {
          scope: 'backup',
          records,
          size: written.checkpoint.size,
          root: written.checkpoint.root,
          bytes: written.bytes.length,
          parts: written.manifest.parts.length,
          modules: snapshot.modules.length
        }
      });
      this.result = {
        status: 'ok',
        code: null,
        message: `Saved ${name} (${formatBytes(written.bytes.length)}): ${records} audit records, ${snapshot.modules.length} modules, ${snapshot.rows.requests.length} requests, ${snapshot.rows.keys.length} keys, ${snapshot.rows.policies.length} policy versions.`
      };
    } catch (error) {
      this.result = {
        status: 'error',
        code: 'backup.export',
        message: `The backup was not made: ${error instanceof Error ? error.message : String(error)}`
      };
    } finally {
      this.phase = 'idle';
      this.progress = null;
    }
  }

  /** Reads and verifies a chosen backup; on success waits for confirmRestore(). */
  async chooseFile(file: File): Promise<void> {
    if (this.busy) return;
    this.#reset('reading');
    this.fileName = file.name;
    try {
      if (file.size > MAX_BACKUP_BYTES) {
        return await this.#refuse(
          file,
          backupFailure(
            'backup.too-large',
            `${file.name} is ${formatBytes(file.size)}, over the ${formatBytes(MAX_BACKUP_BYTES)} backup limit.`
          )
        );
      }
      // Emptiness first: it is cheap, and no file can be restored here otherwise.
      const contents = await profileContents(await database());
      if (!contents.empty) return await this.#refuse(file, notEmptyFailure(contents.why!));
      this.progress = 'Reading the file…';
      await paint();
      const bytes = new Uint8Array(await file.arrayBuffer());
      const read = await readBackup(bytes, (step) => (this.progress = step));
      if (!read.ok) return await this.#refuse(file, read);
      this.#pending = read.backup;
      this.summary = read.backup.summary;
      this.phase = 'confirm';
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      await this.#refuse(
        file,
        backupFailure('backup.zip', `The file could not be read (${detail}).`)
      );
    } finally {
      this.progress = null;
    }
  }

  cancel(): void {
    if (this.phase !== 'confirm') return;
    this.#reset('idle');
  }

  async confirmRestore(): Promise<void> {
    const backup = this.#pending;
    if (this.phase !== 'confirm' || !backup) return;
    this.phase = 'restoring';
    this.progress = 'Writing every store in one transaction…';
    const name = this.fileName ?? 'backup';
    try {
      const store = await auditLog.store();
      const restored = await restoreBackup(await database(), backup, store.device);
      if (!restored.ok) {
        await this.#record(name, null, restored);
        this.result = {
          status: 'error',
          code: restored.reason.code,
          message: restored.reason.message
        };
        return;
      }
      this.progress = 'Checking the restored audit chain…';
      await auditLog.refresh();
      await auditLog.check({ record: false });
      // The new device key signs a checkpoint over the restored chain and its audit.import record.
      await auditLog.makeCheckpoint();
      await Promise.all([
        // changed(), not refresh(): other open tabs (their Inbox badge, their Overview) hear it too.
        pendingCount.changed(),
        runMode.load(),
        autoLane.load(),
        storageStatus.refresh()
      ]);
      const c = backup.summary.counts;
      const chain =
        auditLog.status === 'ok'
          ? 'the audit chain verifies'
          : `the audit chain check says: ${auditLog.problem ?? auditLog.status}`;
      this.result = {
        status: auditLog.status === 'ok' ? 'ok' : 'error',
        code: null,
        message: `Restored ${c.keys} keys, ${c.policies} policy versions, ${c.requests} requests, ${c.modules} modules, ${c.runs} runs and ${c.audit} audit records from ${name}; ${chain}. Record ${restored.importSeq} links the backup's device key ${backup.manifest.deviceKey.id.slice(0, 16)}… to this browser's.`
      };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.result = {
        status: 'error',
        code: 'backup.write',
        message: `The restore failed: ${detail}`
      };
    } finally {
      this.#pending = null;
      this.summary = null;
      this.phase = 'idle';
      this.progress = null;
    }
  }

  #reset(phase: BackupPhase): void {
    this.phase = phase;
    this.result = null;
    this.summary = null;
    this.#pending = null;
    this.progress = null;
  }

  async #refuse(file: File, failure: BackupFailure): Promise<void> {
    this.result = { status: 'error', code: failure.reason.code, message: failure.reason.message };
    this.phase = 'idle';
    await this.#record(file.name, file.size, failure);
  }

  /** A refused restore is an audit record too (a fresh profile stays restorable after it). */
  async #record(name: string, size: number | null, failure: BackupFailure): Promise<void> {
    try {
      await auditLog.record({
        event: 'audit.import',
        subject: {},
        details: {
          kind: 'backup',
          result: 'refused',
          code: failure.reason.code,
          reason: failure.reason.message,
          file: name.slice(0, 200),
          ...(size === null ? {} : { bytes: size })
        }
      });
    } catch (error) {
      // The refusal is still shown; say that it could not be recorded.
      const detail = error instanceof Error ? error.message : String(error);
      this.result = {
        status: 'error',
        code: failure.reason.code,
        message: `${failure.reason.message} (It could not be recorded in the audit log: ${detail}.)`
      };
    }
  }
}

export const backup = new BackupState();
