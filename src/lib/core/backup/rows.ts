/**
 * Store rows as JSONL lines and back, with every line validated for its store.
 *
 * A row is JSON as the store holds it, except byte fields, which are standard base64 strings:
 * keys.publicKey, runs.stdout, runs.stderr and runs.files[].bytes. Module bytes are not rows
 * (they are files named by their SHA-256). A line is strict JSON (no duplicate keys) holding one
 * object; a row missing its key field, or with a field of the wrong type, is `backup.row`, naming
 * the part and the line.
 */
import { fromBase64, toBase64 } from '../bytes';
import { isUsablePublicKey } from '../ed25519';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../json';
import { isCount, isHashHex } from '../audit/digest';
import { checkKeyLabel, MAX_LABEL_LENGTH } from '../keys/label';
import { visibleLine } from '../hidden-text';
import { RUN_STATUSES } from '../run-status';
import { readDeviceKey } from './manifest';
import {
  DATA_META_NAMES,
  PREVIOUS_DEVICE_KEYS,
  backupFailure,
  rowsPath,
  type BackupDeviceKey,
  type BackupFailure,
  type RowStore
} from './format';

/** A decoded row: JSON values, with byte fields as Uint8Array. */
export type Row = Record<string, unknown>;

/** The field that keys each store (IndexedDB keyPath). */
export const ROW_KEY: Record<RowStore, string> = {
  keys: 'id',
  policies: 'version',
  requests: 'id',
  runs: 'id',
  checkpoints: 'size',
  meta: 'name',
  modules: 'sha256'
};

/** An earlier device key of this profile, kept so the checkpoints it signed still verify. */
export interface PreviousDeviceKey extends BackupDeviceKey {
  /** When a restore replaced it (epoch ms). */
  retiredAt: number;
}

const TRUST = new Set(['auto', 'review', 'revoked']);
const REQUEST_STATES = new Set([
  'pending',
  'auto-approved',
  'rejected',
  'approved',
  'denied',
  'running',
  'done'
]);
const ACTIONS = new Set(['approve', 'pin', 'deny', 'block']);
const META_NAMES: ReadonlySet<string> = new Set(DATA_META_NAMES);
const RUN_MODES: ReadonlySet<string> = new Set(['lockdown', 'review', 'auto']);
const RUN_STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);

/** One row as its JSONL line (no newline). Throws TypeError for a value JSON cannot carry. */
export function encodeRow(store: RowStore, row: Row): string {
  const copy: Row = { ...row };
  if (store === 'keys') copy.publicKey = bytesField(row.publicKey, 'publicKey');
  if (store === 'modules') delete copy.bytes;
  if (store === 'runs') {
    for (const field of ['stdout', 'stderr'] as const) {
      if (row[field] !== undefined) copy[field] = bytesField(row[field], field);
    }
    if (Array.isArray(row.files)) {
      copy.files = row.files.map((file: { path: unknown; bytes: unknown }) => ({
        path: file.path,
        bytes: bytesField(file.bytes, 'files[].bytes')
      }));
    }
  }
  assertJson(copy, `${store} row ${String(row[ROW_KEY[store]])}`);
  return JSON.stringify(copy);
}

function bytesField(value: unknown, what: string): string {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} is not bytes`);
  return toBase64(value);
}

/** Throws TypeError if `value` holds anything but plain JSON (undefined object fields are dropped). */
function assertJson(value: unknown, where: string, depth = 0): void {
  if (depth > 48) throw new TypeError(`${where}: nested too deeply`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${where}: a number JSON cannot carry`);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === undefined) throw new TypeError(`${where}: undefined in an array`);
      assertJson(item, where, depth + 1);
    }
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) {
      if (item !== undefined) assertJson(item, where, depth + 1);
    }
    return;
  }
  throw new TypeError(`${where}: holds a ${typeof value} JSON cannot carry`);
}

