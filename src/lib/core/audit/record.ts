/**
 * Audit records and their canonical encoding (docs/audit-log.md is the contract; this comment and
 * it agree). chain.ts verifies the hash chain; digest.ts holds the SHA-256 and hex helpers.
 *
 * A record is { seq, time, event, subject, details, prevHash, hash }. Its hash is the lowercase hex
 * SHA-256 of its canonical encoding, which covers every field but `hash`:
 *
 *   {"seq":S,"time":T,"event":"E","subject":{…},"details":{…},"prevHash":"P"}
 *
 * - UTF-8 JSON with no whitespace anywhere; the six keys always in exactly this order.
 * - `seq`: 0-based position in the log. `time`: epoch milliseconds. Both non-negative safe integers.
 * - `event`: one of AUDIT_EVENTS. `prevHash`: the previous record's hash; genesis = 64 zeros.
 * - `subject`: keys in the order requestId, moduleSha256, keyIds, runId; an absent key is omitted
 *   (a key present with `undefined`, or an empty keyIds, is refused: one record, one encoding).
 *   moduleSha256 and each key id are 64 lowercase hex; requestId and runId are non-empty strings.
 * - `details`: a JSON object. Object keys at every depth are sorted by UTF-16 code units (the
 *   default Array.prototype.sort order); array order is kept; nesting at most 32 levels deep.
 * - Numbers: safe integers only (|n| <= 2^53 - 1), written as String(n) does. Fractions, NaN,
 *   infinities and -0 are refused, so no number has two spellings.
 * - Strings and keys: escaped exactly as JSON.stringify escapes them (`"`, `\`, and control
 *   characters; \b \f \n \r \t short forms, others \u00xx lowercase; everything else, including
 *   non-ASCII, as itself). A string with a lone surrogate is refused (it has no UTF-8 encoding).
 * Values of any other kind (undefined, bigint, functions, Dates, Maps, class instances, sparse
 * arrays) are refused. createRecord refuses with a TypeError, so an unencodable record never enters
 * the log; readRecord and verifyChain report a stored one as `audit.record-malformed`.
 */
import type { JsonObject } from '../json';
import { reason } from '../verdict';
import type { Reason } from '../verdict';
import { hashRecordText, isCount, isHashHex, utf8Bytes } from './digest';

/** Every kind of audit record (the AuditEvent union is derived from this list). */
// prettier-ignore
export const AUDIT_EVENTS = Object.freeze([
  'intake', 'verdict', 'decision', 'key.added', 'key.changed', 'key.revoked', 'policy.version',
  'run.queued', 'run.started', 'run.finished', 'run.killed', 'run.interrupted', 'run.stop',
  'run.stop-all', 'audit.export', 'audit.import', 'audit.check', 'audit.checkpoint',
  'settings.changed', 'device.key-created', 'key.generated', 'bundle.signed'
] as const);

/** 'intake' | 'verdict' | 'decision' | 'key.added' | … | 'device.key-created'. */
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

const EVENTS: ReadonlySet<string> = new Set(AUDIT_EVENTS);

export function isAuditEvent(value: unknown): value is AuditEvent {
  return typeof value === 'string' && EVENTS.has(value);
}

/** What a record is about. Every field is optional; absent fields are omitted from the encoding. */
export interface AuditSubject {
  requestId?: string;
  /** Lowercase hex SHA-256 of the module bytes. */
  moduleSha256?: string;
  /** Canonical key ids (lowercase hex SHA-256 of the raw public key); never empty when present. */
  keyIds?: string[];
  runId?: string;
}

/** Event-specific data: a JSON object holding only safe integers, strings, booleans and null. */
export type AuditDetails = JsonObject;

export interface AuditRecordInput {
  /** Epoch milliseconds, a non-negative integer. */
  time: number;
  event: AuditEvent;
  subject: AuditSubject;
  details: AuditDetails;
}

export interface AuditRecord extends AuditRecordInput {
  /** 0-based position in the log. */
  seq: number;
  /** The previous record's hash; GENESIS_HASH for seq 0. */
  prevHash: string;
  /** Lowercase hex SHA-256 of encodeRecord(this record without `hash`). */
  hash: string;
}

