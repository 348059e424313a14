/**
 * From stored bytes to a module a worker may run: re-hash (the bytes that run must be the bytes
 * that were verified and approved), cap the memory, compile. Compiled modules are cached by the
 * SHA-256 of the capped bytes so later runs start from code V8 has already optimized (TOOLCHAIN.md,
 * tiering); a `WebAssembly.Module` is structured-cloneable to a fresh worker.
 */
import { sha256Hex } from '$lib/core/digest';
import { rewriteMemoryMaximum } from '$lib/core/wasm/memory-rewrite';

const PAGES_PER_MIB = 16;

export type Prepared =
  | {
      ok: true;
      module: WebAssembly.Module;
      /** SHA-256 of the approved bytes and of the bytes compiled (after the memory rewrite). */
      moduleSha256: string;
      runSha256: string;
      memoryRewritten: boolean;
    }
  | {
      ok: false;
      code: 'module.digest-mismatch' | 'wasm.memory-cap' | 'wasm.compile';
      message: string;
    };

const cache = new Map<string, WebAssembly.Module>();
const MAX_CACHED = 16;

export async function prepareModule(
  bytes: Uint8Array,
  expectedSha256: string,
  memoryMiB: number
): Promise<Prepared> {
  const actual = await sha256Hex(bytes);
  if (actual !== expectedSha256) {
    return {
      ok: false,
      code: 'module.digest-mismatch',
      message: `The stored module bytes hash to ${actual}, not the approved ${expectedSha256}: they changed after approval. Not run.`
    };
  }
  const rewritten = rewriteMemoryMaximum(bytes, memoryMiB * PAGES_PER_MIB);
  if (!rewritten.ok)
    return { ok: false, code: 'wasm.memory-cap', message: rewritten.reason.message };
  const runSha256 = rewritten.changed ? await sha256Hex(rewritten.bytes) : actual;
  let module = cache.get(runSha256);
  if (!module) {
    try {
      module = await WebAssembly.compile(rewritten.bytes);
    } catch (error) {
      return {
        ok: false,
        code: 'wasm.compile',
        message: `The module does not compile: ${error instanceof Error ? error.message : String(error)}`
      };
    }
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(runSha256, module);
  }
  return { ok: true, module, moduleSha256: actual, runSha256, memoryRewritten: rewritten.changed };
}

/** Forgets compiled modules (tests, and when storage is cleared). */
export function clearModuleCache(): void {
  cache.clear();
}
