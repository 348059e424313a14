// Proves that every WebAssembly fixture in tests/fixtures/wasm/ does what its README says,
// by running it under Node's real WASI implementation (node:wasi, preview1).
// Dangerous fixtures (loop, flood forever, memory-bomb) only ever run bounded: in a worker
// that is terminated, or in a child process whose V8 caps wasm memory at a few MiB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';
import { Worker } from 'node:worker_threads';

const FIXTURE_DIR = new URL('../fixtures/wasm/', import.meta.url);

const COMMANDS = [
  'hello',
  'echo-args',
  'cat-stdin',
  'sha256-stdin',
  'env-print',
  'loop',
  'memory-bomb',
  'flood',
  'recursion',
  'trap',
  'foreign-import',
  'exit-code',
  'fs-flood',
  'read-file',
  'hidden-names',
  'fd-renumber',
  'scratch-escape'
] as const;
const ALL_FIXTURES = [...COMMANDS, 'reactor'] as const;
type FixtureName = (typeof ALL_FIXTURES)[number];

const fixturePath = (name: FixtureName): string =>
  fileURLToPath(new URL(`${name}.wasm`, FIXTURE_DIR));
function fixtureBytes(name: FixtureName): Uint8Array<ArrayBuffer> {
  const data = fs.readFileSync(fixturePath(name));
  const bytes = new Uint8Array(data.length);
  bytes.set(data);
  return bytes;
}
/** node:wasi types getImportObject() as plain `object`. */
const wasiImports = (wasi: WASI): WebAssembly.Imports =>
  wasi.getImportObject() as WebAssembly.Imports;

const compiled = new Map<FixtureName, Promise<WebAssembly.Module>>();
function compile(name: FixtureName): Promise<WebAssembly.Module> {
  let mod = compiled.get(name);
  if (!mod) {
    mod = WebAssembly.compile(fixtureBytes(name));
    compiled.set(name, mod);
  }
  return mod;
}

let tmpDir = '';
let tmpCounter = 0;
const tmpFile = (label: string): string => path.join(tmpDir, `${tmpCounter++}-${label}`);

