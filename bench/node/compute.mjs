// compute-cold / compute-warm: a CPU-bound WASI command, SHA-256 of 64 MiB generated inside the
// module (tests/fixtures/wasm/sha256-stdin.wasm `--generate 64`), through the app's runner in the
// harness page against the same .wasm under Node's node:wasi, alternating.
// cold: a fresh compile on both sides, of bytes never seen before in the process (the fixture plus
//   a custom section holding a random nonce), so no cache anywhere can hand back earlier code: the
//   page's worker re-hashes and compiles them; Node calls WebAssembly.compile on them.
// warm: repeated runs of one compiled module on both sides (the page's module cache posts the
//   same WebAssembly.Module to each fresh worker; Node instantiates its one module again).
// Times are start to exit: the page's from asking for a worker to the settled result, Node's from
// compile (cold) or instantiate (warm) to the return of wasi.start.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { randomBytes } from 'node:crypto';

const BYTES = readFileSync(new URL('../../tests/fixtures/wasm/sha256-stdin.wasm', import.meta.url));
const ARGS = ['sha256-stdin', '--generate', '64'];
// tests/fixtures/wasm/README.md, reference digest for N = 64.
const DIGEST = '601fc533f64b11042a9ae821c272064871306a99496652afb5758c8979d8834d';

/** The same code in new bytes: a custom section `nonce` with 8 random bytes appended. */
function withNonce(bytes) {
  const section = Buffer.from([0x00, 14, 5, ...Buffer.from('nonce'), ...randomBytes(8)]);
  return Buffer.concat([bytes, section]);
}

async function nodeRun(module, dir) {
  const out = join(dir, 'stdout');
  const fd = openSync(out, 'w');
  let ms;
  try {
    const began = performance.now();
    const compiled = module ?? (await WebAssembly.compile(withNonce(BYTES)));
    const wasi = new WASI({
      version: 'preview1',
      args: ARGS,
      env: {},
      stdout: fd,
      returnOnExit: true
    });
    const instance = await WebAssembly.instantiate(compiled, wasi.getImportObject());
    const code = wasi.start(instance);
    ms = performance.now() - began;
    if (code !== 0) throw new Error(`node:wasi run exited ${code}`);
  } finally {
    closeSync(fd);
  }
  const digest = readFileSync(out, 'utf8').trim();
  if (digest !== DIGEST) throw new Error(`node:wasi printed ${digest}`);
  return ms;
}

async function pageRun(page, mode) {
  const run = await page.evaluate((m) => window.nightcoreRuntime.compute(m), mode);
  if (run.digest !== DIGEST) throw new Error(`the runner printed ${run.digest}`);
  return run;
}

async function compute(browser, harnessUrl, mode, reps) {
  const page = await browser.newPage();
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-compute-'));
  try {
    await page.goto(harnessUrl);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    const module = mode === 'warm' ? await WebAssembly.compile(BYTES) : null;
    if (mode === 'warm') {
      // Untimed first runs: the page compiles and caches, Node's module runs once.
      await pageRun(page, 'warm');
      await nodeRun(module, dir);
    }
    const samples = [];
    const baselineSamples = [];
    const inWorker = [];
    for (let i = 0; i < reps; i++) {
      baselineSamples.push(await nodeRun(module, dir));
      const run = await pageRun(page, mode);
      samples.push(run.ms);
      inWorker.push(run.inWorkerMs);
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const rate = (t) => `${((64 / t) * 1000).toFixed(0)} MiB/s`;
    return {
      samples,
      baselineSamples,
      unit: 'ms',
      extra: {
        runner: rate(median(samples)),
        'node:wasi': rate(median(baselineSamples)),
        'runner, instantiate to exit in the worker': `${median(inWorker).toFixed(0)} ms`,
        'module bytes': BYTES.length
      }
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await page.close();
  }
}

export const computeCases = {
  'compute-cold': ({ browser, harnessUrl }) => compute(browser, harnessUrl, 'cold', 5),
  'compute-warm': ({ browser, harnessUrl }) => compute(browser, harnessUrl, 'warm', 9)
};
