/**
 * The Overview's pictures: reads every request and run once from IndexedDB and shapes them with
 * core/charts.ts. Read-only; it writes nothing and audits nothing (looking is not an event).
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
import { database } from './database';

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

/** How many days the runs-over-time chart covers. */
export const DASHBOARD_DAYS = 14;

export class DashboardState {
  load = $state<DashboardLoad>('loading');
  error = $state<string | null>(null);
  data = $state.raw<DashboardData | null>(null);

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
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.load = 'error';
    }
  }
}

export const dashboard = new DashboardState();