beforeAll(() => {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nightcore-fixtures-'));
});
afterAll(() => {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

interface RunOptions {
  args?: string[];
  env?: Record<string, string>;
  stdin?: Uint8Array | string;
  /** Open stdout read-only so that every write to it fails. */
  stdoutReadOnly?: boolean;
}
interface RunResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs a command fixture to completion under node:wasi; stdio are temp files. */
async function runWasi(name: FixtureName, opts: RunOptions = {}): Promise<RunResult> {
  const mod = await compile(name);
  const stdinPath = tmpFile(`${name}.stdin`);
  const stdoutPath = tmpFile(`${name}.stdout`);
  const stderrPath = tmpFile(`${name}.stderr`);
  fs.writeFileSync(stdinPath, opts.stdin ?? '');
  if (opts.stdoutReadOnly) fs.writeFileSync(stdoutPath, '');
  const fds: number[] = [];
  try {
    const stdin = fs.openSync(stdinPath, 'r');
    fds.push(stdin);
    const stdout = fs.openSync(stdoutPath, opts.stdoutReadOnly ? 'r' : 'w');
    fds.push(stdout);
    const stderr = fs.openSync(stderrPath, 'w');
    fds.push(stderr);
    const wasi = new WASI({
      version: 'preview1',
      args: [name, ...(opts.args ?? [])],
      env: opts.env ?? {},
      stdin,
      stdout,
      stderr,
      returnOnExit: true
    });
    const instance = await WebAssembly.instantiate(mod, wasiImports(wasi));
    const exitCode = wasi.start(instance);
    return {
      exitCode,
      stdout: fs.readFileSync(stdoutPath),
      stderr: fs.readFileSync(stderrPath)
    };
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

// CommonJS source for a worker that runs one fixture's _start under node:wasi with all
// stdio on /dev/null. It reports 'started' right before _start and 'returned' after it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { WASI } = require('node:wasi');
const fs = require('node:fs');
const mod = new WebAssembly.Module(fs.readFileSync(workerData.path));
const wasi = new WASI({
  version: 'preview1',
  args: workerData.args,
  env: {},
  stdin: fs.openSync('/dev/null', 'r'),
  stdout: fs.openSync('/dev/null', 'w'),
  stderr: fs.openSync('/dev/null', 'w'),
  returnOnExit: true
});
const instance = new WebAssembly.Instance(mod, wasi.getImportObject());
parentPort.postMessage({ type: 'started' });
const exitCode = wasi.start(instance);
parentPort.postMessage({ type: 'returned', exitCode });
`;

interface WorkerRun {
  /** True when _start was still running after `ms` milliseconds. */
  stillRunning: boolean;
  /** What ended the worker early, if anything. */
  early: string | null;
  /** Milliseconds that worker.terminate() took to stop the guest. */
  terminateMs: number;
}

/** Starts `name` in a worker, waits `ms` after _start begins, then terminates the worker. */
function runInWorkerFor(name: FixtureName, args: string[], ms: number): Promise<WorkerRun> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path: fixturePath(name), args: [name, ...args] },
    stdout: true,
    stderr: true
  });
  return new Promise<WorkerRun>((resolve, reject) => {
    let early: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    let terminating = false;
    const finish = async (): Promise<void> => {
      terminating = true;
      const stillRunning = early === null;
      const t0 = performance.now();
      await worker.terminate();
      resolve({ stillRunning, early, terminateMs: performance.now() - t0 });
    };
    worker.on('message', (msg: { type: string; exitCode?: number }) => {
      if (msg.type === 'started') {
        timer = setTimeout(() => void finish().catch(reject), ms);
      } else if (msg.type === 'returned') {
        early = `_start returned with exit code ${msg.exitCode}`;
      }
    });
    worker.on('error', (err) => {
      early = `worker error: ${String(err)}`;
    });
    worker.on('exit', (code) => {
      if (timer === undefined) reject(new Error(`worker exited (${code}) before _start ran`));
      else if (!terminating && early === null) early = `worker exited with code ${code}`;
    });
  });
}

/** The limits of the (single) memory defined in a module's binary memory section. */
function definedMemoryLimits(bytes: Uint8Array): { min: number; max: number | null } {
  let pos = 8; // after magic + version
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error('truncated LEB128');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = leb();
    const end = pos + size;
    if (id === 5) {
      expect(leb()).toBe(1); // one memory
      const flags = leb();
      const min = leb();
      const max = flags & 1 ? leb() : null;
      return { min, max };
    }
    pos = end;
  }
  throw new Error('no memory section');
}

const sha256Hex = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

/** The bytes that `sha256-stdin --generate N` hashes: byte i = (i * 31 + 7) & 0xff. */
function generatedBytes(mib: number): Uint8Array {
  const out = new Uint8Array(mib * 1024 * 1024);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

describe('wasm fixtures (tests/fixtures/wasm)', () => {
  it('all fixtures: exist with a source, validate, and commands export memory + _start', () => {
    const present = fs
      .readdirSync(FIXTURE_DIR)
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => f.slice(0, -'.wasm'.length))
      .sort();
    expect(present).toEqual([...ALL_FIXTURES].sort());
    for (const name of ALL_FIXTURES) {
      const hasSource = ['.c', '.wat'].some((ext) =>
        fs.existsSync(new URL(`${name}${ext}`, FIXTURE_DIR))
      );
      expect(hasSource, `${name} has a .c or .wat source`).toBe(true);
      expect(WebAssembly.validate(fixtureBytes(name)), `${name}.wasm validates`).toBe(true);
    }
    for (const name of COMMANDS) {
      const exports = WebAssembly.Module.exports(new WebAssembly.Module(fixtureBytes(name)));
      expect(exports, name).toContainEqual({ name: 'memory', kind: 'memory' });
      expect(exports, name).toContainEqual({ name: '_start', kind: 'function' });
    }
  });

  it('hello: prints "hello from wasm\\n" and exits 0', async () => {
    const r = await runWasi('hello');
    expect(r.stdout.toString('utf8')).toBe('hello from wasm\n');
    expect(r.stderr.length).toBe(0);
    expect(r.exitCode).toBe(0);
  });

  it('echo-args: echoes argv[1..] joined by single spaces, including spaces and non-ASCII', async () => {
    const args = ['plain', 'two words', 'héllo wörld ✓ 日本語 🦀', '', 'last'];
    const r = await runWasi('echo-args', { args });
    expect(r.stdout.toString('utf8')).toBe(`${args.join(' ')}\n`);
    expect(r.exitCode).toBe(0);

    const none = await runWasi('echo-args');
    expect(none.stdout.toString('utf8')).toBe('\n');
  });

  it('cat-stdin: copies stdin to stdout byte for byte', async () => {
    const input = Buffer.concat([
      Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0x80]),
      Buffer.from('text ✓\n', 'utf8'),
      randomBytes(200_000)
    ]);
    const r = await runWasi('cat-stdin', { stdin: input });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.equals(input)).toBe(true);

    const empty = await runWasi('cat-stdin', { stdin: '' });
    expect(empty.exitCode).toBe(0);
    expect(empty.stdout.length).toBe(0);
  });

  it('sha256-stdin: prints the lowercase hex SHA-256 of stdin (padding edge cases)', async () => {
    // 55/56 and 63/64/65 bytes straddle SHA-256's one-vs-two final block boundary.
    const lengths = [0, 1, 55, 56, 63, 64, 65, 1000, 65_536 + 7, 300_001];
    for (const n of lengths) {
      const input = randomBytes(n);
      const r = await runWasi('sha256-stdin', { stdin: input });
      expect(r.exitCode, `length ${n}`).toBe(0);
      expect(r.stdout.toString('latin1'), `length ${n}`).toBe(`${sha256Hex(input)}\n`);
    }
    const abc = await runWasi('sha256-stdin', { stdin: 'abc' });
    expect(abc.stdout.toString('latin1')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n'
    );
  });

  it('sha256-stdin: --generate 1 hashes 1 MiB of (i * 31 + 7) & 0xff bytes', async () => {
    const r = await runWasi('sha256-stdin', { args: ['--generate', '1'], stdin: 'ignored' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString('latin1')).toBe(`${sha256Hex(generatedBytes(1))}\n`);

    const zero = await runWasi('sha256-stdin', { args: ['--generate', '0'] });
    expect(zero.stdout.toString('latin1')).toBe(`${sha256Hex('')}\n`);

    const bad = await runWasi('sha256-stdin', { args: ['--generate', 'lots'] });
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout.length).toBe(0);
    expect(bad.stderr.toString('utf8')).toMatch(/bad MiB count/);
  });

  it('env-print: prints each granted environment variable on its own line', async () => {
    const env = {
      NIGHTCORE_TEST: '1',
      GREETING: 'hello world',
      UNICODE: 'ünïcødé ✓',
      WITH_EQUALS: 'a=b=c',
      EMPTY: ''
    };
    const r = await runWasi('env-print', { env });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.toString('utf8').split('\n');
    expect(lines.pop()).toBe(''); // output ends with a newline
    expect(lines.sort()).toEqual(
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
    );

    const none = await runWasi('env-print', { env: {} });
    expect(none.exitCode).toBe(0);
    expect(none.stdout.length).toBe(0);
  });

  it('flood: "flood 2" writes exactly 2 MiB of 64-byte "xxx…x\\n" lines and exits 0', async () => {
    const r = await runWasi('flood', { args: ['2'] });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(2 * 1024 * 1024);
    const line = Buffer.from(`${'x'.repeat(63)}\n`, 'latin1');
    expect(r.stdout.equals(Buffer.concat(Array(32 * 1024).fill(line)))).toBe(true);

    const bad = await runWasi('flood', { args: ['-1'] });
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout.length).toBe(0);
  });

  it('flood: exits 1 with a message as soon as a stdout write fails', async () => {
    const r = await runWasi('flood', { stdoutReadOnly: true });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString('utf8')).toMatch(/^flood: write error/);
  });

  it('flood: with no argument it keeps writing until terminated (worker)', async () => {
    const run = await runInWorkerFor('flood', [], 300);
    expect(run.early).toBeNull();
    expect(run.stillRunning).toBe(true);
  });

  it('loop: _start never returns; still running after 300 ms, then terminated (worker)', async () => {
    const run = await runInWorkerFor('loop', [], 300);
    expect(run.early).toBeNull();
    expect(run.stillRunning).toBe(true);
    expect(run.terminateMs).toBeLessThan(2000);
  });

  it('trap: _start throws WebAssembly.RuntimeError (unreachable)', async () => {
    const err = await runWasi('trap').then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((err as Error).message).toMatch(/unreachable/);
  });

  it('recursion: unbounded recursion overflows the stack (RangeError)', async () => {
    const err = await runWasi('recursion').then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/Maximum call stack size exceeded/);
  });

  it('fd-renumber: moves a created file onto fd 1 and grows it (no cap under node:wasi)', async () => {
    // Without a preopen nothing opens.
    const none = await runWasi('fd-renumber');
    expect(none.exitCode).toBe(2);
    expect(none.stderr.toString()).toBe('fd-renumber: open failed\n');

    const dir = fs.mkdtempSync(path.join(tmpDir, 'renumber-'));
    const stderrPath = tmpFile('fd-renumber.stderr');
    const stderr = fs.openSync(stderrPath, 'w');
    // fd 1 is replaced by the file (its host descriptor is closed by the renumber): not ours.
    const stdout = fs.openSync(tmpFile('fd-renumber.stdout'), 'w');
    try {
      const wasi = new WASI({
        version: 'preview1',
        args: ['fd-renumber'],
        env: {},
        preopens: { '/scratch': dir },
        stdin: stderr,
        stdout,
        stderr,
        returnOnExit: true
      });
      const instance = await WebAssembly.instantiate(
        await compile('fd-renumber'),
        wasiImports(wasi)
      );
      expect(wasi.start(instance)).toBe(0);
    } finally {
      fs.closeSync(stderr);
    }
    expect(fs.readFileSync(stderrPath, 'utf8')).toBe(
      'fd-renumber: onto fd 1: wrote 8388608 bytes, write errno 0, set_size errno 0, allocate errno 0\n'
    );
    // 8 MiB of 'r' written, then resized to 32 MiB and allocated to 48 MiB.
    const file = path.join(dir, 'renumbered.bin');
    expect(fs.statSync(file).size).toBe(48 * 1024 * 1024);
    const head = Buffer.alloc(16);
    const fd = fs.openSync(file, 'r');
    fs.readSync(fd, head, 0, 16, 8 * 1024 * 1024 - 8);
    fs.closeSync(fd);
    expect(head.toString('latin1')).toBe('rrrrrrrr\0\0\0\0\0\0\0\0');
  });

  it('scratch-escape: holds unlinked files, makes directories and links (no caps under node:wasi)', async () => {
    const usage = await runWasi('scratch-escape');
    expect(usage.exitCode).toBe(2);
    expect(usage.stdout.toString()).toBe('scratch-escape: usage: unlink|mkdir|link\n');
    const none = await runWasi('scratch-escape', { args: ['link'] });
    expect(none.exitCode).toBe(2);
    expect(none.stdout.toString()).toBe('scratch-escape: open failed\n');

    const outcomes: Record<string, string> = {
      unlink: 'scratch-escape: unlink: held 16777216 bytes, errno 0\n',
      mkdir: 'scratch-escape: mkdir: made 20000, errno 0\n',
      link: 'scratch-escape: link: made 20000, errno 0\n'
    };
    for (const [mode, line] of Object.entries(outcomes)) {
      const dir = fs.mkdtempSync(path.join(tmpDir, `escape-${mode}-`));
      const stdoutPath = tmpFile(`scratch-escape-${mode}.stdout`);
      const stdout = fs.openSync(stdoutPath, 'w');
      try {
        const wasi = new WASI({
          version: 'preview1',
          args: ['scratch-escape', mode],
          env: {},
          preopens: { '/scratch': dir },
          stdout,
          returnOnExit: true
        });
        const instance = await WebAssembly.instantiate(
          await compile('scratch-escape'),
          wasiImports(wasi)
        );
        expect(wasi.start(instance), mode).toBe(0);
      } finally {
        fs.closeSync(stdout);
      }
      expect(fs.readFileSync(stdoutPath, 'utf8')).toBe(line);
      // What stays in the directory: `p`, plus the 20,000 directories or links.
      expect(fs.readdirSync(dir).length, mode).toBe(mode === 'unlink' ? 1 : 20_001);
    }
  }, 60_000);

  it('hidden-names: export names carry U+202E and U+200B, and it runs to a clean exit', async () => {
    const mod = await compile('hidden-names');
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(WebAssembly.Module.exports(mod).map((e) => e.name)).toEqual([
      'memory',
      '_start',
      'report\u202efdp.exe',
      'zero\u200bwidth'
    ]);
    const instance = await WebAssembly.instantiate(mod, {});
    expect((instance.exports._start as () => unknown)()).toBeUndefined();
  });

  it('foreign-import: imports env.evil next to fd_write and cannot link without it', async () => {
    const mod = await compile('foreign-import');
    expect(WebAssembly.Module.imports(mod)).toEqual([
      { module: 'env', name: 'evil', kind: 'function' },
      { module: 'wasi_snapshot_preview1', name: 'fd_write', kind: 'function' }
    ]);
    const wasi = () => new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });

    // `env` present but without `evil`: LinkError.
    await expect(
      WebAssembly.instantiate(mod, { ...wasiImports(wasi()), env: {} })
    ).rejects.toBeInstanceOf(WebAssembly.LinkError);
    // No `env` object at all: the JS API throws a TypeError instead.
    await expect(WebAssembly.instantiate(mod, wasiImports(wasi()))).rejects.toBeInstanceOf(
      TypeError
    );

    // With a host-provided env.evil, _start calls it exactly once.
    let calls = 0;
    const w = wasi();
    const instance = await WebAssembly.instantiate(mod, {
      ...wasiImports(w),
      env: { evil: () => void calls++ }
    });
    expect(w.start(instance)).toBe(0);
    expect(calls).toBe(1);
  });

  it('reactor: exports _initialize and memory, no _start; _initialize writes "init"', async () => {
    const mod = await compile('reactor');
    const exports = WebAssembly.Module.exports(mod);
    expect(exports).toContainEqual({ name: '_initialize', kind: 'function' });
    expect(exports).toContainEqual({ name: 'memory', kind: 'memory' });
    expect(exports.map((e) => e.name)).not.toContain('_start');
    expect(WebAssembly.Module.imports(mod)).toEqual([]);

    const wasi = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
    const instance = await WebAssembly.instantiate(mod, wasiImports(wasi));
    expect(() => wasi.start(instance)).toThrow(/_start/);
    const fresh = new WASI({ version: 'preview1', args: [], env: {}, returnOnExit: true });
    const instance2 = await WebAssembly.instantiate(mod, wasiImports(fresh));
    fresh.initialize(instance2);
    const memory = instance2.exports.memory as WebAssembly.Memory;
    expect(Buffer.from(memory.buffer, 0, 4).toString('latin1')).toBe('init');
  });

  it('memory-bomb: 1-page memory with no maximum, no imports (structure)', async () => {
    const bytes = fixtureBytes('memory-bomb');
    expect(definedMemoryLimits(bytes)).toEqual({ min: 1, max: null });
    const mod = await compile('memory-bomb');
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
    expect(WebAssembly.Module.exports(mod)).toEqual([
      { name: 'memory', kind: 'memory' },
      { name: '_start', kind: 'function' }
    ]);
    // Instantiating alone allocates just the initial 64 KiB; _start is NOT called here.
    const instance = await WebAssembly.instantiate(mod, {});
    expect((instance.exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(65_536);
  });

  it('memory-bomb: grows until the cap, then traps with unreachable (child node, 64-page cap)', async () => {
    // Run _start only in a separate Node whose V8 caps every wasm memory at 64 pages (4 MiB),
    // so memory.grow returns -1 quickly and nothing near 4 GiB is ever reserved.
    const child = `
      const fs = require('node:fs');
      const mod = new WebAssembly.Module(fs.readFileSync(process.env.FIXTURE));
      const instance = new WebAssembly.Instance(mod, {});
      let result;
      try {
        instance.exports._start();
        result = { returned: true };
      } catch (e) {
        result = {
          runtimeError: e instanceof WebAssembly.RuntimeError,
          message: String(e && e.message)
        };
      }
      result.pages = instance.exports.memory.buffer.byteLength / 65536;
      process.stdout.write(JSON.stringify(result));
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--wasm-max-mem-pages=64', '-e', child],
        { env: { ...process.env, FIXTURE: fixturePath('memory-bomb') }, timeout: 10_000 },
        (err, out) => (err ? reject(err) : resolve(out))
      );
    });
    expect(JSON.parse(stdout)).toEqual({ runtimeError: true, message: 'unreachable', pages: 64 });
  });
});
