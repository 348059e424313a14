/**
 * The run worker: one per run, used once. It takes one `start`, runs it, posts `end`, and is then
 * terminated by the page. Anything else it receives is ignored.
 */
import { runModule } from './run-core';
import type { StartMessage } from './protocol';

let started = false;
addEventListener('message', (event: MessageEvent<StartMessage>) => {
  if (started || event.data?.type !== 'start') return;
  started = true;
  const end = runModule(event.data, (message, transfer) => postMessage(message, { transfer }));
  postMessage(
    { type: 'end', end },
    { transfer: end.files.map((f) => f.bytes.buffer as ArrayBuffer) }
  );
});
