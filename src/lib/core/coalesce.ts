/**
 * Coalescing for refreshes that many signals ask for at once (a burst of 20 runs sends some 80
 * change messages): at most one run of the task is in flight and at most one more is queued.
 * Every call made while a run is in flight shares the one queued run, which starts after them and
 * so sees whatever they were told about. An optional `pause` runs between a finished run and the
 * queued one, so a long burst costs one run per pause rather than one per gap between messages.
 * Pure: the caller supplies any timer, and nothing here touches the DOM.
 */

/** Calls `task` now, or once after the run in flight; resolves when that run has finished. */
export type Coalesced = () => Promise<void>;

export interface CoalesceOptions {
  /** Waited for before a queued run starts (e.g. a short timer); never before a first run. */
  pause?: () => Promise<void>;
}

/**
 * `task` should not reject (a rejection reaches only the callers of that run, and never blocks
 * the queue: the next run starts all the same).
 */
export function coalesce(task: () => Promise<void>, options: CoalesceOptions = {}): Coalesced {
  if (typeof task !== 'function') throw new TypeError('coalesce: task must be a function');
  const pause = options.pause ?? (() => Promise.resolve());
  if (typeof pause !== 'function')
    throw new TypeError('coalesce: options.pause must be a function');
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
      .then(pause)
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return start();
      });
    queued = next;
    return next;
  };
}
