/**
 * The closed message protocol between the page and a run's worker. The page sends one `start`;
 * the worker sends `output` batches and one `end`. Everything the page receives is checked by
 * `readWorkerMessage` before use: a worker runs hostile code, so its messages are input.
 */
import { CAPABILITY_GROUPS, type CapabilityGroup } from '$lib/core/wasm/capabilities';
import { POLICY_LIMIT_NAMES } from '$lib/core/policy/document';
import { MAX_SCRATCH_ENTRIES, type RunLimits } from './limits';

export type { RunStatus } from '$lib/core/run-status';

/** The outcomes a worker itself can report (killed and interrupted are decided by the page). */
export type WorkerStatus = 'exited' | 'trapped' | 'timeout' | 'memory-cap' | 'output-cap';
export const WORKER_STATUSES: readonly WorkerStatus[] = [
  'exited',
  'trapped',
  'timeout',
  'memory-cap',
  'output-cap'
];

export interface InputFile {
  /** Path under the read-only mount `/input`, e.g. `data.csv` or `dir/x.txt`. */
  path: string;
  bytes: Uint8Array;
}

/** What the approval grants this run: only these reach the module. */
export interface RunGrant {
  capabilities: CapabilityGroup[];
  limits: RunLimits;
  /** argv[0] is the module name; the manifest's args follow (given only with `args`). */
  args: string[];
  /** Given only with `env`. */
  env: [string, string][];
  /** Given only with `stdin`; otherwise stdin is empty. */
  stdin: Uint8Array;
  /** Mounted read-only at `/input`, only with `fs-read`. */
  files: InputFile[];
  /**
   * What the signed manifest says the module is: a command runs `_start`, a reactor only
   * `_initialize`, so what the reviewer read is what runs. Absent (no manifest): a command.
   */
  entry?: RunEntry;
}

export type RunEntry = 'command' | 'reactor';

/** Bytes for the worker to check and compile itself (hashing and compiling 50 MiB takes seconds). */
export interface PrepareRequest {
  /** A Blob straight from storage (the worker reads it), or bytes. */
  bytes: Uint8Array | Blob;
  /** The approved SHA-256: the worker refuses bytes that hash to anything else. */
  sha256: string;
  memoryMiB: number;
}

export interface StartMessage {
  type: 'start';
  runId: string;
  /** A module compiled earlier from the same approved bytes (page cache), or what to prepare. */
  module: WebAssembly.Module | null;
  prepare: PrepareRequest | null;
  grant: RunGrant;
}

export interface ScratchFile {
  path: string;
  bytes: Uint8Array;
}

export interface RunEnd {
  status: WorkerStatus;
  exitCode: number | null;
  /** For `trapped` and `memory-cap`: what the engine or the host said. */
  message: string | null;
  durationMs: number;
  peakMemoryBytes: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** Output was cut at the cap. */
  truncated: boolean;
  /** WASI calls refused because their capability was not granted, by function name. */
  refusedCalls: Record<string, number>;
  /** A write to the scratch directory failed with ENOSPC at the fs cap. */
  fsCapHit: boolean;
  /** Files left in the scratch directory (fs-write), for download. */
  files: ScratchFile[];
}

export type WorkerMessage =
  | { type: 'prepared'; prepared: PreparedModule }
  | { type: 'refused'; code: string; message: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; bytes: Uint8Array }
  | { type: 'end'; end: RunEnd };

/**
 * What the page makes of a message: a well-formed one, or an `end` that is well-formed but
 * reports more than the grant allows (the worker's own caps failed, or it lies): the page ends
 * the run with `message` and keeps nothing the end reported.
 */
export type ReadMessage = WorkerMessage | { type: 'end-over-cap'; message: string };

/** The grant's caps an `end` is checked against. */
export type EndCaps = Pick<RunLimits, 'outputBytes' | 'fsBytes'>;

