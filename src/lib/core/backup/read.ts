/**
 * Reading a backup and checking ALL of it before anything is written: the size cap, the zip
 * (bounds-checked reader, zip-bomb limits), the manifest and its signature, that the files are
 * exactly the parts listed, every part's size and SHA-256, every row, every module's SHA-256
 * against its name, every approval's signature and its binding to a module that is present, the
 * audit export (chain, Merkle root, signed checkpoint) and every stored checkpoint.
 * Returns the first problem as a BackupFailure; never throws.
 */
import { bytesEqual, fromBase64, fromUtf8, toHex, utf8 } from '../bytes';
import { sha256Hex } from '../digest';
import { verifyStrict } from '../ed25519';
import { isJsonObject, parseJson, type JsonObject } from '../json';
import { verifySignedCheckpoint } from '../audit/checkpoint';
import { hashFromHex } from '../audit/digest';
import { verifyExport } from '../audit/export-verify';
import { EMPTY_RANGE, appendLeaf, leafHash, rangeRoot, type CompactRange } from '../audit/merkle';
import { readRecord, type AuditRecord } from '../audit/record';
import { unzipTenant } from '../formats/tenant';
import {
  AUDIT_CHECKPOINT_PATH,
  AUDIT_LOG_PATH,
  AUDIT_VKEY_PATH,
  MANIFEST_PATH,
  MAX_BACKUP_BYTES,
  MAX_BACKUP_ENTRIES,
  MAX_BACKUP_PART_BYTES,
  MAX_BACKUP_UNPACKED_BYTES,
  MODULE_DIR,
  PREVIOUS_DEVICE_KEYS,
  ROW_STORES,
  SIGNATURE_PATH,
  backupFailure,
  rowsPath,
  type BackupDeviceKey,
  type BackupFailure,
  type BackupManifest,
  type RowStore
} from './format';
import { parseManifest, verifyManifestSignature } from './manifest';
import { decodeRows, readPreviousDeviceKeys, type PreviousDeviceKey, type Row } from './rows';

export interface BackupSummary {
  created: string;
  app: string;
  deviceKey: BackupDeviceKey;
  /** Rows per store, and audit records. */
  counts: Record<RowStore | 'audit', number>;
  moduleBytes: number;
  /** Requests with a signed approval (approve or pin). */
  approvals: number;
}

export interface ParsedBackup {
  manifest: BackupManifest;
  summary: BackupSummary;
  rows: Record<RowStore, Row[]>;
  /** Module bytes by SHA-256 (each checked against its name). */
  modules: Map<string, Uint8Array>;
  /** The audit log, verified, each record with its Merkle compact range recomputed. */
  audit: (AuditRecord & { range: CompactRange })[];
  /** The checkpoint the backup was signed with: the imported chain's head. */
  checkpoint: { size: number; root: string; note: string };
  /** Earlier device keys the backup's profile knew (meta previous-device-keys). */
  previousDeviceKeys: PreviousDeviceKey[];
}

export type ReadBackupResult = { ok: true; backup: ParsedBackup } | BackupFailure;

export async function readBackup(
  file: Uint8Array,
  progress: (step: string) => void = () => undefined
): Promise<ReadBackupResult> {
  try {
    return await read(file, progress);
  } catch (error) {
    // Only a bug or an exhausted browser lands here; say so rather than throw.
    const detail = error instanceof Error ? error.message : String(error);
    return backupFailure('backup.zip', `The backup could not be read (${detail}).`);
  }
}

