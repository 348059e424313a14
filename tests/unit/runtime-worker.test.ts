/**
 * The host (src/lib/runtime/host.ts) driving real threads: Node's worker_threads running the same
 * run-core as the browser worker (bundled by rolldown, as Vite bundles the browser one). What only
 * terminating a thread can stop: an infinite loop with no host calls, and the user's Stop.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { build } from 'rolldown';
import { beforeAll, describe, expect, it } from 'vitest';
import { startRun, type RunWorker } from '../../src/lib/runtime/host';
import { prepareModule } from '../../src/lib/runtime/prepare';
import type { RunGrant, StartMessage } from '../../src/lib/runtime/protocol';

let script = '';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-runtime-'));
  script = join(dir, 'thread.mjs');
  await build({
    input: new URL('./helpers/runtime-thread.ts', import.meta.url).pathname,
    platform: 'node',
    resolve: { alias: { $lib: new URL('../../src/lib', import.meta.url).pathname } },
    output: { file: script, format: 'esm' },
    logLevel: 'silent'
  });
}, 60_000);

function thread(): RunWorker & { exited: Promise<number> } {
  const worker = new Worker(script);
  return {
    post: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.on('message', listener),
    onError: (listener) => worker.on('error', (error) => listener(error.message)),
    terminate: () => void worker.terminate(),
    exited: new Promise((resolve) => worker.on('exit', resolve))
  };
}

async function start(
  name: string,
  limits: Partial<RunGrant['limits']> = {},
  args = [name],
  compileHere = true
) {
  const bytes = new Uint8Array(
    readFileSync(new URL(`../fixtures/wasm/${name}.wasm`, import.meta.url))
  );
  const grant: RunGrant = {
    capabilities: ['args'],
    limits: { timeoutMs: 5000, memoryMiB: 16, outputBytes: 1 << 20, fsBytes: 1 << 20, ...limits },
    args,
    env: [],
    stdin: new Uint8Array(0),
    files: [],
    entry: 'command'
  };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let module: WebAssembly.Module | null = null;
  if (compileHere) {
    const prepared = await prepareModule(bytes, sha256, grant.limits.memoryMiB);
    if (!prepared.ok) throw new Error(prepared.message);
    module = prepared.module;
  }
  const message: StartMessage = {
    type: 'start',
    runId: 'r',
    module,
    prepare: module ? null : { bytes, sha256, memoryMiB: grant.limits.memoryMiB },
    grant
  };
  const worker = thread();
  const output: string[] = [];
  const handle = startRun(worker, message, {
    onOutput: (_stream, bytes) => output.push(Buffer.from(bytes).toString())
  });
  return { handle, worker, output, sha256 };
}

describe('runner host over worker_threads', () => {
  it('hello runs in a thread and its output streams back', async () => {
    const { handle, output } = await start('hello');
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'exited', end: { exitCode: 0 } });
    expect(output.join('')).toBe('hello from wasm\n');
  });

  it('the watchdog terminates an infinite loop that never calls the host', async () => {
    const { handle, worker } = await start('loop', { timeoutMs: 300 });
    const result = await handle.done;
    expect(result.status).toBe('timeout');
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    await worker.exited; // the thread is really gone
  });

  it('Stop kills a running module at once', async () => {
    const { handle, worker } = await start('loop', { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const asked = performance.now();
    handle.stop();
    const result = await handle.done;
    expect(result.status).toBe('killed');
    await worker.exited;
    expect(performance.now() - asked).toBeLessThan(1000);
  });

  it('the worker prepares raw bytes itself and hands the compiled module back', async () => {
    const { handle, output, sha256 } = await start('hello', {}, ['hello'], false);
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'exited', prepared: { moduleSha256: sha256 } });
    expect(result.prepared?.module).toBeInstanceOf(WebAssembly.Module);
    expect(output.join('')).toBe('hello from wasm\n');
  });

  it('bytes that do not match the approved digest are refused by the worker', async () => {
    const bytes = new Uint8Array(
      readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url))
    );
    const altered = bytes.slice();
    altered[altered.length - 1]! ^= 1;
    const handle = startRun(
      thread(),
      {
        type: 'start',
        runId: 'r',
        module: null,
        prepare: {
          bytes: altered,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          memoryMiB: 16
        },
        grant: {
          capabilities: [],
          limits: { timeoutMs: 5000, memoryMiB: 16, outputBytes: 1024, fsBytes: 1024 },
          args: ['hello'],
          env: [],
          stdin: new Uint8Array(0),
          files: [],
          entry: 'command'
        }
      },
      { onOutput: () => {} }
    );
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'refused', code: 'module.digest-mismatch' });
  });

  it('a flood under a cap ends as output-cap with exactly the cap received', async () => {
    const { handle, output } = await start('flood', { outputBytes: 200_000 }, ['flood']);
    const result = await handle.done;
    expect(result.status).toBe('output-cap');
    expect(output.join('').length).toBe(200_000);
  });
});
