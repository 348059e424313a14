/**
 * Coalescing for refreshes that many signals ask for at once (a burst of 20 runs ending sends 60
 * change messages): at most one run of the task is in flight and at most one more is queued.
 * Every call made while a run is in flight shares the one queued run, which starts after them and
 * so sees whatever they were told about. Pure: no timers, no DOM.
 */

/** Calls `task` now, or once after the run in flight; resolves when that run has finished. */
export type Coalesced = () => Promise<void>;

/**
 * `task` should not reject (a rejection reaches only the callers of that run, and never blocks
 * the queue: the next run starts all the same).
 */
export function coalesce(task: () => Promise<void>): Coalesced {
  if (typeof task !== 'function') throw new TypeError('coalesce: task must be a function');
  let inFlight: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const start = (): Promise<void> => {
    const run = Promise.resolve()
      .then(task)
      .finally(() => {
        if (inFlight === run) inFlight = null;
      });
    inFlight = run;
    return run;
  };
  return () => {
    if (queued !== null) return queued;
    if (inFlight === null) return start();
    const next = inFlight
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return start();
      });
    queued = next;
    return next;
  };
}
