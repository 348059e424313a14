/**
 * Data shaping for the pictures (docs/pictures.md): runs by day and outcome, histograms of
 * duration and peak memory, verdict reasons by code, pending ages, the risk gauge's geometry and
 * the review diff's capability and limit rows. Pure and DOM-free; every input is read defensively
 * (rows come from IndexedDB, which anyone with devtools can edit), and what cannot be placed is
 * counted as `skipped` rather than dropped silently or thrown on.
 */

/** Run statuses grouped into what a chart can tell apart; each group has a text label. */
export const OUTCOME_GROUPS = [
  'ok',
  'failed',
  'timeout',
  'cap',
  'stopped',
  'refused',
  'active'
] as const;
export type OutcomeGroup = (typeof OUTCOME_GROUPS)[number];

export const OUTCOME_LABELS: Record<OutcomeGroup, string> = {
  ok: 'exited',
  failed: 'trapped',
  timeout: 'timeout',
  cap: 'limit hit',
  stopped: 'stopped',
  refused: 'refused',
  active: 'running'
};

/** The run fields the charts read; anything else on the row is ignored. */
export interface RunPoint {
  startedAt: unknown;
  status?: unknown;
  outcome?: unknown;
  durationMs?: unknown;
  peakMemoryBytes?: unknown;
}

/** The request fields the charts read. */
export interface RequestPoint {
  state: unknown;
  createdAt: unknown;
  verdict?: { reasons?: readonly { code?: unknown }[] } | null;
  policy?: { reasons?: readonly { code?: unknown }[] } | null;
}

