/**
 * The runner core (src/lib/runtime/run-core.ts) under Node: the same code the browser worker runs,
 * with the committed fixtures. Capabilities, limits and outcomes; the worker_threads tests for
 * what only terminating a thread can stop are in runtime-worker.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runModule } from '../../src/lib/runtime/run-core';
import { prepareModule } from '../../src/lib/runtime/prepare';
import type { RunEnd, RunGrant, WorkerMessage } from '../../src/lib/runtime/protocol';
import type { CapabilityGroup } from '../../src/lib/core/wasm/capabilities';
import { listFiles } from '../../src/lib/runtime/wasi-host';
import { endOverCap } from '../../src/lib/runtime/protocol';
import { Directory, File } from '@bjorn3/browser_wasi_shim';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/wasm/${name}.wasm`, import.meta.url)));
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function grant(patch: Partial<RunGrant> = {}): RunGrant {
  return {
    capabilities: [],
    limits: { timeoutMs: 5000, memoryMiB: 16, outputBytes: 1024 * 1024, fsBytes: 1024 * 1024 },
    args: ['module'],
    env: [],
    stdin: new Uint8Array(0),
    files: [],
    entry: 'command',
    ...patch
  };
}

async function run(name: string | Uint8Array, patch: Partial<RunGrant> = {}) {
  const bytes = typeof name === 'string' ? fixture(name) : name;
  const g = grant(patch);
  const prepared = await prepareModule(bytes, sha(bytes), g.limits.memoryMiB);
  if (!prepared.ok) throw new Error(prepared.message);
  const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[], batches: 0 };
  const end: RunEnd = runModule(
    { type: 'start', runId: 'r', module: prepared.module, prepare: null, grant: g },
    prepared.module,
    (message: WorkerMessage) => {
      if (message.type === 'output') {
        out[message.stream].push(message.bytes);
        out.batches++;
      }
    }
  );
  const text = (parts: Uint8Array[]) => Buffer.concat(parts).toString('utf8');
  return { end, stdout: text(out.stdout), stderr: text(out.stderr), out };
}
const caps = (...c: CapabilityGroup[]) => c;

describe('runner core: outcomes', () => {
  it('hello prints and exits 0', async () => {
    const { end, stdout } = await run('hello');
    expect(stdout).toBe('hello from wasm\n');
    expect(end).toMatchObject({ status: 'exited', exitCode: 0, truncated: false, stdoutBytes: 16 });
    expect(end.peakMemoryBytes).toBeGreaterThan(0);
  });

  it.each([0, 1, 255])('proc_exit(%i) is the exit code', async (code) => {
    const { end, stdout } = await run('exit-code', {
      capabilities: caps('args'),
      args: ['exit-code', String(code)]
    });
    expect(stdout).toBe(`exit ${code}\n`);
    expect(end).toMatchObject({ status: 'exited', exitCode: code });
  });

  it('a trap is reported with the engine message', async () => {
    const { end } = await run('trap');
    expect(end.status).toBe('trapped');
    expect(end.message).toMatch(/RuntimeError: unreachable/);
  });

  it('deep recursion ends as a trap (V8 reports a RangeError)', async () => {
    const { end } = await run('recursion');
    expect(end.status).toBe('trapped');
    expect(end.message).toMatch(/Maximum call stack size exceeded/);
  });

  it('a memory bomb stops at the memory cap', async () => {
    const { end } = await run('memory-bomb', {
      limits: { ...grant().limits, memoryMiB: 8 }
    });
    expect(end.status).toBe('memory-cap');
    expect(end.peakMemoryBytes).toBe(8 * 1024 * 1024);
  });

  it('output past the cap is cut at exactly the cap and the run stops', async () => {
    const cap = 100_000;
    const { end, stdout, out } = await run('flood', {
      capabilities: caps('args'),
      args: ['flood'],
      limits: { ...grant().limits, outputBytes: cap }
    });
    expect(end).toMatchObject({ status: 'output-cap', truncated: true, stdoutBytes: cap });
    expect(stdout.length).toBe(cap);
    expect(out.batches).toBeGreaterThan(0);
  });

  it('output is copied once into batches that start at 64 KiB and double up to 1 MiB', async () => {
    const { end, stdout, out } = await run('flood', {
      capabilities: caps('args'),
      args: ['flood', '4'],
      limits: { ...grant().limits, memoryMiB: 16, outputBytes: 8 * 1024 * 1024 }
    });
    expect(end).toMatchObject({ status: 'exited', exitCode: 0, stdoutBytes: 4 * 1024 * 1024 });
    // Every byte arrives, in order: 1,024 lines of 63 `x` and a newline per 64 KiB.
    expect(stdout).toBe(`${'x'.repeat(63)}\n`.repeat(65_536));
    const sizes = out.stdout.map((b) => b.byteLength);
    expect(sizes.slice(0, 4)).toEqual([65_536, 131_072, 262_144, 524_288]);
    expect(Math.max(...sizes)).toBe(1024 * 1024);
    // Each batch owns its buffer (it is transferred to the page): no view of guest memory.
    for (const b of out.stdout) expect(b.buffer.byteLength).toBe(b.byteLength);
  });

  it('a module importing outside WASI does not link', async () => {
    const { end } = await run('foreign-import');
    expect(end.status).toBe('trapped');
    expect(end.message).toMatch(/env|evil|LinkError|TypeError/);
  });

  it('a reactor signed as a command is not run: it has no _start', async () => {
    const { end } = await run('reactor');
    expect(end).toMatchObject({
      status: 'trapped',
      exitCode: null,
      message:
        'The manifest says this module is a command, but it has no _start export: nothing was run.'
    });
  });

  it('a reactor signed as a reactor runs _initialize and exits 0', async () => {
    const { end, stdout } = await run('reactor', { entry: 'reactor' });
    expect(end).toMatchObject({ status: 'exited', exitCode: 0, message: null });
    expect(end.peakMemoryBytes).toBe(65536);
    expect(stdout).toBe('');
  });

  it('an entry exported as something other than a function is refused before instantiating', async () => {
    // (module (memory (export "memory") 1) (global (export "_initialize") i32 (i32.const 0)))
    const ascii = (t: string) => [...t].map((c) => c.charCodeAt(0));
    const bytes = new Uint8Array([
      ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
      ...[5, 3, 1, 0, 1],
      ...[6, 6, 1, 0x7f, 0, 0x41, 0, 0x0b],
      ...[7, 24, 2, 6, ...ascii('memory'), 2, 0, 11, ...ascii('_initialize'), 3, 0]
    ]);
    const { end } = await run(bytes, { entry: 'reactor' });
    expect(end).toMatchObject({
      status: 'trapped',
      message: 'The module exports _initialize, but not as a function: nothing was run.'
    });
  });

  it('a module signed as a reactor never has its _start called', async () => {
    // hello exports _start (which prints) and no _initialize: as a reactor it only instantiates.
    const asReactor = await run('hello', { entry: 'reactor' });
    expect(asReactor.end).toMatchObject({ status: 'exited', exitCode: 0, stdoutBytes: 0 });
    expect(asReactor.stdout).toBe('');
    const asCommand = await run('hello', { entry: 'command' });
    expect(asCommand.stdout).toBe('hello from wasm\n');
  });

  it('the deadline stops a run at its next WASI call', async () => {
    const { end } = await run('flood', {
      capabilities: caps('args'),
      args: ['flood'],
      limits: { ...grant().limits, timeoutMs: 50, outputBytes: 1024 * 1024 * 1024 }
    });
    expect(end.status).toBe('timeout');
    expect(end.durationMs).toBeGreaterThanOrEqual(50);
  });
});

describe('runner core: capabilities reach the module only when granted', () => {
  it('args: given with the capability, withheld without', async () => {
    const granted = await run('echo-args', {
      capabilities: caps('args'),
      args: ['echo-args', 'a b', 'ünïcødé ✓']
    });
    expect(granted.stdout).toBe('a b ünïcødé ✓\n');
    const withheld = await run('echo-args', { args: ['echo-args', 'secret'] });
    expect(withheld.stdout).not.toContain('secret');
    expect(withheld.end.refusedCalls.args_sizes_get).toBeGreaterThan(0);
  });

  it('non-ASCII args are sized in UTF-8 bytes (the shim counts UTF-16 units)', async () => {
    const long = 'é'.repeat(3000) + '✓'.repeat(3000);
    const { stdout, end } = await run('echo-args', {
      capabilities: caps('args'),
      args: ['echo-args', long, long]
    });
    expect(end).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(stdout).toBe(`${long} ${long}\n`);
  });

  it('env: given with the capability, never the host environment', async () => {
    const granted = await run('env-print', {
      capabilities: caps('env'),
      env: [
        ['MODE', 'fast'],
        ['NAME', 'ü']
      ]
    });
    expect(granted.stdout).toBe('MODE=fast\nNAME=ü\n');
    const withheld = await run('env-print', { env: [['MODE', 'fast']] });
    expect(withheld.stdout).toBe('');
    expect(withheld.stdout).not.toContain('PATH=');
  });

  it('stdin: given with the capability, empty-and-refused without', async () => {
    const input = new TextEncoder().encode('line one\nline two ✓\n');
    const granted = await run('cat-stdin', { capabilities: caps('stdin'), stdin: input });
    expect(granted.stdout).toBe('line one\nline two ✓\n');
    const withheld = await run('cat-stdin', { stdin: input });
    expect(withheld.stdout).toBe('');
    expect(withheld.end.refusedCalls.fd_read).toBeGreaterThan(0);
  });

  it('fs-read mounts the picked files read-only at /input', async () => {
    const files = [{ path: 'data/notes.txt', bytes: new TextEncoder().encode('from the user\n') }];
    const { stdout, end } = await run('read-file', {
      capabilities: caps('args', 'fs-read'),
      args: ['read-file', '/input/data/notes.txt', '/input/new.txt'],
      files
    });
    expect(end).toMatchObject({ status: 'exited', exitCode: 0 });
    expect(stdout).toMatch(/^from the user\ncreate \/input\/new.txt: (?!ok)/);
    expect(end.files).toEqual([]);

    const without = await run('read-file', {
      capabilities: caps('args'),
      args: ['read-file', '/input/data/notes.txt']
    });
    expect(without.end).toMatchObject({ status: 'exited', exitCode: 1 });
  });

  it('fs-write gives a scratch directory whose files come back after the run', async () => {
    const { end, stdout } = await run('fs-flood', {
      capabilities: caps('args', 'fs-write'),
      args: ['fs-flood', '1']
    });
    expect(stdout).toBe('wrote 1048576 bytes\n');
    expect(end.files.map((f) => [f.path, f.bytes.length])).toEqual([['flood.bin', 1048576]]);
  });

  it('the scratch directory is capped: the write past fsBytes fails with ENOSPC', async () => {
    const { end, stderr } = await run('fs-flood', {
      capabilities: caps('args', 'fs-write'),
      args: ['fs-flood'],
      limits: { ...grant().limits, fsBytes: 300 * 1024 }
    });
    expect(end).toMatchObject({ status: 'exited', exitCode: 1, fsCapHit: true });
    expect(stderr).toMatch(/No space left on device after 262144 bytes/);
    expect(end.files[0]!.bytes.length).toBeLessThanOrEqual(300 * 1024);
  });

  it('without fs-write nothing can be created', async () => {
    const { end, stderr } = await run('fs-flood', {
      capabilities: caps('args'),
      args: ['fs-flood']
    });
    expect(end).toMatchObject({ status: 'exited', exitCode: 1 });
    expect(stderr).toMatch(/fs-flood: open:/);
  });
});

describe('runner core: a scratch file renumbered onto a standard descriptor', () => {
  // Before the fix the host guarded files only on descriptors > 2: each variant below wrote all
  // 8 MiB and grew its file to 48 MiB (192 times the cap), exiting 0 with fsCapHit false.
  const limits = { ...grant().limits, fsBytes: 256 * 1024, outputBytes: 64 * 1024 };
  const ENOSPC = 51;

  it.each([0, 1, 2])('onto fd %i: writes, resizes and allocations stop at fsBytes', async (fd) => {
    const { end, stdout, stderr } = await run('fd-renumber', {
      capabilities: caps('args', 'fs-write'),
      args: ['fd-renumber', String(fd)],
      limits
    });
    // Four 64 KiB chunks fit the cap; the fifth write, the resize and the allocation do not.
    const line =
      `fd-renumber: onto fd ${fd}: wrote ${256 * 1024} bytes, write errno ${ENOSPC}, ` +
      `set_size errno ${ENOSPC}, allocate errno ${ENOSPC}\n`;
    expect(fd === 2 ? stdout : stderr).toBe(line);
    expect(end).toMatchObject({ status: 'exited', exitCode: 1, fsCapHit: true });
    expect(end.files.map((f) => [f.path, f.bytes.length])).toEqual([
      ['renumbered.bin', 256 * 1024]
    ]);
    // The report went to the one standard stream left, through the output cap.
    expect(end.stdoutBytes + end.stderrBytes).toBe(line.length);
  });

  it('the standard stream left is still the capped one', async () => {
    const { end, stdout } = await run('fd-renumber', {
      capabilities: caps('args', 'fs-write'),
      args: ['fd-renumber', '2'],
      limits: { ...limits, outputBytes: 20 }
    });
    expect(stdout).toBe('fd-renumber: onto fd');
    expect(end).toMatchObject({ status: 'output-cap', truncated: true, stdoutBytes: 20 });
    expect(end.files[0]!.bytes.length).toBe(256 * 1024);
  });
});

describe('runner core: scratch bytes and entries that are in no listing', () => {
  // Before the fix: unlink held 16 MiB under a 256 KiB cap (the byte count walked the tree
  // only), mkdir and link made 20,000 entries (only path_open's create was counted).
  const limits = { ...grant().limits, fsBytes: 256 * 1024 };
  const ENOSPC = 51;
  const escape = (mode: string) =>
    run('scratch-escape', {
      capabilities: caps('args', 'fs-write'),
      args: ['scratch-escape', mode],
      limits
    });

  it('files unlinked while open still count against fsBytes', async () => {
    const { end, stdout } = await escape('unlink');
    expect(stdout).toBe(`scratch-escape: unlink: held ${256 * 1024} bytes, errno ${ENOSPC}\n`);
    expect(end).toMatchObject({ status: 'exited', exitCode: 0, fsCapHit: true });
  });

  it.each(['mkdir', 'link'])('%s stops at the entry limit', async (mode) => {
    const { end, stdout } = await escape(mode);
    // `p` is the first entry: 9,999 more fit.
    expect(stdout).toBe(`scratch-escape: ${mode}: made 9999, errno ${ENOSPC}\n`);
    expect(end).toMatchObject({ status: 'exited', exitCode: 0, fsCapHit: true });
    // The 9,999 links name the one file `p`: it is reported (and copied) once.
    expect(end.files.length).toBe(1);
  });
});

describe('prepareModule', () => {
  it('refuses bytes that do not hash to the approved digest', async () => {
    const bytes = fixture('hello');
    const altered = bytes.slice();
    altered[altered.length - 1]! ^= 1;
    const prepared = await prepareModule(altered, sha(bytes), 16);
    expect(prepared).toMatchObject({ ok: false, code: 'module.digest-mismatch' });
  });

  it('rewrites a memory with no maximum and records both digests', async () => {
    const bytes = fixture('memory-bomb');
    const prepared = await prepareModule(bytes, sha(bytes), 4);
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.memoryRewritten).toBe(true);
    expect(prepared.moduleSha256).toBe(sha(bytes));
    expect(prepared.runSha256).not.toBe(prepared.moduleSha256);
  });
});

describe('scratch files at the end of a run', () => {
  it('lists a file hard-linked under several names once, so it is copied and counted once', () => {
    const file = new File(new Uint8Array(200 * 1024).fill(7));
    const other = new File(new Uint8Array([1, 2, 3]));
    const scratch = new Directory(
      new Map<string, File | Directory>([
        ['p', file],
        ['l0', file],
        [
          'sub',
          new Directory(
            new Map<string, File | Directory>([
              ['l1', file],
              ['q', other]
            ])
          )
        ]
      ])
    );
    const listed = listFiles(scratch);
    expect(listed.map((f) => [f.path, f.bytes.byteLength])).toEqual([
      ['p', 200 * 1024],
      ['sub/q', 3]
    ]);
    // Within a 256 KiB cap: an honest link is not reported as over it.
    const end = { stdoutBytes: 0, stderrBytes: 0, files: listed } as unknown as RunEnd;
    expect(endOverCap(end, { outputBytes: 1024, fsBytes: 256 * 1024 })).toBeNull();
  });
});
