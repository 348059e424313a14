/**
 * Writing a backup (format.ts describes the file): rows as JSONL, module bytes by SHA-256, the
 * audit log as the standard audit export with a checkpoint signed now, the part manifest, and the
 * device key's signature over it, zipped with fflate.
 *
 * Throws Error (with a sentence for the UI) when the profile cannot be backed up faithfully: a
 * module whose bytes no longer match their SHA-256, or an audit log that does not verify, would
 * make a backup that restore refuses, so it is refused here first.
 */
import { zipSync, type Zippable } from 'fflate';
import { utf8 } from '../bytes';
import { sha256Hex } from '../digest';
import { noteVerifierKey, signCheckpoint } from '../audit/checkpoint';
import { hashFromHex } from '../audit/digest';
import { buildExport } from '../audit/export';
import { verifyExport } from '../audit/export-verify';
import { MerkleTree, leafHashInto } from '../audit/merkle';
import type { AuditRecord } from '../audit/record';
import {
  AUDIT_CHECKPOINT_PATH,
  AUDIT_LOG_PATH,
  AUDIT_VKEY_PATH,
  BACKUP_FORMAT,
  MANIFEST_PATH,
  MODULE_DIR,
  ROW_STORES,
  SIGNATURE_PATH,
  rowsPath,
  type BackupDeviceKey,
  type BackupManifest,
  type BackupPart,
  type RowStore
} from './format';
import { encodeManifest, encodeSignature, signedMessage } from './manifest';
import { encodeRow, type Row } from './rows';

export interface BackupSigner extends BackupDeviceKey {
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export interface BackupModule {
  sha256: string;
  size: number;
  addedAt: number;
  bytes: Uint8Array;
}

export interface BackupInput {
  /** The app version writing it. */
  app: string;
  /** When the snapshot was taken (epoch ms). */
  created: number;
  device: BackupSigner;
  /** The audit log's checkpoint origin (AuditStore.origin). */
  origin: string;
  /** Rows of every store but modules, as read. */
  rows: Record<Exclude<RowStore, 'modules'>, Row[]>;
  modules: BackupModule[];
  /** The whole audit log, in order from seq 0. */
  audit: readonly AuditRecord[];
  progress?: (step: string) => void;
}

export interface WrittenBackup {
  bytes: Uint8Array;
  manifest: BackupManifest;
  /** The checkpoint signed for the audit part: the chain head the backup holds. */
  checkpoint: { size: number; root: string; note: string };
}

export async function writeBackup(input: BackupInput): Promise<WrittenBackup> {
  const { device, audit } = input;
  const progress = input.progress ?? (() => undefined);
  const files = new Map<string, Uint8Array>();
  const rowCounts = new Map<string, number>();

  progress('Signing the audit log…');
  if (audit.length === 0) throw new Error('the audit log is empty');
  const flat = new Uint8Array(audit.length * 32);
  audit.forEach((record, i) => leafHashInto(hashFromHex(record.hash), flat, i * 32));
  const root = MerkleTree.fromFlatLeafHashes(flat).root();
  const note = await signCheckpoint({ origin: input.origin, size: audit.length, root }, device);
  const deviceKey = { name: device.name, publicKey: device.publicKey };
  const exported = buildExport(audit, {
    origin: input.origin,
    deviceKey,
    checkpointNote: note,
    selection: 'all'
  });
  const check = verifyExport(exported.jsonl, { checkpoint: note, publicKey: device.publicKey });
  if (!check.ok) {
    throw new Error(
      `the audit log does not verify (record ${check.seq ?? '?'}: ${check.reason.message}); a backup of it would not restore. Export it from the Audit page instead.`
    );
  }
  files.set(AUDIT_LOG_PATH, utf8(exported.jsonl));
  rowCounts.set(AUDIT_LOG_PATH, audit.length);
  files.set(AUDIT_CHECKPOINT_PATH, utf8(note));
  files.set(AUDIT_VKEY_PATH, utf8(`${noteVerifierKey(device.name, device.publicKey)}\n`));

  progress('Writing the stores…');
  for (const store of ROW_STORES) {
    const rows: Row[] =
      store === 'modules'
        ? input.modules.map(({ sha256, size, addedAt }) => ({ sha256, size, addedAt }))
        : input.rows[store];
    const text = rows.map((row) => `${encodeRow(store, row)}\n`).join('');
    files.set(rowsPath(store), utf8(text));
    rowCounts.set(rowsPath(store), rows.length);
  }

  for (const [i, module] of input.modules.entries()) {
    progress(`Checking module ${i + 1} of ${input.modules.length}…`);
    const actual = await sha256Hex(module.bytes);
    if (actual !== module.sha256 || module.bytes.length !== module.size) {
      throw new Error(
        `the stored bytes of module ${module.sha256} no longer match their SHA-256 (the profile was altered); they were not backed up.`
      );
    }
    files.set(`${MODULE_DIR}${module.sha256}`, module.bytes);
  }

  progress('Writing the manifest…');
  const parts: BackupPart[] = [];
  for (const [path, bytes] of files) {
    parts.push({
      path,
      sha256: await sha256Hex(bytes),
      size: bytes.length,
      rows: rowCounts.get(path) ?? null
    });
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    created: new Date(input.created).toISOString(),
    app: input.app,
    deviceKey: { id: device.id, name: device.name, publicKey: device.publicKey },
    parts
  };
  const manifestBytes = encodeManifest(manifest);
  const signature = await device.sign(signedMessage(manifestBytes));

  progress('Compressing…');
  // Modules: the fastest deflate level (wasm shrinks a little; time matters more). Text: default.
  const zippable: Zippable = {
    [MANIFEST_PATH]: manifestBytes,
    [SIGNATURE_PATH]: encodeSignature(signature)
  };
  for (const [path, bytes] of files) {
    zippable[path] = [bytes, { level: path.startsWith(MODULE_DIR) ? 1 : 6 }];
  }
  const bytes = zipSync(zippable);
  return {
    bytes,
    manifest,
    checkpoint: { size: audit.length, root: check.root, note }
  };
}