import { formatBytes } from './units';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Which outcome group a run's status (or legacy outcome text) falls into; null when unknown. */
export function outcomeGroup(run: RunPoint): OutcomeGroup | null {
  const status = typeof run.status === 'string' ? run.status : run.outcome;
  switch (status) {
    case 'exited':
      return 'ok';
    case 'trapped':
      return 'failed';
    case 'timeout':
      return 'timeout';
    case 'memory-cap':
    case 'output-cap':
      return 'cap';
    case 'killed':
    case 'interrupted':
      return 'stopped';
    case 'refused':
      return 'refused';
    case 'queued':
    case 'running':
      return 'active';
    default:
      return null;
  }
}

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of a time, shifted by `offsetMinutes` (Date#getTimezoneOffset: local = UTC - offset). */
export function dayKey(ms: number, offsetMinutes = 0): string {
  return new Date(ms - offsetMinutes * 60_000).toISOString().slice(0, 10);
}

export interface DayBucket {
  day: string;
  counts: Record<OutcomeGroup, number>;
  total: number;
}

export interface RunsByDay {
  days: DayBucket[];
  /** Runs placed in a day of the range shown. */
  count: number;
  /** Runs older than the range shown (or dated in the future). */
  outside: number;
  /** Runs with no usable start time or status. */
  skipped: number;
}

const zeroCounts = (): Record<OutcomeGroup, number> =>
  Object.fromEntries(OUTCOME_GROUPS.map((g) => [g, 0])) as Record<OutcomeGroup, number>;

/** The last `days` days ending on `now`'s day, every day present (zeros included), oldest first. */
export function runsByDay(
  runs: readonly RunPoint[],
  now: number,
  days = 14,
  offsetMinutes = 0
): RunsByDay {
  if (!finite(now)) throw new TypeError('now must be a finite number of milliseconds');
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw new RangeError('days must be an integer from 1 to 366');
  const buckets: DayBucket[] = [];
  const index = new Map<string, DayBucket>();
  for (let i = days - 1; i >= 0; i--) {
    const bucket = { day: dayKey(now - i * DAY_MS, offsetMinutes), counts: zeroCounts(), total: 0 };
    buckets.push(bucket);
    index.set(bucket.day, bucket);
  }
  let count = 0;
  let outside = 0;
  let skipped = 0;
  for (const run of runs) {
    const group = outcomeGroup(run);
    if (!finite(run.startedAt) || group === null) {
      skipped++;
      continue;
    }
    const bucket = index.get(dayKey(run.startedAt, offsetMinutes));
    if (!bucket) {
      outside++;
      continue;
    }
    bucket.counts[group]++;
    bucket.total++;
    count++;
  }
  return { days: buckets, count, outside, skipped };
}

export interface Bin {
  label: string;
  /** Inclusive lower edge, exclusive upper edge (Infinity for the last bin). */
  from: number;
  to: number;
  count: number;
}

export interface Histogram {
  bins: Bin[];
  count: number;
  /** Values that were missing, negative or not numbers. */
  skipped: number;
}

/** Counts each value into the bin `[edges[i], edges[i+1])`; the last bin is open-ended. */
export function histogram(
  values: readonly unknown[],
  edges: readonly number[],
  label: (from: number, to: number) => string
): Histogram {
  if (edges.length < 1 || edges.some((e, i) => !finite(e) || (i > 0 && e <= edges[i - 1]!)))
    throw new RangeError('edges must be finite and strictly increasing');
  const bins: Bin[] = edges.map((from, i) => {
    const to = edges[i + 1] ?? Infinity;
    return { label: label(from, to), from, to, count: 0 };
  });
  let count = 0;
  let skipped = 0;
  for (const v of values) {
    // Bins are few (six here): a backwards scan beats a binary search in clarity.
    const bin = finite(v) ? bins.findLast((b) => v >= b.from) : undefined;
    if (!bin) {
      skipped++;
      continue;
    }
    bin.count++;
    count++;
  }
  return { bins, count, skipped };
}

/** Run times span 1 ms to minutes: decades read better than equal widths. */
export const DURATION_EDGES = [0, 10, 100, 1_000, 10_000, 60_000];
const MIB = 1024 * 1024;
/** Peak memory from one 64 KiB page to the 4 GiB wasm32 ceiling, in factors of four. */
export const MEMORY_EDGES = [0, MIB, 4 * MIB, 16 * MIB, 64 * MIB, 256 * MIB];

/**
 * A short range label in one unit, the unit of the range's upper end, so six labels fit under
 * six bars: `< 10 ms`, `10–100 ms`, `0.1–1 s`, `≥ 60 s`.
 */
function rangeLabel(units: readonly [factor: number, name: string][]) {
  const pick = (n: number) => units.findLast(([f]) => n >= f) ?? units[0]!;
  const num = (n: number, f: number) => String(Number((n / f).toPrecision(3)));
  return (from: number, to: number) => {
    if (to === Infinity) {
      const [f, u] = pick(from);
      return `≥ ${num(from, f)} ${u}`;
    }
    const [f, u] = pick(to);
    return from === 0 ? `< ${num(to, f)} ${u}` : `${num(from, f)}–${num(to, f)} ${u}`;
  };
}

const MS_UNITS: [number, string][] = [
  [1, 'ms'],
  [1000, 's']
];
const MIB_UNITS: [number, string][] = [[MIB, 'MiB']];

export function durationHistogram(runs: readonly RunPoint[]): Histogram {
  return histogram(
    runs.map((r) => r.durationMs),
    DURATION_EDGES,
    rangeLabel(MS_UNITS)
  );
}

export function memoryHistogram(runs: readonly RunPoint[]): Histogram {
  return histogram(
    runs.map((r) => r.peakMemoryBytes),
    MEMORY_EDGES,
    rangeLabel(MIB_UNITS)
  );
}

export interface Bar {
  label: string;
  count: number;
}

/** Each reason code (verdict and policy) with how many requests carry it, most common first. */
export function reasonCounts(requests: readonly RequestPoint[], top = 8): Bar[] {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const codes = new Set<string>();
    for (const list of [r.verdict?.reasons, r.policy?.reasons]) {
      if (!Array.isArray(list)) continue;
      for (const reason of list)
        if (reason && typeof reason.code === 'string' && reason.code) codes.add(reason.code);
    }
    for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  const bars = [...counts].map(([label, count]) => ({ label, count }));
  bars.sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
  if (bars.length <= top) return bars;
  const rest = bars.slice(top - 1).reduce((n, b) => n + b.count, 0);
  return [
    ...bars.slice(0, top - 1),
    { label: `${bars.length - top + 1} other codes`, count: rest }
  ];
}

export const PENDING_AGE_LABELS = ['< 1 h', '1–24 h', '1–7 d', '> 7 d'] as const;

/** Pending requests by how long they have waited; a future `createdAt` (clock skew) counts as new. */
export function pendingAges(requests: readonly RequestPoint[], now: number): Bar[] {
  const bars = PENDING_AGE_LABELS.map((label) => ({ label, count: 0 }));
  for (const r of requests) {
    if (r.state !== 'pending' || !finite(r.createdAt)) continue;
    const hours = (now - r.createdAt) / 3_600_000;
    bars[hours < 1 ? 0 : hours < 24 ? 1 : hours < 24 * 7 ? 2 : 3]!.count++;
  }
  return bars;
}

/** Sum of counts (what a figure's data-count reports). */
export const total = (bars: readonly { count: number }[]): number =>
  bars.reduce((n, b) => n + b.count, 0);

/** Round tick marks from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, target = 4): number[] {
  if (!finite(max) || max <= 0) return [0, 1];
  const raw = max / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  // Counts are whole: a step of 0.5 would label half a run.
  const step = Number.isInteger(max) ? Math.max(1, nice) : nice;
  const ticks = [0];
  while (topTick(ticks) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

/** The last (largest) tick: the value the plot's full height stands for. */
export const topTick = (ticks: readonly number[]): number => ticks[ticks.length - 1] ?? 1;

/** Maps `value` in [0, max] onto [0, length], clamped; 0 when max is not positive. */
export function scale(value: number, max: number, length: number): number {
  if (!finite(value) || !finite(max) || max <= 0) return 0;
  return Math.min(length, Math.max(0, (value / max) * length));
}

export type RiskBand = 'low' | 'medium' | 'high';

/** The band a score reads as; the thresholds are the gauge's, not the policy's. */
export function riskBand(score: number): RiskBand {
  return score >= 60 ? 'high' : score >= 30 ? 'medium' : 'low';
}

/** A clamped integer score 0-100 (a stored row may hold anything). */
export function clampScore(score: unknown): number {
  return finite(score) ? Math.round(Math.min(100, Math.max(0, score))) : 0;
}

/**
 * The SVG path of a half-circle arc from the left (0) to the angle of `score` (100 = right end),
 * centred at (cx, cy) with radius r; empty for 0.
 */
export function gaugeArc(score: number, cx: number, cy: number, r: number): string {
  const s = clampScore(score);
  if (s === 0) return '';
  const angle = Math.PI * (1 - s / 100);
  const x = cx + r * Math.cos(angle);
  const y = cy - r * Math.sin(angle);
  const f = (n: number) => Number(n.toFixed(2));
  return `M ${f(cx - r)} ${f(cy)} A ${r} ${r} 0 0 1 ${f(x)} ${f(y)}`;
}

export type CapabilityChange = 'added' | 'removed' | 'kept';

export interface CapabilityRow {
  name: string;
  change: CapabilityChange;
  /** Asked for by this version. */
  requested: boolean;
  /** Granted on approval as the policy stands. */
  granted: boolean;
  /** Held by the previous approved version. */
  previous: boolean;
}

/**
 * One row per capability either version asks for, in `order`. The previous set is rebuilt from the
 * review diff: this version's, minus what it added, plus what it removed.
 */
export function capabilityRows(
  order: readonly string[],
  requested: readonly string[],
  granted: readonly string[],
  added: readonly string[],
  removed: readonly string[]
): CapabilityRow[] {
  const previous = new Set([...requested.filter((c) => !added.includes(c)), ...removed]);
  const names = order.filter((c) => requested.includes(c) || previous.has(c));
  return names.map((name) => ({
    name,
    change: added.includes(name) ? 'added' : removed.includes(name) ? 'removed' : 'kept',
    requested: requested.includes(name),
    granted: granted.includes(name),
    previous: previous.has(name)
  }));
}

export interface LimitPair {
  name: string;
  /** Asked by each version; null = it asked nothing, so the policy default applied. */
  before: number | null;
  after: number | null;
  /** What the bars draw: the value, or the policy default where none was asked. */
  beforeValue: number;
  afterValue: number;
  changed: boolean;
}

/**
 * Previous vs this version per limit. `current` holds this version's requests and the policy
 * defaults; `changed` (the review diff) holds the previous value wherever it differed.
 */
export function limitPairs(
  current: readonly { name: string; requested: number | null; policyDefault: number }[],
  changed: readonly { name: string; before: number | null; after: number | null }[]
): LimitPair[] {
  return current.map((row) => {
    const change = changed.find((c) => c.name === row.name);
    const before = change ? change.before : row.requested;
    return {
      name: row.name,
      before,
      after: row.requested,
      beforeValue: before ?? row.policyDefault,
      afterValue: row.requested ?? row.policyDefault,
      changed: change !== undefined
    };
  });
}

/** A limit's value in its unit, short enough for a bar label. */
export function formatLimit(name: string, value: number): string {
  if (name === 'timeoutMs') return value >= 1000 ? `${value / 1000} s` : `${value} ms`;
  if (name === 'memoryMiB') return `${value} MiB`;
  return finite(value) && value >= 0 ? formatBytes(value) : String(value);
}
