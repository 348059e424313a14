/**
 * Reading the first line of an audit export (export.ts describes the format), and the failure
 * values every step of export verification (export-verify.ts) returns.
 */
import { fromBase64 } from '../bytes';
import { isUsablePublicKey } from '../ed25519';
import { parseJson } from '../json';
import type { JsonValue } from '../json';
import { reason } from '../verdict';
import { isNoteName } from './checkpoint';
import { isCount, isHashHex } from './digest';
import type { DeviceKeyInfo, ExportFailure, ExportKind } from './export';
import type { ChainLink } from './record';

/** The header line, checked: what the records below it must match. */
export interface Header {
  origin: string;
  deviceKey: DeviceKeyInfo;
  treeSize: number;
  kind: ExportKind;
  seqs: number[] | null;
  from: number;
  to: number;
  anchor: ChainLink | null;
}

export function readHeader(line: string, cut: boolean): (Header & { ok: true }) | ExportFailure {
  const bad = (why: string) => failure(null, 1, 'audit.export-header', why);
  if (line === '' && cut) return bad('the file is empty');
  const parsed = parseJson(line);
  if (!parsed.ok) return cut ? truncated(null, 1) : bad(`not JSON: ${parsed.message}`);
  const h = parsed.value;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return bad('not a JSON object');
  if (h.nightcoreAudit !== 1) {
    return failure(null, 1, 'audit.export-version', 'not a Night Core audit export version 1');
  }
  const filtered = Object.hasOwn(h, 'filtered');
  const keys = ['nightcoreAudit', 'origin', 'deviceKey', 'treeSize', 'anchor'];
  keys.push(...(filtered ? ['filtered', 'seqs'] : ['range']));
  const unknown = Object.keys(h).find((key) => !keys.includes(key));
  if (unknown !== undefined) return bad(`unexpected field "${unknown.slice(0, 40)}"`);
  const missing = keys.find((key) => !Object.hasOwn(h, key));
  if (missing !== undefined) return bad(`missing field "${missing}"`);
  const { origin, deviceKey, treeSize, anchor } = h;
  if (!isNoteName(origin)) return bad('origin: not a valid log name');
  if (!isCount(treeSize) || treeSize === 0) return bad('treeSize: not a positive integer');
  const key = readDeviceKey(deviceKey);
  if (key === null) return bad('deviceKey: not {name, publicKey: base64 Ed25519 key}');
  const base = { ok: true as const, origin, deviceKey: key, treeSize };
  if (filtered) {
    const seqs = h.seqs;
    if (h.filtered !== true || anchor !== null) return bad('filtered: must be true, anchor null');
    if (!Array.isArray(seqs) || seqs.length === 0 || !seqs.every(isCount)) {
      return bad('seqs: not a non-empty array of record numbers');
    }
    const list = seqs as number[];
    if (!list.every((seq, i) => seq < treeSize && (i === 0 || seq > list[i - 1]!))) {
      return bad(`seqs: not increasing record numbers below ${treeSize}`);
    }
    return {
      ...base,
      kind: 'filtered',
      seqs: list,
      from: list[0]!,
      to: list.at(-1)!,
      anchor: null
    };
  }
  const range = h.range;
  if (typeof range !== 'object' || range === null || Array.isArray(range)) {
    return bad('range: not {from, to}');
  }
  const { from, to } = range;
  if (Object.keys(range).length !== 2 || !isCount(from) || !isCount(to)) {
    return bad('range: not {from, to}');
  }
  if (from > to || to >= treeSize) return bad(`range: not 0 <= from <= to < ${treeSize}`);
  const link = readAnchor(anchor);
  if (link === undefined || (from === 0) !== (link === null) || (link && link.seq !== from - 1)) {
    return bad(`anchor: must be null for a range from 0, else {seq: ${from - 1}, hash}`);
  }
  const kind: ExportKind = from === 0 && to === treeSize - 1 ? 'full' : 'range';
  return { ...base, kind, seqs: null, from, to, anchor: link };
}

function readDeviceKey(value: JsonValue | undefined): DeviceKeyInfo | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { name, publicKey } = value;
  if (Object.keys(value).length !== 2 || !isNoteName(name) || typeof publicKey !== 'string') {
    return null;
  }
  try {
    const bytes = fromBase64(publicKey, 'deviceKey.publicKey');
    return isUsablePublicKey(bytes) ? { name, publicKey: bytes } : null;
  } catch {
    return null;
  }
}

/** The anchor as a link, null for null, undefined when malformed. */
function readAnchor(value: JsonValue | undefined): ChainLink | null | undefined {
  if (value === null) return null;
  if (typeof value !== 'object' || value === undefined || Array.isArray(value)) return undefined;
  const { seq, hash } = value;
  if (Object.keys(value).length !== 2 || !isCount(seq) || !isHashHex(hash)) return undefined;
  return { seq, hash };
}

export function truncated(seq: number | null, line: number): ExportFailure {
  const why = `the file was cut: line ${line} is incomplete (no final newline)`;
  return failure(seq, line, 'audit.export-truncated', why);
}

export function failure(
  seq: number | null,
  line: number,
  code: `audit.${string}`,
  message: string
): ExportFailure {
  return { ok: false, seq, line, reason: reason(code, message) };
}
