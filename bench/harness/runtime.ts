/**
 * Runtime benchmarks, page side: runs through the app's own runner (takeRunWorker's pre-spawned
 * worker, startRun's watchdog and protocol checks, the shared compiled-module cache) against a
 * bare baseline written inline here: a new Worker from a Blob each time, WebAssembly.compile +
 * instantiate, and a minimal hand-written WASI (fd_write, proc_exit, args/environ, fdstat).
 * Also exposes `window.nightcoreRuntime` for the Node-side cases (compute, leak).
 */
import { sha256Hex } from '$lib/core/digest';
import { takeRunWorker, warmRunWorker } from '$lib/runtime/browser-worker';
import { startRun, type RunResult } from '$lib/runtime/host';
import type { RunLimits } from '$lib/runtime/limits';
import { compiledModule, forgetCompiled, rememberCompiled } from '$lib/runtime/module-cache';
import type { RunGrant } from '$lib/runtime/protocol';
import helloUrl from '../../tests/fixtures/wasm/hello.wasm?url';
import loopUrl from '../../tests/fixtures/wasm/loop.wasm?url';
import floodUrl from '../../tests/fixtures/wasm/flood.wasm?url';
import shaUrl from '../../tests/fixtures/wasm/sha256-stdin.wasm?url';
import { pause, paired, type BenchCase, type PageResult } from './measure';

const MiB = 1024 * 1024;

export type FixtureName = 'hello' | 'loop' | 'flood' | 'sha256-stdin';
const URLS: Record<FixtureName, string> = {
  hello: helloUrl,
  loop: loopUrl,
  flood: floodUrl,
  'sha256-stdin': shaUrl
};

interface Fixture {
  bytes: Uint8Array;
  sha256: string;
}
const fixtures = new Map<FixtureName, Fixture>();

async function fixture(name: FixtureName): Promise<Fixture> {
  let f = fixtures.get(name);
  if (!f) {
    const bytes = new Uint8Array(await (await fetch(URLS[name])).arrayBuffer());
    f = { bytes, sha256: await sha256Hex(bytes) };
    fixtures.set(name, f);
  }
  return f;
}

/** The policy defaults (core/policy/document.ts), with `args` granted for the fixtures' N. */
function grantOf(args: string[], limits: Partial<RunLimits>): RunGrant {
  return {
    capabilities: ['args'],
    limits: {
      timeoutMs: 60_000,
      memoryMiB: 64,
      outputBytes: MiB,
      fsBytes: 16 * MiB,
      ...limits
    },
    args,
    env: [],
    stdin: new Uint8Array(0),
    files: []
  };
}

export interface RunnerRun {
  result: RunResult;
  /** Start-to-exit as the page sees it: from asking for a worker to the settled result. */
  ms: number;
  stdout: Uint8Array[];
}

/**
 * One run the way the app's Runs state launches it (runs.svelte.ts #launch): the compiled module
 * from the cache when there is one, else the stored bytes for the worker to re-hash and compile,
 * and what it compiled remembered for next time.
 */
export async function viaRunner(
  name: FixtureName,
  args: string[] = [name],
  limits: Partial<RunLimits> = {},
  keep = true
): Promise<RunnerRun> {
  return runBytes(await fixture(name), args, limits, keep);
}

async function runBytes(
  f: Fixture,
  args: string[],
  limits: Partial<RunLimits>,
  keep: boolean
): Promise<RunnerRun> {
  const grant = grantOf(args, limits);
  const stdout: Uint8Array[] = [];
  const began = performance.now();
  const cached = compiledModule(f.sha256, grant.limits.memoryMiB);
  const handle = startRun(
    takeRunWorker(),
    {
      type: 'start',
      runId: crypto.randomUUID(),
      module: cached?.module ?? null,
      // A fresh copy, as read from storage: the bytes are transferred to the worker.
      prepare: cached ? null : { bytes: f.bytes.slice(), sha256: f.sha256, memoryMiB: 64 },
      grant
    },
    { onOutput: (stream, bytes) => keep && stream === 'stdout' && stdout.push(bytes) }
  );
  const result = await handle.done;
  const ms = performance.now() - began;
  if (result.prepared) rememberCompiled(f.sha256, grant.limits.memoryMiB, result.prepared);
  return { result, ms, stdout };
}