async function read(file: Uint8Array, progress: (step: string) => void): Promise<ReadBackupResult> {
  if (!(file instanceof Uint8Array)) return backupFailure('backup.zip', 'The backup is not bytes.');
  if (file.length > MAX_BACKUP_BYTES) {
    return backupFailure(
      'backup.too-large',
      `The file is ${file.length} bytes, over the ${MAX_BACKUP_BYTES}-byte backup limit.`
    );
  }
  progress('Unpacking…');
  const unzipped = unzipTenant(file, {
    maxEntries: MAX_BACKUP_ENTRIES,
    maxEntryBytes: MAX_BACKUP_PART_BYTES,
    maxTotalBytes: MAX_BACKUP_UNPACKED_BYTES
  });
  if (!unzipped.ok) {
    const message = unzipped.reason.message.replace('(a tenant zip', '(a backup');
    return backupFailure('backup.zip', `Not a readable backup: ${message}`);
  }
  const files = unzipped.files;
  const manifestBytes = files.get(MANIFEST_PATH);
  if (!manifestBytes) {
    return backupFailure(
      'backup.missing-part',
      'Not a Night Core backup: there is no manifest.json.'
    );
  }
  const parsedManifest = parseManifest(manifestBytes);
  if (!parsedManifest.ok) return parsedManifest;
  const manifest = parsedManifest.manifest;
  const device = manifest.deviceKey;
  if ((await sha256Hex(device.publicKey)) !== device.id) {
    return backupFailure(
      'backup.manifest',
      'manifest.json: deviceKey.id is not the SHA-256 of its public key.'
    );
  }
  const signatureFile = files.get(SIGNATURE_PATH);
  if (!signatureFile)
    return backupFailure('backup.missing-part', 'The backup has no manifest.sig.');
  const badSignature = verifyManifestSignature(signatureFile, manifestBytes, device.publicKey);
  if (badSignature) return badSignature;

  // Exactly the listed parts, each with its size and hash.
  const listed = new Set(manifest.parts.map((part) => part.path));
  for (const name of files.keys()) {
    if (name !== MANIFEST_PATH && name !== SIGNATURE_PATH && !listed.has(name)) {
      return backupFailure(
        'backup.unexpected-part',
        `The backup holds ${JSON.stringify(name.slice(0, 100))}, which its manifest does not list.`
      );
    }
  }
  const required = [
    ...ROW_STORES.map(rowsPath),
    AUDIT_LOG_PATH,
    AUDIT_CHECKPOINT_PATH,
    AUDIT_VKEY_PATH
  ];
  const missing = required.find((path) => !listed.has(path));
  if (missing) return backupFailure('backup.missing-part', `The manifest lists no ${missing}.`);
  for (const [i, part] of manifest.parts.entries()) {
    if (i % 16 === 0) progress(`Checking part ${i + 1} of ${manifest.parts.length}…`);
    const bytes = files.get(part.path);
    if (!bytes)
      return backupFailure(
        'backup.missing-part',
        `${part.path} is listed in the manifest but not in the file.`
      );
    if (bytes.length !== part.size) {
      return backupFailure(
        'backup.part-size',
        `${part.path} is ${bytes.length} bytes; the manifest says ${part.size}.`
      );
    }
    if ((await sha256Hex(bytes)) !== part.sha256) {
      return backupFailure(
        'backup.part-hash',
        `${part.path} does not match its SHA-256 in the manifest: it was changed.`
      );
    }
  }
  const rowsOf = new Map(manifest.parts.map((part) => [part.path, part.rows]));

  progress('Reading the rows…');
  const rows = {} as Record<RowStore, Row[]>;
  for (const store of ROW_STORES) {
    const path = rowsPath(store);
    let text: string;
    try {
      text = fromUtf8(files.get(path)!, path);
    } catch {
      return backupFailure('backup.row', `${path} is not UTF-8 text.`);
    }
    const decoded = decodeRows(store, text);
    if (!decoded.ok) return decoded;
    if (decoded.rows.length !== rowsOf.get(path)) {
      return backupFailure(
        'backup.row-count',
        `${path} holds ${decoded.rows.length} rows; the manifest says ${rowsOf.get(path)}.`
      );
    }
    rows[store] = decoded.rows;
  }
  const previousRow = rows.meta.find((row) => row.name === PREVIOUS_DEVICE_KEYS);
  const previous = previousRow ? readPreviousDeviceKeys(previousRow.value as never) : [];
  const previousDeviceKeys = typeof previous === 'string' ? [] : previous;
  const known: BackupDeviceKey[] = [device, ...previousDeviceKeys];

  for (const key of rows.keys) {
    if ((await sha256Hex(key.publicKey as Uint8Array)) !== key.id) {
      return backupFailure(
        'backup.row',
        `keys.jsonl: key ${String(key.id)} is not the SHA-256 of its public key.`
      );
    }
  }

  progress('Checking modules…');
  const modules = new Map<string, Uint8Array>();
  for (const row of rows.modules) {
    const sha = row.sha256 as string;
    const bytes = files.get(`${MODULE_DIR}${sha}`);
    if (!bytes)
      return backupFailure(
        'backup.module-missing',
        `Module ${sha} has a row but no bytes (${MODULE_DIR}${sha}).`
      );
    if (bytes.length !== row.size || (await sha256Hex(bytes)) !== sha) {
      return backupFailure(
        'backup.module-hash',
        `The bytes of module ${sha} do not match their name.`
      );
    }
    modules.set(sha, bytes);
  }
  const strayModule = [...files.keys()].find(
    (name) => name.startsWith(MODULE_DIR) && !modules.has(name.slice(MODULE_DIR.length))
  );
  if (strayModule)
    return backupFailure('backup.unexpected-part', `${strayModule} has no row in modules.jsonl.`);

  progress('Checking approvals…');
  let approvals = 0;
  for (const request of rows.requests) {
    const problem = approvalProblem(request, known, modules);
    if (problem)
      return backupFailure(problem.code, `Request ${String(request.id)}: ${problem.message}`);
    const action = (request.decision as JsonObject | undefined)?.action;
    if (action === 'approve' || action === 'pin') approvals += 1;
  }

  progress('Verifying the audit log…');
  const audit = readAudit(files, device);
  if (!audit.ok) return audit;
  const checkpointProblem = checkStoredCheckpoints(rows.checkpoints, audit.records, known);
  if (checkpointProblem) return checkpointProblem;

  const counts = Object.fromEntries(
    ROW_STORES.map((store) => [store, rows[store].length])
  ) as Record<RowStore, number>;
  return {
    ok: true,
    backup: {
      manifest,
      rows,
      modules,
      audit: audit.records,
      checkpoint: audit.checkpoint,
      previousDeviceKeys,
      summary: {
        created: manifest.created,
        app: manifest.app,
        deviceKey: device,
        counts: { ...counts, audit: audit.records.length },
        moduleBytes: [...modules.values()].reduce((sum, bytes) => sum + bytes.length, 0),
        approvals
      }
    }
  };
}

