/**
 * Runs one bundle-tool job in a fresh worker and terminates it when the answer arrives. Replies
 * are checked against the closed set in publish-protocol.ts.
 */
import type { ModuleFacts, PublishReply, PublishRequest } from './publish-protocol';

export type { ModuleFacts };

function run(request: PublishRequest): Promise<PublishReply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./publish-worker.ts', import.meta.url), { type: 'module' });
    const done = () => worker.terminate();
    worker.onmessage = (event: MessageEvent<PublishReply>) => {
      done();
      resolve(event.data);
    };
    worker.onerror = (event) => {
      done();
      reject(new Error(event.message || 'the bundle worker failed'));
    };
    // The seed is copied (structured clone) and the worker overwrites its copy once used.
    worker.postMessage(request);
  });
}

function fail(reply: PublishReply): never {
  if (reply.kind === 'error') throw new Error(reply.message);
  throw new Error(`unexpected reply from the bundle worker: ${String(reply.kind)}`);
}

export async function inspectInWorker(module: Blob): Promise<ModuleFacts> {
  const reply = await run({ kind: 'inspect', module });
  if (reply.kind === 'inspected' && typeof reply.facts?.ok === 'boolean') return reply.facts;
  return fail(reply);
}

export async function bundleInWorker(
  module: Blob,
  sha256: string,
  manifest: Uint8Array,
  seed: Uint8Array
): Promise<Uint8Array> {
  const reply = await run({ kind: 'bundle', module, sha256, manifest, seed });
  if (reply.kind === 'bundled' && reply.bytes instanceof Uint8Array) return reply.bytes;
  return fail(reply);
}
