/**
 * The run worker: one per run, used once. It takes one `start`, prepares and runs it, posts `end`,
 * and is then terminated by the page. Anything else it receives is ignored.
 */
import { handleStart } from './worker-main';
import type { StartMessage } from './protocol';

let started = false;
addEventListener('message', (event: MessageEvent<StartMessage>) => {
  if (started || event.data?.type !== 'start') return;
  started = true;
  void handleStart(event.data, (message, transfer) => postMessage(message, { transfer }));
});