/** Why a request's decision does not bind what it claims, or null. */
function approvalProblem(
  request: Row,
  known: readonly BackupDeviceKey[],
  modules: ReadonlyMap<string, Uint8Array>
): { code: 'backup.approval' | 'backup.module-missing'; message: string } | null {
  const runnable = request.state === 'approved' || request.state === 'auto-approved';
  const sha = request.moduleSha256 as string;
  if (runnable && !modules.has(sha)) {
    return {
      code: 'backup.module-missing',
      message: `it may run module ${sha}, which the backup does not hold.`
    };
  }
  const decision = request.decision as JsonObject | undefined;
  if (decision === undefined) return null;
  const bad = (why: string) => ({ code: 'backup.approval' as const, message: why });
  if (decision.moduleSha256 !== sha || decision.manifestSha256 !== request.manifestSha256) {
    return bad('its decision names other module or manifest hashes than the request.');
  }
  const statement = parseJson(decision.statement as string);
  const s = statement.ok ? statement.value : null;
  if (!isJsonObject(s) || s.type !== 'nightcore.decision/v1')
    return bad('its decision statement is not a decision.');
  const same =
    s.requestId === request.id &&
    s.moduleSha256 === sha &&
    s.manifestSha256 === request.manifestSha256 &&
    s.action === decision.action &&
    s.decidedAt === decision.decidedAt &&
    s.deviceKeyId === decision.deviceKeyId &&
    JSON.stringify(s.limits) === JSON.stringify(decision.limits) &&
    JSON.stringify(s.capabilities) === JSON.stringify(decision.capabilities);
  if (!same) return bad('its decision differs from the statement that was signed.');
  const key = known.find((k) => k.id === decision.deviceKeyId);
  if (!key)
    return bad(
      `its decision was signed by device key ${String(decision.deviceKeyId)}, which the backup does not name.`
    );
  let signature: Uint8Array;
  try {
    signature = fromBase64(decision.signature as string, 'signature');
  } catch {
    return bad('its decision signature is not base64.');
  }
  if (!verifyStrict(signature, utf8(decision.statement as string), key.publicKey)) {
    return bad('its decision signature does not verify: the approval was altered.');
  }
  if ((decision.action === 'approve' || decision.action === 'pin') && !modules.has(sha)) {
    return {
      code: 'backup.module-missing',
      message: `it approves module ${sha}, which the backup does not hold.`
    };
  }
  return null;
}

