import { describe, expect, it } from 'vitest';
import {
  capabilityRows,
  clampScore,
  dayKey,
  durationHistogram,
  formatLimit,
  gaugeArc,
  histogram,
  limitPairs,
  memoryHistogram,
  niceTicks,
  outcomeGroup,
  pendingAges,
  reasonCounts,
  riskBand,
  runsByDay,
  scale,
  total,
  type RunPoint
} from '../../src/lib/core/charts';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const H = 3_600_000;
const D = 24 * H;
const MIB = 1024 * 1024;

describe('outcomeGroup', () => {
  it.each([
    ['exited', 'ok'],
    ['trapped', 'failed'],
    ['timeout', 'timeout'],
    ['memory-cap', 'cap'],
    ['output-cap', 'cap'],
    ['killed', 'stopped'],
    ['interrupted', 'stopped'],
    ['refused', 'refused'],
    ['running', 'active'],
    ['queued', 'active'],
    ['bogus', null],
    [42, null]
  ])('status %s -> %s', (status, group) => {
    expect(outcomeGroup({ startedAt: 0, status })).toBe(group);
  });

  it('reads the legacy outcome text when there is no status', () => {
    expect(outcomeGroup({ startedAt: 0, outcome: 'timeout' })).toBe('timeout');
  });
});

describe('runsByDay', () => {
  const runs: RunPoint[] = [
    { startedAt: NOW, status: 'exited' },
    { startedAt: NOW - H, status: 'timeout' },
    { startedAt: NOW - D, status: 'exited' },
    { startedAt: NOW - 20 * D, status: 'exited' },
    { startedAt: NOW + 3 * D, status: 'exited' },
    { startedAt: 'yesterday', status: 'exited' },
    { startedAt: NOW, status: 'no-such-status' },
    { startedAt: Number.NaN, status: 'exited' }
  ];
  const result = runsByDay(runs, NOW, 7);

  it('has every day of the window, oldest first, ending today', () => {
    expect(result.days.map((d) => d.day)).toEqual([
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-05',
      '2026-12-06'
    ]);
  });

  it('counts by day and outcome, and says what it could not place', () => {
    const today = result.days[6]!;
    expect(today.counts.ok).toBe(1);
    expect(today.counts.timeout).toBe(1);
    expect(today.total).toBe(2);
    expect(result.days[5]!.counts.ok).toBe(1);
    expect(result.count).toBe(3);
    expect(result.outside).toBe(2);
    expect(result.skipped).toBe(3);
    expect(total(result.days.map((d) => ({ count: d.total })))).toBe(result.count);
  });

  it('shifts days by the time-zone offset', () => {
    // 23:30 UTC is the next day at UTC+1 (offset -60).
    const late = Date.UTC(2026, 11, 6, 23, 30);
    expect(dayKey(late)).toBe('2026-12-06');
    expect(dayKey(late, -60)).toBe('2026-12-07');
  });

  it.each([
    [0, RangeError],
    [1.5, RangeError],
    [400, RangeError]
  ])('refuses days=%s', (days, error) => {
    expect(() => runsByDay([], NOW, days)).toThrow(error);
  });

  it('refuses a non-finite now', () => {
    expect(() => runsByDay([], Number.NaN)).toThrow(TypeError);
  });
});

describe('histograms', () => {
  it.each([
    [0, '< 10 ms'],
    [9.9, '< 10 ms'],
    [10, '10–100 ms'],
    [999, '0.1–1 s'],
    [1000, '1–10 s'],
    [59_999, '10–60 s'],
    [60_000, '≥ 60 s'],
    [1e9, '≥ 60 s']
  ])('duration %s ms falls in %s', (ms, label) => {
    const h = durationHistogram([{ startedAt: 0, durationMs: ms }]);
    expect(h.bins.find((b) => b.count === 1)?.label).toBe(label);
    expect(h.count).toBe(1);
  });

  it.each([
    [65_536, '< 1 MiB'],
    [MIB, '1–4 MiB'],
    [17 * MIB, '16–64 MiB'],
    [4096 * MIB, '≥ 256 MiB']
  ])('peak memory %s bytes falls in %s', (bytes, label) => {
    const h = memoryHistogram([{ startedAt: 0, peakMemoryBytes: bytes }]);
    expect(h.bins.find((b) => b.count === 1)?.label).toBe(label);
  });

  it('skips missing, negative and non-numeric values and counts them', () => {
    const h = durationHistogram([
      { startedAt: 0, durationMs: null },
      { startedAt: 0 },
      { startedAt: 0, durationMs: -5 },
      { startedAt: 0, durationMs: '12' },
      { startedAt: 0, durationMs: Infinity },
      { startedAt: 0, durationMs: 12 }
    ]);
    expect(h.count).toBe(1);
    expect(h.skipped).toBe(5);
    expect(total(h.bins)).toBe(1);
  });

  it.each([[[]], [[0, 0]], [[5, 1]], [[0, Number.NaN]]])('refuses edges %j', (edges) => {
    expect(() => histogram([], edges, String)).toThrow(RangeError);
  });
});

