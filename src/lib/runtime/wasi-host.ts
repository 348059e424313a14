/**
 * The WASI preview1 host a run gets: @bjorn3/browser_wasi_shim, wrapped so that
 * - only the functions of granted capability groups (and the baseline) do anything; the rest
 *   answer ENOTCAPABLE and are counted;
 * - every call first checks the run's deadline (the page's watchdog is the other half);
 * - stdout and stderr go to a capped sink that streams batches to the page;
 * - the scratch directory (fs-write) holds at most `fsBytes` of file contents, input files
 *   (fs-read) are read-only, and the shim's known gaps are closed: UTF-16 counting in
 *   args_sizes_get, unbounded file growth, and plain strings thrown from host calls.
 *
 * DOM-free: the same host runs in a browser Worker and in Node's worker_threads.
 */
import {
  Directory,
  File,
  Fd,
  OpenFile,
  PreopenDirectory,
  WASI,
  WASIProcExit,
  wasi as defs,
  type Inode
} from '@bjorn3/browser_wasi_shim';
import {
  BASELINE,
  GROUP_FUNCTIONS,
  REFUSED,
  type CapabilityGroup
} from '$lib/core/wasm/capabilities';
import {
  MAX_SCRATCH_ENTRIES,
  OUTPUT_BATCH_BYTES,
  OUTPUT_FIRST_BATCH_BYTES,
  OUTPUT_FLUSH_MS
} from './limits';
import type { RunGrant, ScratchFile } from './protocol';

/** Thrown through the guest to end a run from a host call; never seen by the guest. */
export class RunStop extends Error {
  constructor(
    readonly reason: 'timeout' | 'output-cap',
    message: string
  ) {
    super(message);
  }
}

/** A host call failed in a way the shim reports by throwing a non-Error (e.g. a string). */
export class HostCallError extends Error {}

export type OutputStream = 'stdout' | 'stderr';
export type OutputSink = (stream: OutputStream, bytes: Uint8Array) => void;

export interface WasiHost {
  imports: WebAssembly.Imports;
  /** Runs `_start`; returns the exit code, or throws (trap, RunStop). */
  start(instance: WebAssembly.Instance): number;
  /** A reactor: runs `_initialize` when exported; returns 0 (or proc_exit's code), or throws. */
  initialize(instance: WebAssembly.Instance): number;
  /** Sends what is buffered. */
  flush(): void;
  stats(): {
    stdoutBytes: number;
    stderrBytes: number;
    truncated: boolean;
    refusedCalls: Record<string, number>;
    fsCapHit: boolean;
  };
  scratchFiles(): ScratchFile[];
}

const WRITE_RIGHTS = BigInt(defs.RIGHTS_FD_WRITE);

/** stdout/stderr: counts against the shared output cap, batches, and stops the run at the cap. */
class CappedOutput extends Fd {
  constructor(
    private readonly stream: OutputStream,
    private readonly budget: OutputBudget
  ) {
    super();
  }
  override fd_fdstat_get() {
    const fdstat = new defs.Fdstat(defs.FILETYPE_CHARACTER_DEVICE, 0);
    fdstat.fs_rights_base = WRITE_RIGHTS;
    return { ret: defs.ERRNO_SUCCESS, fdstat };
  }
  override fd_write(data: Uint8Array) {
    this.budget.write(this.stream, data);
    return { ret: defs.ERRNO_SUCCESS, nwritten: data.byteLength };
  }
  /**
   * fd_write straight from guest memory (the host's fast path): the shim would first copy each
   * iovec into a fresh ArrayBuffer, and in a Chromium worker allocating buffers is what bounds
   * output throughput (docs/performance.md, output).
   */
  writeIovecs(memory: ArrayBuffer, iovs: number, count: number, nwrittenPtr: number): number {
    const view = new DataView(memory);
    let total = 0;
    for (let i = 0; i < count; i++) {
      const ptr = view.getUint32(iovs + i * 8, true);
      const len = view.getUint32(iovs + i * 8 + 4, true);
      if (ptr + len > memory.byteLength) return defs.ERRNO_FAULT;
      this.budget.write(this.stream, new Uint8Array(memory, ptr, len));
      total += len;
    }
    view.setUint32(nwrittenPtr, total, true);
    return defs.ERRNO_SUCCESS;
  }
}

