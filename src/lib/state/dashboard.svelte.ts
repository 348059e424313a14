/**
 * The Overview's pictures: reads every request and run row from IndexedDB and shapes them with
 * core/charts.ts. Read-only; it writes nothing and audits nothing (looking is not an event).
 *
 * Live while the Overview is shown: it listens to the two change signals the app already sends,
 * the request queue's (pending.svelte.ts: intake, decisions, a run starting, demo load/removal)
 * and the runs' (runs.svelte.ts: a run queued, started, ended or found interrupted). Both are
 * BroadcastChannels, which also deliver to other channel objects in the sending tab, so one
 * listener hears this tab and every other. Refreshes are coalesced (core/coalesce.ts).
 */
import {
  durationHistogram,
  memoryHistogram,
  pendingAges,
  reasonCounts,
  runsByDay,
  total,
  type Bar,
  type Histogram,
  type RunsByDay
} from '$lib/core/charts';
import { listRequests } from '$lib/storage/requests-store';
import { listRuns } from '$lib/storage/runs-store';
import { coalesce } from '$lib/core/coalesce';
import { database } from './database';
import { REQUESTS_CHANNEL } from './pending.svelte';
import { RUNS_CHANNEL } from './runs.svelte';

export type DashboardLoad = 'loading' | 'ready' | 'error';

export interface DashboardData {
  requests: number;
  runs: number;
  byDay: RunsByDay;
  durations: Histogram;
  memory: Histogram;
  reasons: Bar[];
  reasonCount: number;
  pending: Bar[];
  pendingCount: number;
}

/**
 * The least time between the end of one read and the start of a queued one. Each read takes every
 * request and run row (never their output: it lives in `runOutputs` since schema v3, and no
 * picture needs it), so a long burst of runs costs at most one read per gap; the figures lag a
 * change by at most this plus one read.
 */
export const REFRESH_GAP_MS = 250;

/** How many days the runs-over-time chart covers. */
export const DASHBOARD_DAYS = 14;

export class DashboardState {
  load = $state<DashboardLoad>('loading');
  error = $state<string | null>(null);
  data = $state.raw<DashboardData | null>(null);
  /** Reads finished since the page loaded (shown as `data-refreshes`: coalescing is visible). */
  refreshes = $state(0);
  /** Refreshes asked for and not yet done (in flight or queued): `data-refreshing`. */
  waiting = $state(0);
  #watchers = 0;
  #channels: BroadcastChannel[] = [];
  #refresh = coalesce(
    async () => {
      // A refresh queued before the Overview went away has nobody to show it to.
      if (this.#watchers > 0) await this.refresh();
    },
    { pause: () => new Promise((resolve) => setTimeout(resolve, REFRESH_GAP_MS)) }
  );

  /**
   * Reads now and again on every change signal until the returned function is called (on
   * unmount). Nothing is read while no Overview is mounted.
   */
  watch(): () => void {
    this.#watchers += 1;
    if (this.#watchers === 1 && typeof BroadcastChannel === 'function') {
      this.#channels = [REQUESTS_CHANNEL, RUNS_CHANNEL].map((name) => {
        const channel = new BroadcastChannel(name);
        channel.addEventListener('message', () => this.#ask());
        return channel;
      });
    }
    this.#ask();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.#watchers -= 1;
      if (this.#watchers > 0) return;
      for (const channel of this.#channels) channel.close();
      this.#channels = [];
    };
  }

  #ask(): void {
    this.waiting += 1;
    const done = () => void (this.waiting -= 1);
    this.#refresh().then(done, done);
  }

  async refresh(now = Date.now()): Promise<void> {
    try {
      const db = await database();
      const [requests, runs] = await Promise.all([listRequests(db), listRuns(db)]);
      const reasons = reasonCounts(requests);
      const pending = pendingAges(requests, now);
      this.data = {
        requests: requests.length,
        runs: runs.length,
        byDay: runsByDay(runs, now, DASHBOARD_DAYS, new Date(now).getTimezoneOffset()),
        durations: durationHistogram(runs),
        memory: memoryHistogram(runs),
        reasons,
        reasonCount: total(reasons),
        pending,
        pendingCount: total(pending)
      };
      this.error = null;
      this.load = 'ready';
      this.refreshes += 1;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.load = 'error';
    }
  }
}

export const dashboard = new DashboardState();