function readAudit(
  files: ReadonlyMap<string, Uint8Array>,
  device: BackupDeviceKey
):
  | { ok: true; records: ParsedBackup['audit']; checkpoint: ParsedBackup['checkpoint'] }
  | BackupFailure {
  let jsonl: string;
  let note: string;
  try {
    jsonl = fromUtf8(files.get(AUDIT_LOG_PATH)!, AUDIT_LOG_PATH);
    note = fromUtf8(files.get(AUDIT_CHECKPOINT_PATH)!, AUDIT_CHECKPOINT_PATH);
  } catch {
    return backupFailure('backup.audit', 'The audit part is not UTF-8 text.');
  }
  const verified = verifyExport(jsonl, { checkpoint: note, publicKey: device.publicKey });
  if (!verified.ok) {
    const at = verified.seq === null ? `line ${verified.line}` : `record ${verified.seq}`;
    return backupFailure(
      'backup.audit',
      `The audit log does not verify at ${at}: ${verified.reason.message} (${verified.reason.code}).`
    );
  }
  if (verified.kind !== 'full' || !verified.checkpointVerified) {
    return backupFailure(
      'backup.audit',
      'The audit part is not the whole log under a checkpoint signed by the device key.'
    );
  }
  const lines = jsonl.slice(0, -1).split('\n').slice(1);
  const records: ParsedBackup['audit'] = [];
  let range: CompactRange = EMPTY_RANGE;
  for (const line of lines) {
    const read = readRecord(JSON.parse(line) as unknown);
    if (!read.ok) return backupFailure('backup.audit', read.reason.message);
    const { seq, time, event, subject, details, prevHash, hash } = read.record;
    range = appendLeaf(range, leafHash(hashFromHex(hash)));
    records.push({ seq, time, event, subject, details, prevHash, hash, range });
  }
  return { ok: true, records, checkpoint: { size: verified.treeSize, root: verified.root, note } };
}

/** Each stored checkpoint must be signed by a known device key and name the restored chain's root. */
function checkStoredCheckpoints(
  checkpoints: readonly Row[],
  records: ParsedBackup['audit'],
  known: readonly BackupDeviceKey[]
): BackupFailure | null {
  for (const row of checkpoints) {
    const size = row.size as number;
    const bad = (why: string) =>
      backupFailure('backup.checkpoint', `The checkpoint at size ${size} ${why}.`);
    const at = records[size - 1];
    if (!at) return bad(`is beyond the ${records.length} audit records`);
    const root = toHex(rangeRoot(at.range));
    if (row.rootHash !== root)
      return bad('names another root than the audit records: the log was rewritten');
    const signed = known.some((key) => {
      const v = verifySignedCheckpoint(row.note as string, {
        publicKey: key.publicKey,
        name: key.name
      });
      return v.ok && v.checkpoint.size === size && bytesEqual(v.checkpoint.root, hashFromHex(root));
    });
    if (!signed) return bad('is not signed by a device key the backup names, over that root');
  }
  return null;
}
