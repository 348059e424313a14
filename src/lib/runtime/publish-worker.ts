/// <reference lib="webworker" />
/**
 * The bundle tool's worker: one job per worker, then the host terminates it (so the seed it was
 * given does not outlive the job). Everything it computes comes from core.
 */
import { createBundle } from '$lib/core/bundle-write';
import { sha256Hex } from '$lib/core/digest';
import { requiredCapabilities } from '$lib/core/wasm/capabilities';
import { inspectWasm } from '$lib/core/wasm/inspect';
import type { PublishReply, PublishRequest } from './publish-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<PublishRequest>) => {
  const request = event.data;
  try {
    if (request.kind === 'inspect') {
      const module = await bytesOf(request.module);
      const inspection = inspectWasm(module);
      const reply: PublishReply = {
        kind: 'inspected',
        facts: {
          ok: inspection.ok,
          reasons: inspection.reasons,
          sha256: inspection.ok ? await sha256Hex(module) : '',
          size: module.length,
          entry: inspection.entry === 'none' ? null : inspection.entry,
          needs: requiredCapabilities(inspection),
          foreignImports: inspection.foreignImports
        }
      };
      scope.postMessage(reply);
    } else if (request.kind === 'bundle') {
      const module = await bytesOf(request.module);
      if ((await sha256Hex(module)) !== request.sha256) {
        throw new Error('the module file changed after it was picked: pick it again');
      }
      const bytes = await createBundle({
        module,
        manifest: request.manifest,
        signers: [{ seed: request.seed }]
      });
      request.seed.fill(0);
      scope.postMessage({ kind: 'bundled', bytes } satisfies PublishReply, [bytes.buffer]);
    } else {
      throw new TypeError('unknown request');
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    scope.postMessage({ kind: 'error', name: e.name, message: e.message } satisfies PublishReply);
  }
};

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  if (!(blob instanceof Blob)) throw new TypeError('module: expected a Blob');
  return new Uint8Array(await blob.arrayBuffer());
}