describe('reasonCounts', () => {
  it('counts each code once per request, verdict and policy together, most common first', () => {
    const bars = reasonCounts([
      {
        state: 'rejected',
        createdAt: 0,
        verdict: { reasons: [{ code: 'sig.bad' }, { code: 'sig.bad' }] },
        policy: { reasons: [{ code: 'policy.unsigned' }] }
      },
      { state: 'pending', createdAt: 0, verdict: { reasons: [{ code: 'sig.bad' }] } },
      { state: 'pending', createdAt: 0, verdict: null, policy: { reasons: [{ code: 7 }] } },
      { state: 'pending', createdAt: 0, verdict: { reasons: 'oops' as never } }
    ]);
    expect(bars).toEqual([
      { label: 'sig.bad', count: 2 },
      { label: 'policy.unsigned', count: 1 }
    ]);
  });

  it('folds the tail into one bar so the chart stays small', () => {
    const requests = ['a', 'b', 'c', 'd'].map((code) => ({
      state: 'rejected',
      createdAt: 0,
      verdict: { reasons: [{ code }] }
    }));
    const bars = reasonCounts(requests, 3);
    expect(bars.map((b) => b.label)).toEqual(['a', 'b', '2 other codes']);
    expect(total(bars)).toBe(4);
  });
});

describe('pendingAges', () => {
  it.each([
    [NOW + H, '< 1 h'],
    [NOW - 59 * 60_000, '< 1 h'],
    [NOW - H, '1–24 h'],
    [NOW - D, '1–7 d'],
    [NOW - 7 * D, '> 7 d']
  ])('created at %s -> %s', (createdAt, label) => {
    const bars = pendingAges([{ state: 'pending', createdAt }], NOW);
    expect(bars.find((b) => b.count === 1)?.label).toBe(label);
  });

  it('counts only pending requests with a time', () => {
    const bars = pendingAges(
      [
        { state: 'approved', createdAt: NOW },
        { state: 'pending', createdAt: 'now' },
        { state: 'pending', createdAt: NOW }
      ],
      NOW
    );
    expect(total(bars)).toBe(1);
  });
});

describe('scales and ticks', () => {
  it.each([
    [1, [0, 1]],
    [3, [0, 1, 2, 3]],
    [7, [0, 2, 4, 6, 8]],
    [10, [0, 5, 10]],
    [120, [0, 50, 100, 150]],
    [0, [0, 1]],
    [Number.NaN, [0, 1]],
    [0.3, [0, 0.1, 0.2, 0.3]]
  ])('niceTicks(%s) = %j', (max, ticks) => {
    expect(niceTicks(max)).toEqual(ticks);
  });

  it.each([
    [5, 10, 100, 50],
    [20, 10, 100, 100],
    [-1, 10, 100, 0],
    [5, 0, 100, 0],
    [Number.NaN, 10, 100, 0]
  ])('scale(%s, %s, %s) = %s', (v, max, len, out) => {
    expect(scale(v, max, len)).toBe(out);
  });
});

describe('risk gauge', () => {
  it.each([
    [0, 'low', 0],
    [29, 'low', 29],
    [30, 'medium', 30],
    [60, 'high', 60],
    [250, 'high', 100],
    [-3, 'low', 0],
    ['90', 'low', 0]
  ])('score %s reads %s (clamped %s)', (score, band, clamped) => {
    expect(clampScore(score)).toBe(clamped);
    expect(riskBand(clampScore(score))).toBe(band);
  });

  it.each([
    [0, ''],
    [50, 'M 10 50 A 40 40 0 0 1 50 10'],
    [100, 'M 10 50 A 40 40 0 0 1 90 50']
  ])('arc for %s', (score, path) => {
    expect(gaugeArc(score, 50, 50, 40)).toBe(path);
  });
});

describe('formatLimit', () => {
  it.each([
    ['timeoutMs', 500, '500 ms'],
    ['timeoutMs', 5000, '5 s'],
    ['memoryMiB', 64, '64 MiB'],
    ['outputBytes', 1_048_576, '1 MiB'],
    ['fsBytes', 16_777_216, '16 MiB'],
    ['fsBytes', -1, '-1']
  ])('%s %s -> %s', (name, value, text) => {
    expect(formatLimit(name, value)).toBe(text);
  });
});

describe('review diff rows', () => {
  const order = ['args', 'env', 'clock', 'random', 'fs-read', 'fs-write'];

  it('marks added, removed and kept capabilities, rebuilding the previous set', () => {
    const rows = capabilityRows(order, ['args', 'clock'], ['args'], ['clock'], ['env']);
    expect(rows).toEqual([
      { name: 'args', change: 'kept', requested: true, granted: true, previous: true },
      { name: 'env', change: 'removed', requested: false, granted: false, previous: true },
      { name: 'clock', change: 'added', requested: true, granted: false, previous: false }
    ]);
  });

  it('pairs each limit with its previous value, defaults standing in for nothing asked', () => {
    const pairs = limitPairs(
      [
        { name: 'timeoutMs', requested: 500, policyDefault: 5000 },
        { name: 'memoryMiB', requested: null, policyDefault: 64 },
        { name: 'outputBytes', requested: 100, policyDefault: 1000 }
      ],
      [
        { name: 'timeoutMs', before: null, after: 500 },
        { name: 'memoryMiB', before: 128, after: null }
      ]
    );
    expect(pairs).toEqual([
      {
        name: 'timeoutMs',
        before: null,
        after: 500,
        beforeValue: 5000,
        afterValue: 500,
        changed: true
      },
      {
        name: 'memoryMiB',
        before: 128,
        after: null,
        beforeValue: 128,
        afterValue: 64,
        changed: true
      },
      {
        name: 'outputBytes',
        before: 100,
        after: 100,
        beforeValue: 100,
        afterValue: 100,
        changed: false
      }
    ]);
  });
});
