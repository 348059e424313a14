/** The run worker for Node's worker_threads: the same code the browser worker runs. */
import { parentPort } from 'node:worker_threads';
import { handleStart } from '../../../src/lib/runtime/worker-main';
import type { StartMessage } from '../../../src/lib/runtime/protocol';

let started = false;
parentPort!.on('message', (start: StartMessage) => {
  if (started || start?.type !== 'start') return;
  started = true;
  void handleStart(start, (message) => parentPort!.postMessage(message));
});
