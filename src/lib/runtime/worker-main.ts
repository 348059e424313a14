/**
 * What a run worker does with its one `start`, in a browser Worker or a Node worker thread:
 * prepare the module when the page did not have it compiled (re-hash against the approval, cap
 * the memory, compile; all off the page's thread), hand the compiled module back for the page's
 * cache, then run it. The guest runs only after `prepared` is posted, so it never touches that.
 */
import { prepareModule } from './prepare';
import { runModule, type Post } from './run-core';
import type { StartMessage } from './protocol';

export async function handleStart(start: StartMessage, post: Post): Promise<void> {
  let module = start.module;
  if (!(module instanceof WebAssembly.Module)) {
    if (!start.prepare) {
      post({ type: 'refused', code: 'run.protocol', message: 'Nothing to run was given.' });
      return;
    }
    const { sha256, memoryMiB } = start.prepare;
    const given = start.prepare.bytes;
    const bytes = given instanceof Uint8Array ? given : new Uint8Array(await given.arrayBuffer());
    const prepared = await prepareModule(bytes, sha256, memoryMiB);
    if (!prepared.ok) {
      post({ type: 'refused', code: prepared.code, message: prepared.message });
      return;
    }
    module = prepared.module;
    post({
      type: 'prepared',
      prepared: {
        module,
        moduleSha256: prepared.moduleSha256,
        runSha256: prepared.runSha256,
        memoryRewritten: prepared.memoryRewritten
      }
    });
  }
  const end = runModule(start, module, post);
  post(
    { type: 'end', end },
    end.files.map((f) => f.bytes.buffer as ArrayBuffer)
  );
}