/** A record before it is hashed: what the canonical encoding covers. */
export type UnhashedAuditRecord = Omit<AuditRecord, 'hash'>;

/** A position in the chain: the seq and hash of one record (e.g. the last one verified). */
export interface ChainLink {
  seq: number;
  hash: string;
}

/** The prevHash of record 0. */
export const GENESIS_HASH = '0'.repeat(64);

/** Deepest nesting allowed inside `details` (so an exported line stays within parseJson's 64). */
export const MAX_DETAILS_DEPTH = 32;

export type ReadRecordResult =
  { ok: true; record: AuditRecord; text: string } | { ok: false; reason: Reason };

/** The canonical encoding of a record (without its hash) as UTF-8. Throws TypeError if invalid. */
export function encodeRecord(record: UnhashedAuditRecord): Uint8Array {
  return utf8Bytes(encodeRecordText(record));
}

/** The canonical encoding as a JS string (the JSON text encodeRecord turns into UTF-8). */
export function encodeRecordText(record: UnhashedAuditRecord): string {
  try {
    return encodeUnhashed(record);
  } catch (error) {
    if (error instanceof EncodeProblem) throw new TypeError(`audit record: ${error.message}`);
    throw error;
  }
}

/** The record hash: lowercase hex SHA-256 of encodeRecord(record). Throws TypeError if invalid. */
export function hashRecord(record: UnhashedAuditRecord): string {
  return hashRecordText(encodeRecordText(record));
}

/**
 * Makes the next record after `prev` (null: the first record, seq 0, prevHash = GENESIS_HASH).
 * The subject and details are copied in canonical form (details keys sorted), so later changes to
 * the input cannot change the record. Throws TypeError for input that cannot be encoded.
 */
export function createRecord(prev: ChainLink | null, input: AuditRecordInput): AuditRecord {
  if (prev !== null && !isChainLink(prev)) {
    throw new TypeError('prev must be null or {seq: non-negative integer, hash: 64 lowercase hex}');
  }
  if (typeof input !== 'object' || input === null) throw new TypeError('input must be an object');
  const body: UnhashedAuditRecord = {
    seq: prev === null ? 0 : prev.seq + 1,
    time: input.time,
    event: input.event,
    subject: input.subject,
    details: input.details,
    prevHash: prev === null ? GENESIS_HASH : prev.hash
  };
  const text = encodeRecordText(body);
  // Parsing the canonical text back is the canonical deep copy (sorted keys, no undefined).
  const record = JSON.parse(text) as AuditRecord;
  record.hash = hashRecordText(text);
  return record;
}

/**
 * Validates a value that claims to be an AuditRecord (from storage or a parsed export line) and
 * returns its canonical text. Fields other than the seven of AuditRecord are ignored here.
 * Does not check the hash against the content: compare digestRecordText(text) with record.hash.
 */
export function readRecord(value: unknown): ReadRecordResult {
  let text: string;
  try {
    text = encodeUnhashed(value);
  } catch (error) {
    if (!(error instanceof EncodeProblem)) throw error;
    return { ok: false, reason: reason('audit.record-malformed', error.message) };
  }
  const hash = (value as { hash?: unknown }).hash;
  if (!isHashHex(hash)) {
    return {
      ok: false,
      reason: reason('audit.record-malformed', 'hash: not 64 lowercase hex digits')
    };
  }
  return { ok: true, record: value as AuditRecord, text };
}

/**
 * Any JSON value in the canonical encoding the record `details` use (keys sorted by UTF-16 code
 * units at every depth, safe integers only, strings escaped as JSON.stringify does, no lone
 * surrogates, at most MAX_DETAILS_DEPTH levels). Shared by run receipts. Throws TypeError.
 */
export function encodeCanonicalJson(value: unknown): string {
  PATH.length = 0;
  PATH.push('value');
  try {
    return encodeValue(value, 1);
  } catch (error) {
    if (error instanceof EncodeProblem) throw new TypeError(`canonical JSON: ${error.message}`);
    throw error;
  }
}

export function isChainLink(value: unknown): value is ChainLink {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, hash } = value as { seq?: unknown; hash?: unknown };
  return isCount(seq) && isHashHex(hash);
}

// ---------------------------------------------------------------------------------------------
// Encoding

class EncodeProblem extends Error {}

