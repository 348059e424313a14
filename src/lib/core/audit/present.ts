/**
 * How the Audit page shows and searches stored records: filter values, the matcher for the filters
 * that need a record's content (verdict, free text), and the short texts of the timeline and the
 * detail view. Pure: stored rows may have been edited by hand, so nothing here trusts their shape
 * and nothing throws on an odd one.
 */
import { escapeHidden } from '../hidden-text';
import type { AuditRecord } from './record';

export interface AuditFilters {
  /** An event type, exactly; '' for any. */
  event: string;
  /** Text matched against a record's verdict, result or outcome (case-insensitive prefix). */
  verdict: string;
  /** A key id prefix (lowercase hex). */
  keyId: string;
  /** A module SHA-256 prefix (lowercase hex). */
  module: string;
  /** `datetime-local` values (local time), '' for open-ended. */
  from: string;
  to: string;
  /** Free text searched in each record's JSON (names, reasons, ids). */
  text: string;
}

export const NO_FILTERS: Readonly<AuditFilters> = Object.freeze({
  event: '',
  verdict: '',
  keyId: '',
  module: '',
  from: '',
  to: '',
  text: ''
});

/** The filters that are set (not blank), e.g. to record with an export. */
export function activeFilters(filters: AuditFilters): Partial<AuditFilters> {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v.trim() !== ''));
}

/** Parses a `datetime-local` value as local time; null when empty or invalid. */
export function parseLocalTime(value: string): number | null {
  if (value.trim() === '') return null;
  const time = new Date(value).getTime();
  return Number.isFinite(time) ? time : null;
}

/** The filters that need each row's content: verdict and free text. */
export function matcher(
  filters: Pick<AuditFilters, 'text' | 'verdict'>
): (row: Pick<AuditRecord, 'event' | 'subject' | 'details'>) => boolean {
  const text = filters.text.trim().toLowerCase();
  const verdict = filters.verdict.trim().toLowerCase();
  return (row) => {
    if (verdict && !verdictOf(row)?.toLowerCase().startsWith(verdict)) return false;
    if (text) {
      const haystack = jsonText([row.event, row.subject, row.details]).toLowerCase();
      if (!haystack.includes(text)) return false;
    }
    return true;
  };
}

/** A record's verdict, result or outcome, when its details carry one. */
export function verdictOf(row: Pick<AuditRecord, 'details'>): string | null {
  if (!isObject(row.details)) return null;
  const details = row.details as Record<string, unknown>;
  for (const field of ['verdict', 'decision', 'outcome', 'result']) {
    const value = details[field];
    if (typeof value === 'string') return value;
  }
  return null;
}

/**
 * JSON text of stored data, for search and display. A row edited by hand may hold what JSON cannot
 * (a BigInt, a cycle is impossible in IndexedDB but a BigInt is not): show it, do not throw.
 */
export function jsonText(value: unknown, indent?: number): string {
  let text: string;
  try {
    text =
      JSON.stringify(
        value,
        (_key, inner: unknown) => (typeof inner === 'bigint' ? `${inner}n` : inner),
        indent
      ) ?? String(value);
  } catch {
    text = String(value);
  }
  // JSON escapes C0 controls but not C1, bidi overrides or invisible marks: written as \u escapes
  // (still the same JSON), a record cannot reverse or hide text on the Audit page. The line breaks
  // of the indentation stay.
  return text.split('\n').map(escapeHidden).join('\n');
}

/** An epoch-milliseconds time as ISO 8601, or null when it is not a valid date. */
export function isoTime(time: unknown): string | null {
  if (typeof time !== 'number') return null;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A local calendar date as YYYY-MM-DD (for file names). */
export function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A short subject for a row: module, key and run ids, shortened. */
export function subjectText(row: Pick<AuditRecord, 'subject'>): string {
  // Stored rows are shown even when edited by hand: never trust their shape here.
  const subject = (isObject(row.subject) ? row.subject : {}) as Record<string, unknown>;
  const short = (value: unknown, length: number) =>
    typeof value === 'string' && value !== '' ? value.slice(0, length) : null;
  const parts: string[] = [];
  const module = short(subject.moduleSha256, 12);
  if (module) parts.push(`module ${module}`);
  const keyIds = Array.isArray(subject.keyIds) ? subject.keyIds : [];
  const key = short(keyIds[0], 12);
  if (key) parts.push(`key ${key}${keyIds.length > 1 ? ` +${keyIds.length - 1}` : ''}`);
  const run = short(subject.runId, 16);
  const request = short(subject.requestId, 16);
  if (run) parts.push(`run ${run}`);
  else if (request) parts.push(`request ${request}`);
  return escapeHidden(parts.join(' · '));
}

/** A one-line summary of a record's details: its first few simple fields. */
export function summaryText(row: Pick<AuditRecord, 'details'>, limit = 120): string {
  if (!isObject(row.details)) return '';
  const details = row.details as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(details)) {
    if (value === null || typeof value === 'object') continue;
    parts.push(`${escapeHidden(key)}: ${escapeHidden(String(value))}`);
    if (parts.join(', ').length > limit) break;
  }
  const text = parts.join(', ');
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
