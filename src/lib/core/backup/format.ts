/**
 * Backup format `nightcore.backup/v1` (docs/backup.md is the contract): one `.ncbackup` zip with
 *
 *   manifest.json        the part manifest (manifest.ts), strict JSON
 *   manifest.sig         base64 Ed25519 signature by the device key over
 *                        UTF-8("nightcore.backup/v1\n") || manifest.json bytes, then "\n"
 *   <store>.jsonl        one row per line for keys, policies, requests, runs, checkpoints, meta and
 *                        modules (the module index: sha256, size, addedAt; no bytes)
 *   modules/<sha256>     each module's bytes, named by their lowercase hex SHA-256
 *   audit/log.jsonl      the whole audit log as the standard audit export (core/audit/export.ts)
 *   audit/log.checkpoint the signed checkpoint that export verifies against
 *   audit/device.vkey    the exporting device's verifier key (a convenience: it is self-asserted)
 *
 * Every failure is a Reason with one of the BackupCode codes below; nothing here throws on bad
 * input.
 */
import type { Reason } from '../verdict';
import { reason } from '../verdict';

export const BACKUP_FORMAT = 'nightcore.backup/v1';
export const BACKUP_EXTENSION = '.ncbackup';
export const BACKUP_MEDIA_TYPE = 'application/vnd.nightcore.backup+zip';
/** Domain tag of the manifest signature: a device signature over anything else never verifies. */
export const BACKUP_SIGNATURE_DOMAIN = 'nightcore.backup/v1\n';

const MiB = 1024 * 1024;
/** Largest backup file read; the whole file and its contents sit in memory while restoring. */
export const MAX_BACKUP_BYTES = 256 * MiB;
/** Largest sum of the uncompressed parts (a zip bomb stops here, before inflating). */
export const MAX_BACKUP_UNPACKED_BYTES = 512 * MiB;
/** Largest single part (a module, or a store's JSONL). */
export const MAX_BACKUP_PART_BYTES = 128 * MiB;
/** Most zip entries: the fixed parts plus one per module. */
export const MAX_BACKUP_ENTRIES = 20_000;
/** manifest.json is small: its parts list and a few fields. */
export const MAX_MANIFEST_BYTES = 4 * MiB;

/** The stores carried as JSONL rows, in the order they are written. */
export const ROW_STORES = [
  'keys',
  'policies',
  'requests',
  'runs',
  'checkpoints',
  'meta',
  'modules'
] as const;
export type RowStore = (typeof ROW_STORES)[number];

export const AUDIT_LOG_PATH = 'audit/log.jsonl';
export const AUDIT_CHECKPOINT_PATH = 'audit/log.checkpoint';
export const AUDIT_VKEY_PATH = 'audit/device.vkey';
export const MANIFEST_PATH = 'manifest.json';
export const SIGNATURE_PATH = 'manifest.sig';
export const MODULE_DIR = 'modules/';
export const rowsPath = (store: RowStore) => `${store}.jsonl`;

/**
 * Meta entries that are data and travel with a backup. Everything else stays behind: the device
 * key (its private half cannot leave the browser), a watched folder's handle (only this browser
 * can use it), watched-folder jobs and the last verified audit position (derived, re-made).
 */
export const DATA_META_NAMES = [
  'run-mode',
  'auto-lane-paused',
  'notifications-enabled',
  'previous-device-keys'
] as const;
export const PREVIOUS_DEVICE_KEYS = 'previous-device-keys';

/** Why a backup was refused, one code per kind of problem (docs/backup.md lists them). */
export type BackupCode =
  | 'backup.too-large'
  | 'backup.zip'
  | 'backup.manifest'
  | 'backup.format'
  | 'backup.signature'
  | 'backup.missing-part'
  | 'backup.unexpected-part'
  | 'backup.part-size'
  | 'backup.part-hash'
  | 'backup.row'
  | 'backup.row-count'
  | 'backup.duplicate'
  | 'backup.module-hash'
  | 'backup.module-missing'
  | 'backup.approval'
  | 'backup.audit'
  | 'backup.checkpoint'
  | 'backup.not-empty'
  | 'backup.write';

export interface BackupFailure {
  ok: false;
  reason: Reason & { code: BackupCode };
}

export function backupFailure(code: BackupCode, message: string): BackupFailure {
  return { ok: false, reason: reason(code, message) as Reason & { code: BackupCode } };
}

/** A device public key as the backup names it (the exporting one, or an earlier one). */
export interface BackupDeviceKey {
  /** Canonical key id: lowercase hex SHA-256 of the public key. */
  id: string;
  /** Its signed-note key name (`nightcore-device-…`). */
  name: string;
  publicKey: Uint8Array;
}

export interface BackupPart {
  path: string;
  sha256: string;
  size: number;
  /** Lines of a JSONL part (records, for the audit log); null for other files. */
  rows: number | null;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  /** RFC 3339 UTC time the backup was made. */
  created: string;
  /** The app version that made it. */
  app: string;
  deviceKey: BackupDeviceKey;
  parts: BackupPart[];
}
