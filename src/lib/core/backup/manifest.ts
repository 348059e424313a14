/**
 * The backup's part manifest: writing it, reading it strictly, and its device-key signature.
 *
 * manifest.json is one JSON object with exactly the keys format, created, app, deviceKey
 * ({id, name, publicKey: base64}) and parts ([{path, sha256, size, rows}], sorted by path, no
 * duplicates). Unknown or missing keys, duplicate keys, wrong types, unsafe paths: `backup.manifest`;
 * another format string: `backup.format`. The signature (manifest.sig) is Ed25519 over
 * UTF-8(BACKUP_SIGNATURE_DOMAIN) followed by the manifest bytes exactly as stored.
 */
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../bytes';
import { isUsablePublicKey, verifyStrict } from '../ed25519';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../json';
import { parseRfc3339 } from '../time';
import { isNoteName } from '../audit/checkpoint';
import { isCount, isHashHex } from '../audit/digest';
import {
  BACKUP_FORMAT,
  BACKUP_SIGNATURE_DOMAIN,
  MAX_MANIFEST_BYTES,
  backupFailure,
  type BackupDeviceKey,
  type BackupFailure,
  type BackupManifest,
  type BackupPart
} from './format';

/** The manifest's bytes as written (two-space indented JSON and a final newline). */
export function encodeManifest(manifest: BackupManifest): Uint8Array {
  const value = {
    format: manifest.format,
    created: manifest.created,
    app: manifest.app,
    deviceKey: encodeDeviceKey(manifest.deviceKey),
    parts: [...manifest.parts]
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map(({ path, sha256, size, rows }) => ({ path, sha256, size, rows }))
  };
  return utf8(`${JSON.stringify(value, null, 2)}\n`);
}

export function encodeDeviceKey(key: BackupDeviceKey): JsonObject {
  return { id: key.id, name: key.name, publicKey: toBase64(key.publicKey) };
}

/** The bytes the device key signs: the domain tag, then the manifest bytes. */
export function signedMessage(manifestBytes: Uint8Array): Uint8Array {
  return concatBytes(utf8(BACKUP_SIGNATURE_DOMAIN), manifestBytes);
}

/** manifest.sig's text for a 64-byte signature. */
export function encodeSignature(signature: Uint8Array): Uint8Array {
  return utf8(`${toBase64(signature)}\n`);
}

/**
 * Whether manifest.sig holds a valid signature by `publicKey` over the manifest. The key comes
 * from the manifest itself, so this proves integrity, not origin: the UI shows its fingerprint to
 * compare with the one the user kept (docs/backup.md, "What the signature proves").
 */
export function verifyManifestSignature(
  signatureFile: Uint8Array,
  manifestBytes: Uint8Array,
  publicKey: Uint8Array
): BackupFailure | null {
  let signature: Uint8Array;
  try {
    const text = fromUtf8(signatureFile, 'manifest.sig');
    if (!text.endsWith('\n') || text.indexOf('\n') !== text.length - 1) throw new Error('lines');
    signature = fromBase64(text.slice(0, -1), 'manifest.sig');
  } catch {
    return backupFailure(
      'backup.signature',
      'manifest.sig is not one line of base64 (a 64-byte Ed25519 signature).'
    );
  }
  if (!verifyStrict(signature, signedMessage(manifestBytes), publicKey)) {
    return backupFailure(
      'backup.signature',
      'The manifest signature does not verify under the device key it names: the manifest was changed after it was signed.'
    );
  }
  return null;
}

const bad = (why: string) => backupFailure('backup.manifest', `manifest.json: ${why}.`);
const PART_PATH_RE =
  /^(?:[a-z]+\.jsonl|audit\/log\.(?:jsonl|checkpoint)|audit\/device\.vkey|modules\/[0-9a-f]{64})$/;

