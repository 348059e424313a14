// The Audit page's pure helpers (src/lib/core/audit/present.ts): the verdict/free-text matcher,
// filter values, and the row texts, including rows edited by hand into shapes a record never has.
import { describe, expect, it } from 'vitest';
import {
  NO_FILTERS,
  activeFilters,
  isoTime,
  jsonText,
  localDate,
  matcher,
  parseLocalTime,
  subjectText,
  summaryText,
  verdictOf
} from '../../src/lib/core/audit/present';
import type { AuditRecord } from '../../src/lib/core/audit/record';

type Row = Pick<AuditRecord, 'event' | 'subject' | 'details'>;
const row = (over: Partial<Row> = {}): Row => ({
  event: 'verdict',
  subject: { moduleSha256: 'ab'.repeat(32), keyIds: ['cd'.repeat(32)], requestId: 'req-1' },
  details: { verdict: 'Trusted', name: 'hello.wasm', reasons: 2 },
  ...over
});
// A row edited by hand: details and subject of any shape.
const odd = (value: unknown) => value as never;

describe('matcher', () => {
  const match = (filters: Partial<typeof NO_FILTERS>, r: Row) =>
    matcher({ ...NO_FILTERS, ...filters })(r);

  it('matches everything without verdict or text', () => {
    expect(match({}, row())).toBe(true);
    expect(match({ event: 'run', keyId: 'ff' }, row())).toBe(true); // indexed: not its job
  });

  it('matches the verdict as a case-insensitive prefix of verdict/decision/outcome/result', () => {
    expect(match({ verdict: 'trust' }, row())).toBe(true);
    expect(match({ verdict: '  TRUSTED ' }, row())).toBe(true);
    expect(match({ verdict: 'rusted' }, row())).toBe(false);
    expect(match({ verdict: 'den' }, row({ details: { decision: 'denied' } }))).toBe(true);
    expect(match({ verdict: 'ok' }, row({ details: { outcome: 'ok' } }))).toBe(true);
    expect(match({ verdict: 'ok' }, row({ details: { result: 'OK' } }))).toBe(true);
    expect(match({ verdict: 'x' }, row({ details: {} }))).toBe(false);
    expect(match({ verdict: 'x' }, row({ details: odd(null) }))).toBe(false);
  });

  it('matches free text anywhere in the event, subject or details JSON', () => {
    expect(match({ text: 'HELLO.WASM' }, row())).toBe(true);
    expect(match({ text: 'req-1' }, row())).toBe(true);
    expect(match({ text: 'verdict' }, row({ details: {} }))).toBe(true);
    expect(match({ text: 'abab' }, row())).toBe(true);
    expect(match({ text: 'nowhere' }, row())).toBe(false);
  });

  it('needs both verdict and text when both are set', () => {
    expect(match({ verdict: 'trusted', text: 'hello' }, row())).toBe(true);
    expect(match({ verdict: 'denied', text: 'hello' }, row())).toBe(false);
    expect(match({ verdict: 'trusted', text: 'absent' }, row())).toBe(false);
  });

  it('does not throw on a BigInt in a hand-edited row', () => {
    expect(match({ text: '12n' }, row({ details: odd({ big: 12n }) }))).toBe(true);
  });
});

describe('filter values', () => {
  it('activeFilters keeps only the filters that are set', () => {
    expect(activeFilters({ ...NO_FILTERS })).toEqual({});
    expect(activeFilters({ ...NO_FILTERS, event: 'run', text: '  ' })).toEqual({ event: 'run' });
  });

  it('NO_FILTERS is frozen and blank', () => {
    expect(Object.isFrozen(NO_FILTERS)).toBe(true);
    expect(Object.values(NO_FILTERS).every((v) => v === '')).toBe(true);
  });

  it('parseLocalTime reads datetime-local values as local time', () => {
    expect(parseLocalTime('')).toBeNull();
    expect(parseLocalTime('   ')).toBeNull();
    expect(parseLocalTime('not a date')).toBeNull();
    expect(parseLocalTime('2025-03-04T05:06')).toBe(new Date(2025, 2, 4, 5, 6).getTime());
  });

  it('localDate is YYYY-MM-DD in local time', () => {
    expect(localDate(new Date(2025, 0, 5, 23, 59))).toBe('2025-01-05');
    expect(localDate(new Date(2025, 11, 31))).toBe('2025-12-31');
  });
});