// The bare baseline: everything a WASI command needs and nothing else, in a worker made for the
// one run. Unknown WASI imports answer ENOSYS (52).
const BARE_SOURCE = `
onmessage = async (event) => {
  const { bytes, args, sink } = event.data;
  const module = await WebAssembly.compile(bytes);
  let memory = null;
  let written = 0;
  const enc = new TextEncoder();
  const argv = args.map((a) => enc.encode(a + '\\0'));
  class Exit { constructor(code) { this.code = code; } }
  const wasi = {
    fd_write(fd, iovs, n, out) {
      const view = new DataView(memory.buffer);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        if (sink === 'post') postMessage({ out: new Uint8Array(memory.buffer, ptr, len).slice() });
        else if (sink === 'copy') new Uint8Array(memory.buffer, ptr, len).slice();
        total += len;
      }
      written += total;
      view.setUint32(out, total, true);
      return 0;
    },
    proc_exit(code) { throw new Exit(code); },
    args_sizes_get(count, size) {
      const view = new DataView(memory.buffer);
      view.setUint32(count, argv.length, true);
      view.setUint32(size, argv.reduce((s, a) => s + a.length, 0), true);
      return 0;
    },
    args_get(ptrs, buf) {
      const view = new DataView(memory.buffer);
      const mem = new Uint8Array(memory.buffer);
      argv.forEach((a, i) => { view.setUint32(ptrs + i * 4, buf, true); mem.set(a, buf); buf += a.length; });
      return 0;
    },
    environ_sizes_get(count, size) {
      const view = new DataView(memory.buffer);
      view.setUint32(count, 0, true);
      view.setUint32(size, 0, true);
      return 0;
    },
    environ_get() { return 0; },
    fd_fdstat_get(fd, ptr) {
      new Uint8Array(memory.buffer, ptr, 24).fill(0);
      new Uint8Array(memory.buffer)[ptr] = 2; // character device
      return 0;
    },
  };
  const imports = {};
  for (const i of WebAssembly.Module.imports(module))
    if (i.kind === 'function') imports[i.name] = wasi[i.name] ?? (() => 52);
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: imports });
  memory = instance.exports.memory;
  let code = 0;
  try { instance.exports._start(); } catch (e) { if (e instanceof Exit) code = e.code; else throw e; }
  postMessage({ code, written });
};
`;
let bareUrl: string | null = null;

export async function viaBare(
  name: FixtureName,
  args: string[] = [name],
  sink: 'discard' | 'post' | 'copy' = 'discard'
): Promise<{ ms: number; code: number; written: number }> {
  const f = await fixture(name);
  bareUrl ??= URL.createObjectURL(new Blob([BARE_SOURCE], { type: 'text/javascript' }));
  const began = performance.now();
  const worker = new Worker(bareUrl);
  try {
    const done = await new Promise<{ code: number; written: number }>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ code?: number; written?: number }>) => {
        if (typeof e.data.code === 'number')
          resolve({ code: e.data.code, written: e.data.written! });
      };
      worker.onerror = (e) => reject(new Error(`bare worker: ${e.message}`));
      const bytes = f.bytes.slice();
      worker.postMessage({ bytes, args, sink }, [bytes.buffer]);
    });
    return { ms: performance.now() - began, ...done };
  } finally {
    worker.terminate();
  }
}

