/**
 * The hash chain (docs/audit-log.md): verifyChain checks a run of records (each one's hash, seq
 * and link to the one before), and the reason builders it shares with the export verifier
 * (export-verify.ts), so a broken chain is reported the same way wherever it is found.
 */
import { reason } from '../verdict';
import type { Reason } from '../verdict';
import { hashRecordText } from './digest';
import { GENESIS_HASH, isChainLink, readRecord } from './record';
import type { AuditRecord, ChainLink } from './record';

export type ChainResult =
  | { ok: true; count: number; head: ChainLink | null; notes: Reason[] }
  | { ok: false; seq: number; reason: Reason };

/**
 * Verifies a run of records: each one's hash, its seq (consecutive), and its link to the one
 * before. Without an anchor the run must start at genesis (seq 0); with one, right after it.
 * Reports the FIRST seq that fails and why (the seq the chain expected at that position):
 * `audit.record-malformed`, `audit.record-hash` (edited), `audit.record-missing` (removed),
 * `audit.record-order` (reordered), `audit.record-repeat` (a seq again), `audit.record-link`
 * (prevHash does not match: a record before it was replaced, or the chain was spliced).
 * A time earlier than the previous record's is a note (`audit.time-backwards`): clocks change.
 */
export function verifyChain(
  records: readonly AuditRecord[],
  anchor: ChainLink | null = null
): ChainResult {
  if (!Array.isArray(records)) throw new TypeError('records must be an array');
  if (anchor !== null && !isChainLink(anchor)) {
    throw new TypeError(
      'anchor must be null or {seq: non-negative integer, hash: 64 lowercase hex}'
    );
  }
  const first = anchor === null ? 0 : anchor.seq + 1;
  const notes = new TimeNotes();
  let prevHash = anchor === null ? GENESIS_HASH : anchor.hash;
  let prevTime = -1;
  for (let i = 0; i < records.length; i++) {
    const expected = first + i;
    const read = readRecord(records[i]);
    if (!read.ok) return { ok: false, seq: expected, reason: read.reason };
    const { record, text } = read;
    const problem =
      hashMismatch(record, hashRecordText(text), expected) ??
      (record.seq === expected
        ? null
        : misplacedReason(expected, record.seq, appearsAfter(records, i, expected))) ??
      linkProblem(record, prevHash, i === 0 && anchor === null);
    if (problem !== null) return { ok: false, seq: expected, reason: problem };
    if (record.time < prevTime) notes.add(record.seq, prevTime, record.time);
    prevHash = record.hash;
    prevTime = record.time;
  }
  const last = records.length === 0 ? anchor : records[records.length - 1]!;
  const head = last === null ? null : { seq: last.seq, hash: last.hash };
  return { ok: true, count: records.length, head, notes: notes.list() };
}

/**
 * `audit.record-hash` when the record's content hashes to `actual` (lowercase hex) and not to its
 * own `hash`, else null. `expected` is the seq the chain expected at this position.
 */
export function hashMismatch(record: AuditRecord, actual: string, expected: number): Reason | null {
  if (actual === record.hash) return null;
  const claims = record.seq === expected ? '' : ` (it claims seq ${record.seq})`;
  return reason(
    'audit.record-hash',
    `record ${expected}${claims} was changed after it was written: its content hashes to ` +
      `${actual}, but its hash says ${record.hash}`
  );
}

/** `audit.record-link` when record.prevHash is not the hash of the record before it, else null. */
export function linkProblem(
  record: AuditRecord,
  prevHash: string,
  genesis: boolean
): Reason | null {
  if (record.prevHash === prevHash) return null;
  if (genesis) {
    return reason(
      'audit.record-link',
      `record ${record.seq} should start the chain (prevHash all zeros), but its prevHash is ` +
        `${record.prevHash}: records before it were removed`
    );
  }
  return reason(
    'audit.record-link',
    `record ${record.seq} does not follow the record before it: its prevHash is ` +
      `${record.prevHash}, the previous record's hash is ${prevHash} (a record before it was ` +
      `replaced, or records were spliced)`
  );
}

/** Why the record with seq `found` sits where seq `expected` should be. */
export function misplacedReason(
  expected: number,
  found: number,
  expectedAppearsLater: boolean
): Reason {
  if (found > expected) {
    return expectedAppearsLater
      ? reason(
          'audit.record-order',
          `record ${expected} comes after record ${found}: the records were reordered`
        )
      : reason(
          'audit.record-missing',
          `record ${expected} is missing: the next record present is ${found}`
        );
  }
  return reason(
    'audit.record-repeat',
    `expected record ${expected} but found record ${found} again: a record was repeated or replayed`
  );
}

/** Notes for times that go backwards: the first 100 one by one, then a count. */
export class TimeNotes {
  static readonly MAX = 100;
  #notes: Reason[] = [];
  #more = 0;

  add(seq: number, before: number, now: number): void {
    if (this.#notes.length >= TimeNotes.MAX) {
      this.#more++;
      return;
    }
    this.#notes.push(
      reason(
        'audit.time-backwards',
        `record ${seq} is dated ${now - before} ms before the record preceding it (the clock ` +
          `changed); not an error`
      )
    );
  }

  list(): Reason[] {
    if (this.#more === 0) return this.#notes;
    return [
      ...this.#notes,
      reason('audit.time-backwards', `${this.#more} more records go back in time`)
    ];
  }
}

/** Whether seq `expected` sits somewhere after position i (only looked for on failure). */
function appearsAfter(records: readonly AuditRecord[], i: number, expected: number): boolean {
  for (let j = i + 1; j < records.length; j++) {
    const candidate = records[j] as unknown;
    if (typeof candidate === 'object' && candidate !== null) {
      if ((candidate as { seq?: unknown }).seq === expected) return true;
    }
  }
  return false;
}