describe('row texts', () => {
  it('verdictOf takes the first of verdict, decision, outcome, result that is a string', () => {
    expect(verdictOf(row())).toBe('Trusted');
    expect(verdictOf({ details: { verdict: 1, outcome: 'done', result: 'x' } })).toBe('done');
    expect(verdictOf({ details: {} })).toBeNull();
    expect(verdictOf({ details: odd(['verdict']) })).toBeNull();
    expect(verdictOf({ details: odd('Trusted') })).toBeNull();
  });

  it('subjectText shortens module, key and run ids', () => {
    expect(subjectText(row())).toBe(
      `module ${'ab'.repeat(6)} · key ${'cd'.repeat(6)} · request req-1`
    );
    expect(
      subjectText({
        subject: {
          keyIds: ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)],
          runId: 'r'.repeat(40),
          requestId: 'q'
        }
      })
    ).toBe(`key ${'1'.repeat(12)} +2 · run ${'r'.repeat(16)}`);
    expect(subjectText({ subject: {} })).toBe('');
  });

  it('subjectText survives a hand-edited subject', () => {
    expect(subjectText({ subject: odd(null) })).toBe('');
    expect(subjectText({ subject: odd([1, 2]) })).toBe('');
    expect(subjectText({ subject: odd({ moduleSha256: 5, keyIds: 'abc', runId: '' }) })).toBe('');
    expect(subjectText({ subject: odd({ keyIds: [7, 'ff'] }) })).toBe('');
  });

  it('summaryText lists the simple fields and cuts at the limit', () => {
    expect(summaryText(row())).toBe('verdict: Trusted, name: hello.wasm, reasons: 2');
    expect(
      summaryText({ details: { a: 1, nested: { b: 2 }, list: [1], none: null, c: true } })
    ).toBe('a: 1, c: true');
    const long = summaryText({ details: { text: 'x'.repeat(500), more: 'y' } }, 40);
    expect(long).toHaveLength(40);
    expect(long.endsWith('…')).toBe(true);
    expect(summaryText({ details: odd(null) })).toBe('');
    expect(summaryText({ details: odd('text') })).toBe('');
  });

  it('summaryText, subjectText and jsonText show hidden characters as escapes', () => {
    // A signed comment or a file name in a record must not reverse or hide text in the timeline.
    const details = { trustedComment: 'file:\u202egnp.exe', name: 'a\u2060b\u0085' };
    expect(summaryText({ details })).toBe(
      'trustedComment: file:\\u202egnp.exe, name: a\\u2060b\\u0085'
    );
    expect(subjectText({ subject: { runId: 'run\u2066x' } })).toBe('run run\\u2066x');
    const json = jsonText({ details }, 2);
    expect(json).not.toMatch(/[\u202e\u2060\u0085]/);
    expect(JSON.parse(json)).toEqual({ details });
    expect(json.split('\n')).toHaveLength(6);
  });

  it('jsonText shows BigInts and never throws', () => {
    expect(jsonText({ a: 1 })).toBe('{"a":1}');
    expect(jsonText({ a: 1 }, 2)).toBe('{\n  "a": 1\n}');
    expect(jsonText({ big: 10n })).toBe('{"big":"10n"}');
    expect(jsonText(undefined)).toBe('undefined');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(jsonText(cycle)).toBe('[object Object]');
  });

  it('isoTime formats valid epoch milliseconds only', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(Date.UTC(2025, 5, 1, 12))).toBe('2025-06-01T12:00:00.000Z');
    expect(isoTime(Number.NaN)).toBeNull();
    expect(isoTime(8.64e15 + 1)).toBeNull();
    expect(isoTime('0')).toBeNull();
    expect(isoTime(null)).toBeNull();
  });
});