function problem(message: string): never {
  throw new EncodeProblem(message);
}

const SUBJECT_KEYS: ReadonlySet<string> = new Set(['requestId', 'moduleSha256', 'keyIds', 'runId']);
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function encodeUnhashed(value: unknown): string {
  if (!isPlainObject(value)) problem('the record is not an object');
  const record = value as Record<string, unknown>;
  const seq = record.seq;
  if (!isCount(seq)) problem(`seq: ${describe(seq)} is not a non-negative integer`);
  const time = record.time;
  if (!isCount(time)) problem(`time: ${describe(time)} is not a non-negative integer`);
  const event = record.event;
  if (!isAuditEvent(event)) problem(`event: ${describe(event)} is not an audit event`);
  const subject = encodeSubject(record.subject);
  const details = record.details;
  if (!isPlainObject(details)) problem('details: not a JSON object');
  PATH.length = 0;
  PATH.push('details');
  const detailsText = encodeValue(details, 1);
  const prevHash = record.prevHash;
  if (!isHashHex(prevHash)) problem('prevHash: not 64 lowercase hex digits');
  return (
    `{"seq":${seq},"time":${time},"event":"${event}","subject":${subject},` +
    `"details":${detailsText},"prevHash":"${prevHash}"}`
  );
}

function encodeSubject(value: unknown): string {
  if (!isPlainObject(value)) problem('subject: not an object');
  const subject = value as Record<string, unknown>;
  for (const key of Object.keys(subject)) {
    if (!SUBJECT_KEYS.has(key)) problem(`subject.${key}: not a subject field`);
  }
  let out = '';
  if (Object.hasOwn(subject, 'requestId')) {
    out += ',"requestId":' + subjectString(subject.requestId, 'requestId');
  }
  if (Object.hasOwn(subject, 'moduleSha256')) {
    if (!isHashHex(subject.moduleSha256)) problem('subject.moduleSha256: not 64 lowercase hex');
    out += `,"moduleSha256":"${subject.moduleSha256}"`;
  }
  if (Object.hasOwn(subject, 'keyIds')) {
    const ids = subject.keyIds;
    if (!Array.isArray(ids) || ids.length === 0) {
      problem('subject.keyIds: not a non-empty array');
    }
    let list = '';
    for (let i = 0; i < ids.length; i++) {
      if (!isHashHex(ids[i])) problem(`subject.keyIds[${i}]: not 64 lowercase hex`);
      list += (i === 0 ? '"' : ',"') + (ids[i] as string) + '"';
    }
    out += `,"keyIds":[${list}]`;
  }
  if (Object.hasOwn(subject, 'runId')) {
    out += ',"runId":' + subjectString(subject.runId, 'runId');
  }
  return out === '' ? '{}' : '{' + out.slice(1) + '}';
}

function subjectString(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') problem(`subject.${key}: not a non-empty string`);
  PATH.length = 0;
  PATH.push(`subject.${key}`);
  return encodeString(value);
}

// Where the encoder is inside details, for messages only (a stack, not a string per key).
const PATH: (string | number)[] = [];
const here = () =>
  PATH.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .slice(1);

function encodeString(value: string): string {
  if (LONE_SURROGATE.test(value)) problem(`${here()}: the string has a lone surrogate`);
  return JSON.stringify(value);
}

function encodeValue(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
        problem(`${here()}: ${describe(value)} is not a safe integer`);
      }
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth > MAX_DETAILS_DEPTH) problem(`${here()}: nested deeper than ${MAX_DETAILS_DEPTH}`);
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          PATH.push(i);
          if (!(i in value)) problem(`${here()}: a hole in a sparse array`);
          if (i > 0) out += ',';
          out += encodeValue(value[i], depth + 1);
          PATH.pop();
        }
        return out + ']';
      }
      if (!isPlainObject(value)) problem(`${here()}: not a plain object`);
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        PATH.push(key);
        if (i > 0) out += ',';
        out += encodeString(key) + ':' + encodeValue(object[key], depth + 1);
        PATH.pop();
      }
      return out + '}';
    }
    default:
      return problem(`${here()}: a ${typeof value} cannot be encoded`);
  }
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (value === null) return 'null';
  return `a ${typeof value}`;
}