/** Reads manifest.json strictly. Never throws. */
export function parseManifest(
  bytes: Uint8Array
): { ok: true; manifest: BackupManifest } | BackupFailure {
  if (bytes.length > MAX_MANIFEST_BYTES) return bad(`over ${MAX_MANIFEST_BYTES} bytes`);
  let text: string;
  try {
    text = fromUtf8(bytes, 'manifest.json');
  } catch {
    return bad('not UTF-8');
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return bad(`not valid JSON (${parsed.message})`);
  const m = parsed.value;
  if (!isJsonObject(m)) return bad('not a JSON object');
  if (m.format !== BACKUP_FORMAT) {
    const seen = typeof m.format === 'string' ? JSON.stringify(m.format.slice(0, 60)) : 'none';
    return backupFailure(
      'backup.format',
      `Not a Night Core backup: format is ${seen}, expected "${BACKUP_FORMAT}".`
    );
  }
  const keyProblem = exactKeys(m, ['format', 'created', 'app', 'deviceKey', 'parts']);
  if (keyProblem) return bad(keyProblem);
  if (typeof m.created !== 'string' || parseRfc3339(m.created) === null) {
    return bad('created is not an RFC 3339 time');
  }
  if (typeof m.app !== 'string' || m.app.length > 64) return bad('app is not a version string');
  const deviceKey = readDeviceKey(m.deviceKey);
  if (typeof deviceKey === 'string') return bad(`deviceKey ${deviceKey}`);
  if (!Array.isArray(m.parts)) return bad('parts is not an array');
  const parts: BackupPart[] = [];
  for (const [i, value] of m.parts.entries()) {
    const part = readPart(value);
    if (typeof part === 'string') return bad(`parts[${i}] ${part}`);
    const previous = parts.at(-1);
    if (previous && previous.path >= part.path) {
      return bad(`parts[${i}] is out of order or a duplicate (${JSON.stringify(part.path)})`);
    }
    parts.push(part);
  }
  return {
    ok: true,
    manifest: { format: BACKUP_FORMAT, created: m.created, app: m.app, deviceKey, parts }
  };
}

/** A device key object ({id, name, publicKey}) or why it is not one. */
export function readDeviceKey(value: JsonValue | undefined): BackupDeviceKey | string {
  if (!isJsonObject(value)) return 'is not an object';
  const problem = exactKeys(value, ['id', 'name', 'publicKey']);
  if (problem) return problem;
  const { id, name, publicKey } = value;
  if (!isHashHex(id)) return 'id is not 64 lowercase hex digits';
  if (!isNoteName(name)) return 'name is not a key name';
  if (typeof publicKey !== 'string') return 'publicKey is not base64';
  let key: Uint8Array;
  try {
    key = fromBase64(publicKey, 'publicKey');
  } catch {
    return 'publicKey is not base64';
  }
  if (!isUsablePublicKey(key)) return 'publicKey is not a usable Ed25519 key';
  return { id, name, publicKey: key };
}

function readPart(value: JsonValue): BackupPart | string {
  if (!isJsonObject(value)) return 'is not an object';
  const problem = exactKeys(value, ['path', 'sha256', 'size', 'rows']);
  if (problem) return problem;
  const { path, sha256, size, rows } = value;
  if (typeof path !== 'string' || !PART_PATH_RE.test(path)) {
    return `path ${JSON.stringify(String(path).slice(0, 80))} is not a backup part`;
  }
  if (!isHashHex(sha256)) return 'sha256 is not 64 lowercase hex digits';
  if (!isCount(size)) return 'size is not a byte count';
  if (rows !== null && !isCount(rows)) return 'rows is not a count or null';
  if ((rows === null) !== !path.endsWith('.jsonl')) {
    return 'rows must be a count for a .jsonl part and null otherwise';
  }
  return { path, sha256, size, rows };
}

/** Null when `object` has exactly `keys`, else which key is unexpected or missing. */
export function exactKeys(object: JsonObject, keys: readonly string[]): string | null {
  const unknown = Object.keys(object).find((key) => !keys.includes(key));
  if (unknown !== undefined)
    return `has an unexpected field ${JSON.stringify(unknown.slice(0, 40))}`;
  const missing = keys.find((key) => !Object.hasOwn(object, key));
  return missing === undefined ? null : `is missing the field "${missing}"`;
}
