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
      const inspection = inspectWasm(request.module);
      const reply: PublishReply = {
        kind: 'inspected',
        facts: {
          ok: inspection.ok,
          reasons: inspection.reasons,
          sha256: inspection.ok ? await sha256Hex(request.module) : '',
          entry: inspection.entry === 'none' ? null : inspection.entry,
          needs: requiredCapabilities(inspection),
          foreignImports: inspection.foreignImports
        }
      };
      scope.postMessage(reply);
    } else if (request.kind === 'bundle') {
      const bytes = await createBundle({
        module: request.module,
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