function must(run: RunnerRun, status: RunResult['status']): RunnerRun {
  if (run.result.status !== status)
    throw new Error(`expected ${status}, got ${run.result.status}: ${run.result.message}`);
  return run;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const rate = (bytes: number, t: number) => `${((bytes / MiB / t) * 1000).toFixed(0)} MiB/s`;

/** Lets the pre-spawned worker load, as it has by the time a user clicks Run. */
async function settle(): Promise<void> {
  warmRunWorker();
  await pause(200);
}

export const runtimeCases: Record<string, BenchCase> = {
  'run-latency': async (): Promise<PageResult> => {
    await settle();
    const inWorker: number[] = [];
    const result = await paired(
      async () => {
        const run = must(await viaRunner('hello'), 'exited');
        inWorker.push(run.result.end!.durationMs);
      },
      () => viaBare('hello'),
      31,
      3
    );
    return {
      ...result,
      unit: 'ms',
      extra: {
        'in the worker (instantiate to exit)': ms(median(inWorker)),
        pause: '20 ms between runs'
      }
    };
  },

  'kill-latency': async (): Promise<PageResult> => {
    await settle();
    const samples: number[] = [];
    const total: number[] = [];
    for (let i = 0; i < 21; i++) {
      await pause(50);
      const run = must(await viaRunner('loop', ['loop'], { timeoutMs: 500 }), 'timeout');
      if (i === 0) continue; // the first one compiles
      samples.push(run.result.lateMs!);
      total.push(run.ms);
    }
    return {
      samples,
      unit: 'ms',
      extra: {
        'median late': ms(median(samples)),
        max: ms(Math.max(...samples)),
        'start to timeout (median)': ms(median(total))
      }
    };
  },

  output: async (): Promise<PageResult> => {
    await settle();
    const capped: number[] = [];
    const result = await paired(
      async () => {
        const run = must(await viaRunner('flood', ['flood', '64']), 'output-cap');
        capped.push(run.result.end?.stdoutBytes ?? 0);
      },
      async () => {
        const bare = await viaBare('flood', ['flood', '64']);
        if (bare.code !== 0 || bare.written !== 64 * MiB) throw new Error('bare flood failed');
      },
      11
    );
    // Throughput of the runner's whole output path (cap, batches, protocol checks, page sink)
    // when nothing is cut: 64 MiB under a 65 MiB cap.
    const streamed: number[] = [];
    for (let i = 0; i < 5; i++) {
      await pause();
      const run = must(
        await viaRunner('flood', ['flood', '64'], { outputBytes: 65 * MiB }, false),
        'exited'
      );
      streamed.push(run.ms);
    }
    return {
      ...result,
      unit: 'ms',
      extra: {
        'no-op sink': rate(64 * MiB, median(result.baselineSamples)),
        'runner, 64 MiB under a 65 MiB cap': `${ms(median(streamed))}, ${rate(64 * MiB, median(streamed))}`
      }
    };
  }
};

declare global {
  interface Window {
    /** For the Node-side cases (bench/node/compute.mjs, leak.mjs). */
    nightcoreRuntime: {
      /**
       * One SHA-256-of-64-MiB run through the runner. `cold`: bytes never seen before in this
       * process (the fixture plus a custom section holding a random nonce), so neither the
       * module cache nor anything inside V8 can reuse earlier code; `warm`: the fixture itself,
       * compiled once and then taken from the module cache.
       */
      compute(mode: 'cold' | 'warm'): Promise<{ ms: number; inWorkerMs: number; digest: string }>;
      /** One run of a fixture through the runner (for probing by hand). */
      run(
        name: FixtureName,
        args: string[],
        limits: Partial<RunLimits>
      ): Promise<{ ms: number; inWorkerMs: number | null; status: string }>;
      /** One run of a fixture in the bare baseline worker (for probing by hand). */
      bare(
        name: FixtureName,
        args: string[],
        sink: 'discard' | 'post' | 'copy'
      ): Promise<{ ms: number; code: number; written: number }>;
      /** `count` hello runs through the runner, one after another. */
      hello(count: number): Promise<number>;
    };
  }
}

window.nightcoreRuntime = {
  compute: async (mode) => {
    if (mode === 'cold') forgetCompiled();
    const base = await fixture('sha256-stdin');
    const f = mode === 'cold' ? await withNonce(base.bytes) : base;
    await settle();
    const run = must(await runBytes(f, ['sha256-stdin', '--generate', '64'], {}, true), 'exited');
    const digest = new TextDecoder()
      .decode(run.stdout.length === 1 ? run.stdout[0] : concat(run.stdout))
      .trim();
    return { ms: run.ms, inWorkerMs: run.result.end!.durationMs, digest };
  },
  run: async (name, args, limits) => {
    const run = await viaRunner(name, args, limits, false);
    return {
      ms: run.ms,
      inWorkerMs: run.result.end?.durationMs ?? null,
      status: run.result.status
    };
  },
  bare: (name, args, sink) => viaBare(name, args, sink),
  hello: async (count) => {
    let exited = 0;
    for (let i = 0; i < count; i++) {
      const run = await viaRunner('hello');
      if (run.result.status === 'exited') exited++;
    }
    return exited;
  }
};

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `bytes` plus a custom section `nonce` of 8 random bytes: the same code, new bytes. */
async function withNonce(bytes: Uint8Array): Promise<Fixture> {
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  const section = [0x00, 14, 5, ...new TextEncoder().encode('nonce'), ...nonce];
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return { bytes: out, sha256: await sha256Hex(out) };
}