/**
 * The output cap shared by stdout and stderr, and the batching towards the page: bytes are copied
 * once, from the guest's memory into a batch buffer (OUTPUT_FIRST_BATCH_BYTES, doubling up to
 * OUTPUT_BATCH_BYTES while batches fill), sent (transferred) when full, when the stream changes,
 * or OUTPUT_FLUSH_MS after the last send.
 */
class OutputBudget {
  used = 0;
  counts = { stdout: 0, stderr: 0 };
  truncated = false;
  #batch: Uint8Array | null = null;
  #batchSize = OUTPUT_FIRST_BATCH_BYTES;
  #length = 0;
  #stream: OutputStream = 'stdout';
  #lastFlush = performance.now();

  constructor(
    private readonly cap: number,
    private readonly sink: OutputSink
  ) {}

  /** `data` may be a view of guest memory: it is copied before this returns. */
  write(stream: OutputStream, data: Uint8Array): void {
    const kept = Math.min(data.byteLength, Math.max(0, this.cap - this.used));
    if (kept > 0) {
      this.used += kept;
      this.counts[stream] += kept;
      if (this.#length > 0 && this.#stream !== stream) this.flush();
      this.#stream = stream;
      for (let at = 0; at < kept;) {
        // No bigger than what the cap still allows, so a small cap never allocates a full batch.
        this.#batch ??= new Uint8Array(Math.min(this.#batchSize, this.cap - this.used + kept - at));
        const n = Math.min(kept - at, this.#batch.byteLength - this.#length);
        this.#batch.set(data.subarray(at, at + n), this.#length);
        this.#length += n;
        at += n;
        if (this.#length === this.#batch.byteLength) this.flush();
      }
    }
    if (kept < data.byteLength) {
      this.truncated = true;
      this.flush();
      throw new RunStop('output-cap', `Output passed the cap of ${this.cap} bytes.`);
    }
    if (this.#length > 0 && performance.now() - this.#lastFlush >= OUTPUT_FLUSH_MS) this.flush();
  }

  flush(): void {
    this.#lastFlush = performance.now();
    const batch = this.#batch;
    const length = this.#length;
    if (!batch || length === 0) return;
    this.#length = 0;
    if (length === batch.byteLength) {
      // Full: hand the buffer itself over (it is transferred) and start a new one next write.
      this.#batch = null;
      this.#batchSize = Math.min(this.#batchSize * 2, OUTPUT_BATCH_BYTES);
      this.sink(this.#stream, batch);
    } else {
      // Partial: send a copy and keep filling the same buffer.
      this.sink(this.#stream, batch.slice(0, length));
    }
  }
}

/** The read-only input tree: creating, linking or removing entries fails with EROFS. */
class ReadOnlyEntries extends Map<string, Inode> {
  #sealed = false;
  seal(): this {
    this.#sealed = true;
    return this;
  }
  override set(key: string, value: Inode): this {
    if (this.#sealed) throw new ReadOnlyViolation();
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    if (this.#sealed) throw new ReadOnlyViolation();
    return super.delete(key);
  }
}
class ReadOnlyViolation extends Error {}

function inputTree(files: RunGrant['files']): Directory {
  const root = new ReadOnlyEntries();
  const dirs = new Map<string, ReadOnlyEntries>([['', root]]);
  for (const file of files) {
    const parts = file.path.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
    if (parts.length === 0) continue;
    let parent = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const key = parts.slice(0, i + 1).join('/');
      let dir = dirs.get(key);
      if (!dir) {
        dir = new ReadOnlyEntries();
        dirs.set(key, dir);
        parent.set(parts[i]!, new Directory(dir));
      }
      parent = dir;
    }
    parent.set(parts.at(-1)!, new File(file.bytes, { readonly: true }));
  }
  for (const dir of dirs.values()) dir.seal();
  return new Directory(root);
}

export function createWasiHost(grant: RunGrant, deadline: number, sink: OutputSink): WasiHost {
  const granted = new Set<CapabilityGroup>(grant.capabilities);
  const budget = new OutputBudget(grant.limits.outputBytes, sink);
  const refusedCalls: Record<string, number> = {};
  let fsCapHit = false;

  const stdin = new OpenFile(
    new File(granted.has('stdin') ? grant.stdin : new Uint8Array(0), { readonly: true })
  );
  const fds: Fd[] = [stdin, new CappedOutput('stdout', budget), new CappedOutput('stderr', budget)];
  // Preopens: /input (read-only, fs-read) and /scratch (fs-write), in that order after stdio.
  if (granted.has('fs-read'))
    fds.push(new PreopenDirectory('/input', inputTree(grant.files).contents));
  const scratch = granted.has('fs-write') ? new PreopenDirectory('/scratch', new Map()) : null;
  if (scratch) fds.push(scratch);

  const args = granted.has('args') ? grant.args : grant.args.slice(0, 1);
  const env = granted.has('env') ? grant.env.map(([k, v]) => `${k}=${v}`) : [];
  const shim = new WASI(args, env, fds);
  const real = shim.wasiImport as Record<string, (...a: never[]) => unknown>;
  const memory = () => (shim.inst.exports.memory as WebAssembly.Memory).buffer;

  // The shim counts UTF-16 units for argument sizes; wasi-libc then under-allocates for
  // non-ASCII arguments and args_get writes past the buffer. Count UTF-8 bytes.
  const encoder = new TextEncoder();
  real.args_sizes_get = ((argc: number, size: number) => {
    const view = new DataView(memory());
    view.setUint32(argc, args.length, true);
    view.setUint32(
      size,
      args.reduce((n, a) => n + encoder.encode(a).length + 1, 0),
      true
    );
    return defs.ERRNO_SUCCESS;
  }) as never;

  /**
   * Bytes the scratch directory holds: every file in its tree, and every writable file still open
   * (a file unlinked while open is in no directory but keeps its bytes until closed). Each file
   * once, however many names link to it.
   */
  const scratchUsed = () => {
    const held = new Set<File>();
    if (scratch) collectFiles(scratch.dir, held);
    for (const fd of shim.fds) if (fd instanceof OpenFile && !fd.file.readonly) held.add(fd.file);
    let total = 0;
    for (const file of held) total += file.data.byteLength;
    return total;
  };
  /** Growth a write of `len` bytes at the file's position would cause. */
  const growth = (file: OpenFile, end: bigint) =>
    Number(end > file.file.size ? end - file.file.size : 0n);
  /** Size checks before the shim touches a file: read-only files and the fs cap. */
  const fileGuard = (name: string, fd: number, a: number[]): number | null => {
    const target = shim.fds[fd];
    if (!(target instanceof OpenFile)) return null;
    if (target.file.readonly) return defs.ERRNO_BADF;
    let grow = 0;
    if (name === 'fd_write' || name === 'fd_pwrite') {
      const view = new DataView(memory());
      let len = 0;
      for (let i = 0; i < a[2]!; i++) len += view.getUint32(a[1]! + i * 8 + 4, true);
      const at = name === 'fd_pwrite' ? BigInt.asUintN(64, BigInt(a[3]!)) : target.file_pos;
      grow = growth(target, at + BigInt(len));
    } else if (name === 'fd_allocate') {
      grow = growth(target, BigInt(a[1]!) + BigInt(a[2]!));
    } else if (name === 'fd_filestat_set_size') {
      grow = growth(target, BigInt(a[1]!));
    }
    if (grow > 0 && scratchUsed() + grow > grant.limits.fsBytes) {
      fsCapHit = true;
      return defs.ERRNO_NOSPC;
    }
    return null;
  };

  const allowed = new Set<string>(BASELINE);
  for (const group of granted) for (const fn of GROUP_FUNCTIONS[group]) allowed.add(fn);
  // The file system works as a whole: with fs-write alone the scratch directory is the only
  // preopen, so the "read" calls (open, stat, readdir, read) reach nothing else. fd_read also
  // reads opened files; stdin itself (fd 0) still needs the stdin capability, checked per call.
  const files = granted.has('fs-read') || granted.has('fs-write');
  if (files) for (const fn of GROUP_FUNCTIONS['fs-read']) allowed.add(fn);
  if (files) allowed.add('fd_read');
  const stdinGranted = granted.has('stdin');
  const refused = new Set<string>(REFUSED);
  const FILE_OPS = new Set(['fd_write', 'fd_pwrite', 'fd_allocate', 'fd_filestat_set_size']);

  const wrapped: Record<string, (...a: number[]) => unknown> = {};
  for (const [name, fn] of Object.entries(real)) {
    if (!allowed.has(name) || refused.has(name)) {
      wrapped[name] = () => {
        if (performance.now() > deadline) throw timeout();
        refusedCalls[name] = (refusedCalls[name] ?? 0) + 1;
        return defs.ERRNO_NOTCAPABLE;
      };
      continue;
    }
    wrapped[name] = (...a: number[]) => {
      if (performance.now() > deadline) throw timeout();
      if (name === 'fd_read' && a[0] === 0 && !stdinGranted) {
        refusedCalls[name] = (refusedCalls[name] ?? 0) + 1;
        return defs.ERRNO_NOTCAPABLE;
      }
      // Guarded by what the descriptor is, not its number: fd_renumber can move a scratch file
      // onto 0-2 (and stdin onto another number), so "fd > 2" is no test for "a file".
      if (FILE_OPS.has(name)) {
        const refusedWith = fileGuard(name, a[0]!, a);
        if (refusedWith !== null) return refusedWith;
      }
      // Every call that can add a name counts against the entry cap, not only a create.
      const adds =
        name === 'path_create_directory' ||
        name === 'path_link' ||
        (name === 'path_open' && (a[4]! & defs.OFLAGS_CREAT) !== 0);
      if (adds && scratch && countEntries(scratch.dir) >= MAX_SCRATCH_ENTRIES) {
        fsCapHit = true;
        return defs.ERRNO_NOSPC;
      }
      const out = name === 'fd_write' ? shim.fds[a[0]!] : undefined;
      if (out instanceof CappedOutput) return out.writeIovecs(memory(), a[1]!, a[2]!, a[3]!);
      try {
        return (fn as (...x: number[]) => unknown)(...a);
      } catch (error) {
        if (error instanceof WASIProcExit || error instanceof RunStop) throw error;
        if (error instanceof ReadOnlyViolation) return defs.ERRNO_ROFS;
        if (error instanceof Error) throw error;
        throw new HostCallError(`${name}: ${String(error)}`);
      }
    };
  }

  return {
    imports: { wasi_snapshot_preview1: wrapped },
    start(instance) {
      return shim.start(instance as never);
    },
    initialize(instance) {
      try {
        shim.initialize(instance as never);
        return 0;
      } catch (error) {
        // The shim's initialize, unlike its start, lets proc_exit's exception through.
        if (error instanceof WASIProcExit) return error.code;
        throw error;
      }
    },
    flush: () => budget.flush(),
    stats: () => ({
      stdoutBytes: budget.counts.stdout,
      stderrBytes: budget.counts.stderr,
      truncated: budget.truncated,
      refusedCalls: { ...refusedCalls },
      fsCapHit
    }),
    scratchFiles: () => (scratch ? listFiles(scratch.dir) : [])
  };
}

function timeout(): RunStop {
  return new RunStop('timeout', 'The run passed its deadline.');
}

function collectFiles(dir: Directory, into: Set<File>): void {
  for (const entry of dir.contents.values()) {
    if (entry instanceof File) into.add(entry);
    else if (entry instanceof Directory) collectFiles(entry, into);
  }
}

function countEntries(dir: Directory): number {
  let n = 0;
  for (const entry of dir.contents.values()) {
    n++;
    if (entry instanceof Directory) n += countEntries(entry);
  }
  return n;
}

/**
 * Every scratch file once, under the first name found: a file hard-linked under several names is
 * counted once against fsBytes while the run writes, so it is copied and reported once too (else
 * 10,000 links to one full file would be copied 10,000 times, and an honest link would read as
 * over the cap on the page).
 */
export function listFiles(dir: Directory, prefix = '', seen = new Set<File>()): ScratchFile[] {
  const out: ScratchFile[] = [];
  for (const [name, entry] of dir.contents) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (entry instanceof File) {
      if (seen.has(entry)) continue;
      seen.add(entry);
      out.push({ path, bytes: entry.data.slice() });
    } else if (entry instanceof Directory) out.push(...listFiles(entry, path, seen));
  }
  return out;
}