/** Decodes a whole JSONL part (every line ends with "\n"). Never throws. */
export function decodeRows(
  store: RowStore,
  text: string
): { ok: true; rows: Row[] } | BackupFailure {
  const path = rowsPath(store);
  if (text === '') return { ok: true, rows: [] };
  if (!text.endsWith('\n')) {
    return backupFailure('backup.row', `${path} was cut: its last line has no newline.`);
  }
  const lines = text.slice(0, -1).split('\n');
  const rows: Row[] = [];
  const seen = new Set<unknown>();
  for (const [i, line] of lines.entries()) {
    const where = `${path} line ${i + 1}`;
    const parsed = parseJson(line);
    if (!parsed.ok)
      return backupFailure('backup.row', `${where}: not valid JSON (${parsed.message}).`);
    if (!isJsonObject(parsed.value)) return backupFailure('backup.row', `${where}: not an object.`);
    const row = readRow(store, parsed.value);
    if (typeof row === 'string') return backupFailure('backup.row', `${where}: ${row}.`);
    const key = row[ROW_KEY[store]];
    if (seen.has(key)) {
      return backupFailure(
        'backup.duplicate',
        `${where}: a second row with ${ROW_KEY[store]} ${JSON.stringify(key)}.`
      );
    }
    seen.add(key);
    rows.push(row);
  }
  return { ok: true, rows };
}

type Check = (value: JsonValue | undefined) => boolean;
const str: Check = (v) => typeof v === 'string';
const nonEmpty: Check = (v) => typeof v === 'string' && v.length > 0;
const count: Check = (v) => isCount(v);
const countOrNull: Check = (v) => v === null || isCount(v);
const hash: Check = (v) => isHashHex(v);
const hashOrNull: Check = (v) => v === null || isHashHex(v);
const hashOrEmpty: Check = (v) => v === '' || isHashHex(v);
const strings: Check = (v) => Array.isArray(v) && v.every((item) => typeof item === 'string');
const object: Check = (v) => isJsonObject(v);
const base64: Check = (v) => typeof v === 'string';
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const bool: Check = (v) => typeof v === 'boolean';
const int: Check = (v) => Number.isSafeInteger(v);
const array: Check = (v) => Array.isArray(v);
const VERDICT_KINDS = new Set(['verified', 'rejected', 'unsigned', 'untrusted']);
/** What the Inbox and Review pages read from a verdict: shaped so no page trips over it. */
const verdict: Check = (v) =>
  isJsonObject(v) &&
  bool(v.ok) &&
  typeof v.kind === 'string' &&
  VERDICT_KINDS.has(v.kind) &&
  array(v.reasons) &&
  array(v.notes) &&
  strings(v.signers);

/** Required (and optional) fields per store and the checks on them. */
const FIELDS: Record<RowStore, Record<string, Check>> = {
  keys: {
    id: hash,
    publicKey: base64,
    label: str,
    trust: (v) => typeof v === 'string' && TRUST.has(v),
    format: str,
    nativeId: str,
    scope: strings,
    capabilities: optional((v) => v === null || strings(v)),
    addedAt: count
  },
  // The policy JSON text. (A computed key: the dependency-rule check reads a bare `document:`
  // as the browser global.)
  policies: { version: (v) => isCount(v) && v > 0, createdAt: count, ['document']: str },
  requests: {
    id: nonEmpty,
    state: (v) => typeof v === 'string' && REQUEST_STATES.has(v),
    createdAt: count,
    channel: str,
    moduleSha256: hashOrEmpty,
    manifestSha256: hashOrNull,
    fileName: str,
    name: optional(orNull(str)),
    version: optional(orNull(str)),
    format: optional(str),
    size: optional(orNull(count)),
    verdict,
    manifest: optional(orNull(object)),
    policy: optional(object),
    decision: optional(object)
  },
  runs: {
    id: nonEmpty,
    requestId: nonEmpty,
    moduleSha256: str,
    startedAt: count,
    endedAt: countOrNull,
    outcome: optional(orNull(str)),
    status: optional((v) => typeof v === 'string' && RUN_STATUS_SET.has(v)),
    name: optional(orNull(str)),
    version: optional(orNull(str)),
    exitCode: optional(orNull(int)),
    message: optional(orNull(str)),
    runSha256: optional(hashOrNull),
    limits: optional(object),
    capabilities: optional(strings),
    durationMs: optional(orNull((v) => typeof v === 'number' && v >= 0)),
    peakMemoryBytes: optional(countOrNull),
    stdoutBytes: optional(count),
    stderrBytes: optional(count),
    truncated: optional(bool),
    stdout: optional(base64),
    stderr: optional(base64),
    files: optional(array),
    refusedCalls: optional(object),
    receipt: optional(str)
  },
  checkpoints: {
    size: (v) => isCount(v) && v > 0,
    rootHash: hash,
    note: str,
    createdAt: count,
    exportedAt: countOrNull
  },
  meta: { name: (v) => typeof v === 'string' && META_NAMES.has(v), value: () => true },
  modules: { sha256: hash, size: count, addedAt: count }
};

