/** The run worker for Node's worker_threads: the same run-core the browser worker runs. */
import { parentPort } from 'node:worker_threads';
import { runModule } from '../../../src/lib/runtime/run-core';
import type { StartMessage } from '../../../src/lib/runtime/protocol';

let started = false;
parentPort!.on('message', (start: StartMessage) => {
  if (started || start?.type !== 'start') return;
  started = true;
  const end = runModule(start, (message) => parentPort!.postMessage(message));
  parentPort!.postMessage({ type: 'end', end });
});
