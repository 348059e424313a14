/**
 * How a run stands or ended. `queued` and `running` while it lives; the worker reports `exited`,
 * `trapped`, `timeout`, `memory-cap` or `output-cap`; the page decides `timeout` (watchdog),
 * `killed` (Stop), `interrupted` (the page went away mid-run) and `refused` (never started: the
 * stored bytes no longer match the approval, or a deny rule now holds).
 */
export type RunStatus =
  | 'queued'
  | 'running'
  | 'exited'
  | 'trapped'
  | 'timeout'
  | 'memory-cap'
  | 'output-cap'
  | 'killed'
  | 'interrupted'
  | 'refused';

export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'exited',
  'trapped',
  'timeout',
  'memory-cap',
  'output-cap',
  'killed',
  'interrupted',
  'refused'
];