const DECISION_FIELDS: Record<string, Check> = {
  action: (v) => typeof v === 'string' && ACTIONS.has(v),
  decidedAt: count,
  moduleSha256: hashOrEmpty,
  manifestSha256: hashOrNull,
  limits: object,
  capabilities: strings,
  statement: str,
  signature: str,
  deviceKeyId: hash
};

/** Validates one parsed line for `store`; the decoded row, or why not. */
function readRow(store: RowStore, value: JsonObject): Row | string {
  const fields = FIELDS[store];
  for (const [field, check] of Object.entries(fields)) {
    if (!check(value[field])) return `${field} is missing or not what a ${store} row holds`;
  }
  if (store === 'meta' && !Object.hasOwn(value, 'value')) return 'value is missing';
  if (store === 'modules' && Object.keys(value).some((k) => !Object.hasOwn(fields, k))) {
    return 'a module row holds only sha256, size and addedAt';
  }
  const row: Row = { ...value };
  try {
    if (store === 'keys') {
      const key = fromBase64(value.publicKey as string, 'publicKey');
      if (!isUsablePublicKey(key)) return 'publicKey is not a usable Ed25519 key';
      row.publicKey = key;
      // The rule for pinning, without losing a backup over it: a label pinned before that rule
      // existed comes back with each hidden character written as a visible marker (U+202E).
      const label = checkKeyLabel(value.label as string);
      row.label = label.ok
        ? label.label
        : visibleLine(value.label as string).slice(0, MAX_LABEL_LENGTH);
    }
    if (store === 'runs') {
      for (const field of ['stdout', 'stderr'] as const) {
        if (value[field] !== undefined) row[field] = fromBase64(value[field] as string, field);
      }
      if (value.files !== undefined) {
        row.files = (value.files as JsonValue[]).map((file) => {
          if (!isJsonObject(file) || !str(file.path) || !base64(file.bytes)) {
            throw new TypeError('files[] is not [{path, bytes}]');
          }
          return { path: file.path, bytes: fromBase64(file.bytes as string, 'files[].bytes') };
        });
      }
    }
  } catch (error) {
    return error instanceof Error ? error.message : 'a byte field is not base64';
  }
  if (store === 'requests' && value.decision !== undefined) {
    const decision = value.decision as JsonObject;
    for (const [field, check] of Object.entries(DECISION_FIELDS)) {
      if (!check(decision[field])) return `decision.${field} is missing or malformed`;
    }
  }
  if (store === 'meta' && value.name === PREVIOUS_DEVICE_KEYS) {
    const keys = readPreviousDeviceKeys(value.value);
    if (typeof keys === 'string') return `previous-device-keys: ${keys}`;
  } else if (store === 'meta') {
    const ok =
      value.name === 'run-mode'
        ? typeof value.value === 'string' && RUN_MODES.has(value.value)
        : typeof value.value === 'boolean';
    if (!ok) return `${String(value.name)} holds a value that setting never has`;
  }
  return row;
}

/** The meta `previous-device-keys` value: [{id, name, publicKey: base64, retiredAt}]. */
export function readPreviousDeviceKeys(value: JsonValue | undefined): PreviousDeviceKey[] | string {
  if (!Array.isArray(value)) return 'not an array';
  const keys: PreviousDeviceKey[] = [];
  for (const [i, item] of value.entries()) {
    if (!isJsonObject(item) || !isCount(item.retiredAt)) return `item ${i} has no retiredAt`;
    const { retiredAt, ...rest } = item;
    const key = readDeviceKey(rest);
    if (typeof key === 'string') return `item ${i} ${key}`;
    keys.push({ ...key, retiredAt });
  }
  return keys;
}

export function encodePreviousDeviceKeys(keys: readonly PreviousDeviceKey[]): JsonValue {
  return keys.map((key) => ({
    id: key.id,
    name: key.name,
    publicKey: toBase64(key.publicKey),
    retiredAt: key.retiredAt
  }));
}
