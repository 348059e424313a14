/**
 * The page's side of one run: hand the worker its `start`, check every message it sends back,
 * stream output, and end the run one way or another: the worker's own `end`, the watchdog at the
 * deadline, the user's stop, or a worker that crashed or broke the protocol. Whatever happens,
 * the worker is terminated exactly once and `done` settles exactly once.
 *
 * Written over a minimal worker interface so the same host drives a browser Worker and Node's
 * worker_threads in the unit tests.
 */
import { readWorkerMessage, type PreparedModule, type RunEnd, type StartMessage } from './protocol';

/** Preparing (hashing, compiling) a module of any allowed size must end within this. */
export const PREPARE_TIMEOUT_MS = 60_000;

export interface RunWorker {
  post(message: StartMessage, transfer?: Transferable[]): void;
  onMessage(listener: (data: unknown) => void): void;
  onError(listener: (message: string) => void): void;
  terminate(): void;
}

export type HostStatus = RunEnd['status'] | 'timeout' | 'killed' | 'refused';

export interface RunResult {
  status: HostStatus;
  /** The worker's report when it ended the run itself; null when the page ended it. */
  end: RunEnd | null;
  message: string | null;
  /** Milliseconds from posting `start` to the end, measured by the page. */
  durationMs: number;
  /** Milliseconds from the deadline to the recorded timeout (kill latency), when it timed out. */
  lateMs: number | null;
  /** What the worker compiled (when the page sent bytes), for the page's cache. */
  prepared: PreparedModule | null;
  /** For `refused`: the reason code (`module.digest-mismatch`, …). */
  code: string | null;
}

export interface RunHandle {
  done: Promise<RunResult>;
  /** Kills the run now (the user's Stop); a no-op once it ended. */
  /** Ends the run as `killed`; `message` says why (the user's stop unless told otherwise). */
  stop(message?: string): void;
}

export interface HostOptions {
  onOutput(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  /** Grace after the deadline for the worker's own deadline check to report first. */
  graceMs?: number;
}

export function startRun(worker: RunWorker, start: StartMessage, options: HostOptions): RunHandle {
  const began = performance.now();
  const timeoutMs = start.grant.limits.timeoutMs;
  // The run's clock starts when the module is ready: hashing and compiling are the page's work.
  let deadline = Number.POSITIVE_INFINITY;
  const maxOutput = start.grant.limits.outputBytes;
  const caps = { outputBytes: maxOutput, fsBytes: start.grant.limits.fsBytes };
  let received = 0;
  let prepared: PreparedModule | null = null;
  let settle: (result: RunResult) => void = () => {};
  let ended = false;
  const done = new Promise<RunResult>((resolve) => (settle = resolve));
  let watchdog: ReturnType<typeof setTimeout> | undefined;

  const finish = (
    status: HostStatus,
    end: RunEnd | null,
    message: string | null,
    code: string | null = null
  ) => {
    if (ended) return;
    ended = true;
    clearTimeout(watchdog);
    worker.terminate();
    const now = performance.now();
    settle({
      status,
      end,
      message,
      durationMs: now - began,
      lateMs: status === 'timeout' ? Math.max(0, now - deadline) : null,
      prepared,
      code
    });
  };

  const arm = () => {
    clearTimeout(watchdog);
    deadline = performance.now() + timeoutMs;
    const fireAt = deadline + (options.graceMs ?? 0);
    // Timers may fire a fraction of a millisecond early against performance.now(); a run is
    // never cut short of its limit, so an early timer waits out the remainder.
    const check = () => {
      const early = fireAt - performance.now();
      if (early > 0) watchdog = setTimeout(check, Math.ceil(early));
      else finish('timeout', null, `The run passed its ${timeoutMs} ms limit and was stopped.`);
    };
    watchdog = setTimeout(check, timeoutMs + (options.graceMs ?? 0));
  };
  if (start.module) arm();
  else {
    watchdog = setTimeout(
      () => finish('trapped', null, `Preparing the module took over ${PREPARE_TIMEOUT_MS} ms.`),
      PREPARE_TIMEOUT_MS
    );
  }

  worker.onMessage((data) => {
    if (ended) return;
    const message = readWorkerMessage(data, caps);
    if (message === null) {
      finish(
        'trapped',
        null,
        'The worker sent a message outside the protocol; the run was stopped.'
      );
      return;
    }
    if (message.type === 'prepared') {
      if (prepared !== null || start.module !== null) {
        finish('trapped', null, 'The worker sent an unexpected message; the run was stopped.');
        return;
      }
      // The worker must have checked the bytes the page asked for, nothing else.
      if (message.prepared.moduleSha256 !== start.prepare?.sha256) {
        finish('refused', null, 'The worker prepared other bytes than approved.', 'run.protocol');
        return;
      }
      prepared = message.prepared;
      arm();
      return;
    }
    if (message.type === 'refused') {
      finish('refused', null, message.message, message.code);
      return;
    }
    if (message.type === 'output') {
      received += message.bytes.length;
      if (received > maxOutput) {
        finish(
          'output-cap',
          null,
          'The worker sent more output than the cap; the run was stopped.'
        );
        return;
      }
      options.onOutput(message.stream, message.bytes);
      return;
    }
    if (message.type === 'end-over-cap') {
      // Nothing of this end is kept (end = null): its files are not stored, only the reason.
      finish('killed', null, message.message);
      return;
    }
    finish(message.end.status, message.end, message.end.message);
  });
  worker.onError((message) => finish('trapped', null, `The worker failed: ${message}`));

  try {
    // The bytes are the worker's from here (transferred, not copied).
    const bytes = start.prepare?.bytes;
    worker.post(start, bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer] : []);
  } catch (error) {
    finish(
      'trapped',
      null,
      `The run could not start: ${error instanceof Error ? error.message : String(error)}`
    );
  }
  return {
    done,
    stop: (message = 'Stopped by the user.') => finish('killed', null, message)
  };
}