/** What the worker compiled: for the page's cache, so later runs skip hashing and compiling. */
export interface PreparedModule {
  module: WebAssembly.Module;
  moduleSha256: string;
  runSha256: string;
  memoryRewritten: boolean;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

const MAX_MESSAGE_TEXT = 4096;
const MAX_PATH = 4096;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const exactKeys = (o: Obj, keys: readonly string[]) =>
  Object.keys(o).length === keys.length && keys.every((k) => Object.hasOwn(o, k));

/**
 * Checks a message from a worker; null when it is anything but a well-formed output batch within
 * the output cap or a well-formed end. The page treats null as a misbehaving worker.
 */
export function readWorkerMessage(data: unknown, caps: EndCaps): ReadMessage | null {
  if (!isObj(data)) return null;
  if (data.type === 'output') {
    if (!exactKeys(data, ['type', 'stream', 'bytes'])) return null;
    if (data.stream !== 'stdout' && data.stream !== 'stderr') return null;
    if (!(data.bytes instanceof Uint8Array) || data.bytes.length > caps.outputBytes) return null;
    return { type: 'output', stream: data.stream, bytes: data.bytes };
  }
  if (data.type === 'prepared') {
    if (!exactKeys(data, ['type', 'prepared']) || !isObj(data.prepared)) return null;
    const p = data.prepared;
    if (!exactKeys(p, ['module', 'moduleSha256', 'runSha256', 'memoryRewritten'])) return null;
    if (!(p.module instanceof WebAssembly.Module)) return null;
    if (typeof p.moduleSha256 !== 'string' || !SHA256_RE.test(p.moduleSha256)) return null;
    if (typeof p.runSha256 !== 'string' || !SHA256_RE.test(p.runSha256)) return null;
    if (typeof p.memoryRewritten !== 'boolean') return null;
    return {
      type: 'prepared',
      prepared: {
        module: p.module,
        moduleSha256: p.moduleSha256,
        runSha256: p.runSha256,
        memoryRewritten: p.memoryRewritten
      }
    };
  }
  if (data.type === 'refused') {
    if (!exactKeys(data, ['type', 'code', 'message'])) return null;
    if (typeof data.code !== 'string' || typeof data.message !== 'string') return null;
    return {
      type: 'refused',
      code: data.code.slice(0, 64),
      message: data.message.slice(0, MAX_MESSAGE_TEXT)
    };
  }
  if (data.type === 'end') {
    if (!exactKeys(data, ['type', 'end']) || !isObj(data.end)) return null;
    const end = readEnd(data.end);
    if (!end) return null;
    const over = endOverCap(end, caps);
    return over ? { type: 'end-over-cap', message: over } : { type: 'end', end };
  }
  return null;
}

const END_KEYS = [
  'status',
  'exitCode',
  'message',
  'durationMs',
  'peakMemoryBytes',
  'stdoutBytes',
  'stderrBytes',
  'truncated',
  'refusedCalls',
  'fsCapHit',
  'files'
] as const;

/** Why a well-formed end reports more than the grant allows; null when it is within the caps. */
export function endOverCap(end: RunEnd, caps: EndCaps): string | null {
  const output = end.stdoutBytes + end.stderrBytes;
  if (output > caps.outputBytes)
    return `The worker reported ${output} bytes of output, over the cap of ${caps.outputBytes}; the run was stopped.`;
  if (end.files.length > MAX_SCRATCH_ENTRIES)
    return `The worker reported ${end.files.length} scratch files, over the limit of ${MAX_SCRATCH_ENTRIES}; the run was stopped and its files dropped.`;
  const bytes = end.files.reduce((n, f) => n + f.bytes.byteLength, 0);
  if (bytes > caps.fsBytes)
    return `The worker reported ${bytes} bytes of scratch files, over the fsBytes cap of ${caps.fsBytes}; the run was stopped and its files dropped.`;
  return null;
}

/** Checks the shape of an `end`; `endOverCap` checks it against the grant. */
export function readEnd(e: Obj): RunEnd | null {
  if (!exactKeys(e, END_KEYS)) return null;
  if (!WORKER_STATUSES.includes(e.status as WorkerStatus)) return null;
  const exitCode = e.exitCode;
  if (exitCode !== null && !(Number.isSafeInteger(exitCode) && isCount(exitCode))) return null;
  if (exitCode !== null && (exitCode as number) > 0xffffffff) return null;
  if (e.message !== null && typeof e.message !== 'string') return null;
  if (typeof e.durationMs !== 'number' || !(e.durationMs >= 0)) return null;
  if (!isCount(e.peakMemoryBytes) || !isCount(e.stdoutBytes) || !isCount(e.stderrBytes))
    return null;
  if (typeof e.truncated !== 'boolean' || typeof e.fsCapHit !== 'boolean') return null;
  if (!isObj(e.refusedCalls) || !Object.values(e.refusedCalls).every(isCount)) return null;
  // Past the entry limit the list is refused by endOverCap; no need to walk a huge one first.
  if (!Array.isArray(e.files) || e.files.length > MAX_SCRATCH_ENTRIES + 1) return null;
  const files: ScratchFile[] = [];
  for (const f of e.files as unknown[]) {
    if (!isObj(f) || !exactKeys(f, ['path', 'bytes'])) return null;
    if (typeof f.path !== 'string' || f.path.length === 0 || f.path.length > MAX_PATH) return null;
    if (!(f.bytes instanceof Uint8Array)) return null;
    files.push({ path: f.path, bytes: f.bytes });
  }
  return {
    status: e.status as WorkerStatus,
    exitCode: exitCode as number | null,
    message: e.message === null ? null : (e.message as string).slice(0, MAX_MESSAGE_TEXT),
    durationMs: e.durationMs,
    peakMemoryBytes: e.peakMemoryBytes,
    stdoutBytes: e.stdoutBytes,
    stderrBytes: e.stderrBytes,
    truncated: e.truncated,
    refusedCalls: { ...(e.refusedCalls as Record<string, number>) },
    fsCapHit: e.fsCapHit,
    files
  };
}

/** Checks a grant before it is sent (the page builds it, but from stored data). */
export function grantProblems(grant: RunGrant): string[] {
  const problems: string[] = [];
  if (grant.entry !== undefined && grant.entry !== 'command' && grant.entry !== 'reactor')
    problems.push(`unknown entry ${String(grant.entry)}`);
  for (const c of grant.capabilities)
    if (!CAPABILITY_GROUPS.includes(c)) problems.push(`unknown capability ${String(c)}`);
  for (const n of POLICY_LIMIT_NAMES) {
    const v = grant.limits[n];
    if (!Number.isSafeInteger(v) || v < 1) problems.push(`limit ${n} must be a positive integer`);
  }
  if (grant.args.length > 0 && !grant.capabilities.includes('args') && grant.args.length > 1)
    problems.push('args given without the args capability');
  if (grant.env.length > 0 && !grant.capabilities.includes('env'))
    problems.push('env given without the env capability');
  if (grant.files.length > 0 && !grant.capabilities.includes('fs-read'))
    problems.push('files given without the fs-read capability');
  if (grant.stdin.length > 0 && !grant.capabilities.includes('stdin'))
    problems.push('stdin given without the stdin capability');
  return problems;
}
