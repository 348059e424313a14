/**
 * Browser run workers: one dedicated module Worker per run, never reused. One idle worker is kept
 * spawned ahead (it has run nothing), so a run does not wait for a worker to load.
 */
import type { RunWorker } from './host';

let idle: Worker | null = null;

function spawn(): Worker {
  return new Worker(new URL('./runner.worker.ts', import.meta.url), {
    type: 'module',
    name: 'nightcore-run'
  });
}

/** A fresh worker for one run; a replacement is spawned for the next. */
export function takeRunWorker(): RunWorker {
  const worker = idle ?? spawn();
  idle = null;
  // Spawn the next one after this run has had its turn at the thread.
  setTimeout(() => (idle ??= spawn()), 0);
  return wrap(worker);
}

/** Spawns the idle worker now (the Runs page calls this when it opens). */
export function warmRunWorker(): void {
  idle ??= spawn();
}

function wrap(worker: Worker): RunWorker {
  return {
    post: (message, transfer) => worker.postMessage(message, { transfer: transfer ?? [] }),
    onMessage: (listener) => worker.addEventListener('message', (event) => listener(event.data)),
    onError: (listener) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        listener(event.message || 'the worker script failed');
      });
      worker.addEventListener('messageerror', () => listener('a message could not be read'));
    },
    terminate: () => worker.terminate()
  };
}
