/**
 * The watched agent folder (docs/agents.md), the parts that need no file system: which entries of
 * `inbox/` make one unit of work (a bundle or a module with its signature, plus optional stdin and
 * input files named after it), when a unit has settled (nothing still being written), and the
 * result file an agent reads from `outbox/`. The browser side (state/watched-folder) lists, reads
 * and moves the entries through FileSystemDirectoryHandle.
 */
import type { JsonValue } from './json';

/** A reason as the result file gives it: a stable code and a sentence. */
export interface Said {
  code: string;
  message: string;
}

/** The folders inside the granted directory: created when missing. */
export const AGENT_FOLDERS = ['inbox', 'pending', 'processed', 'rejected', 'outbox'] as const;
export type AgentFolder = (typeof AGENT_FOLDERS)[number];

export interface FolderEntry {
  name: string;
  kind: 'file' | 'directory';
  /** Files only: bytes and last-modified time (ms), to see whether a writer has finished. */
  size: number;
  lastModified: number;
}

/** One piece of work: the primary file and everything named after it. */
export interface InboxUnit {
  /** The bundle (.ncb, .json), module (.wasm) or tenant zip (.zip). */
  primary: string;
  /** A .wasm's detached signature (`hello.wasm.minisig`, `hello.sig`, …), when present. */
  signature: string | null;
  /** `<primary>.stdin`: the module's standard input, when present. */
  stdin: string | null;
  /** `<primary>.input/`: files mounted read-only when the grant includes fs-read. */
  inputDir: string | null;
}

const PRIMARY = /\.(ncb|json|wasm|zip)$/i;
const SIGNATURE_SUFFIXES = ['.minisig', '.sig', '.sshsig', '.ed25519'];
/** Being written (browsers' swap files, download and editor temporaries) or hidden: never read. */
const IN_PROGRESS = /(\.part|\.tmp|\.crswap|\.crdownload|~)$/i;

/** Caps on what one unit may bring along (the module itself has the Inbox's caps). */
export const AGENT_LIMITS = {
  /** A bundle, module, zip or signature file (the Inbox refuses a drop over 2 GiB in all). */
  fileBytes: 1024 * 1024 * 1024,
  /** Units taken in per poll; the rest wait for the next (the page stays responsive). */
  unitsPerPoll: 16,
  stdinBytes: 16 * 1024 * 1024,
  inputFiles: 100,
  inputBytes: 64 * 1024 * 1024
} as const;

/**
 * The inbox's entries sorted into units, files nobody can use (`unknown`: moved to rejected/ with
 * a result saying why), and entries left where they are: companions whose primary has not
 * arrived, files still being written, hidden files, directories not named after a unit.
 */
export function planInbox(entries: readonly FolderEntry[]): {
  units: InboxUnit[];
  unknown: string[];
} {
  const files = new Set(
    entries
      .filter((e) => e.kind === 'file' && !e.name.startsWith('.') && !IN_PROGRESS.test(e.name))
      .map((e) => e.name)
  );
  const dirs = new Set(entries.filter((e) => e.kind === 'directory').map((e) => e.name));
  const used = new Set<string>();
  const units: InboxUnit[] = [];
  for (const name of [...files].sort()) {
    if (!PRIMARY.test(name)) continue;
    // A .json next to a .wasm of the same stem is not a bundle of its own only if it is a
    // companion; bundles are .ncb or .json, and a .json is never a companion here.
    let signature: string | null = null;
    if (/\.wasm$/i.test(name)) {
      const stem = name.replace(/\.wasm$/i, '');
      signature =
        [name, stem]
          .flatMap((base) => SIGNATURE_SUFFIXES.map((suffix) => `${base}${suffix}`))
          .find((candidate) => files.has(candidate)) ?? null;
    }
    const stdin = files.has(`${name}.stdin`) ? `${name}.stdin` : null;
    const inputDir = dirs.has(`${name}.input`) ? `${name}.input` : null;
    units.push({ primary: name, signature, stdin, inputDir });
    used.add(name);
    if (signature) used.add(signature);
    if (stdin) used.add(stdin);
  }
  const unknown = [...files].filter((name) => !used.has(name) && !isCompanion(name)).sort();
  return { units, unknown };
}

/** A signature or stdin file waits for its module: agents may write it first. */
function isCompanion(name: string): boolean {
  return name.endsWith('.stdin') || SIGNATURE_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** The files of a unit (the input directory is moved as a whole beside them). */
export function unitFiles(unit: InboxUnit): string[] {
  return [unit.primary, unit.signature, unit.stdin].filter((n): n is string => n !== null);
}

/** What a file looked like at one poll: a writer that has finished leaves it unchanged. */
export function fingerprint(entry: FolderEntry): string {
  return `${entry.size}:${entry.lastModified}`;
}

/**
 * A unit is taken once every file of it looks the same as at the previous poll, so a bundle
 * still being copied in is not read half-written (agents should still write elsewhere and
 * rename; see docs/agents.md).
 */
export function settled(
  unit: InboxUnit,
  now: ReadonlyMap<string, string>,
  before: ReadonlyMap<string, string>
): boolean {
  return unitFiles(unit).every(
    (name) => now.get(name) !== undefined && now.get(name) === before.get(name)
  );
}

/** `outbox/<file>.result.json`: the file's whole name, so hello.ncb and hello.wasm never clash. */
export function resultFileName(file: string): string {
  return `${file}.result.json`;
}

/** A name in `folder` not taken yet: `hello.ncb`, then `hello-2.ncb`, `hello-3.ncb`, … */
export function freeName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  const dot = name.indexOf('.', 1);
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 2; ; n++) {
    const candidate = `${stem}-${n}${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/**
 * Where a unit stands, as the agent reads it:
 * - `waiting-review`: a person must approve or deny it in Night Core;
 * - `held`: approved, but not started (lockdown, or the auto lane is paused);
 * - `running`: started;
 * - `done`: the run ended (see `run.status` for how);
 * - `rejected`: verification or policy refused it (see `verdict` and `decision`);
 * - `denied`: a person denied it;
 * - `refused`: not taken in at all (not a bundle, too large, unreadable).
 */
export type AgentStatus =
  'waiting-review' | 'held' | 'running' | 'done' | 'rejected' | 'denied' | 'refused';

export const FINAL_STATUSES: readonly AgentStatus[] = ['done', 'rejected', 'denied', 'refused'];

export interface AgentRunResult {
  id: string;
  status: string;
  exitCode: number | null;
  message: string | null;
  durationMs: number | null;
  /** Up to the output cap of the run, decoded as UTF-8 (invalid bytes become U+FFFD). */
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  /** True when the output cap cut the output. */
  truncated: boolean;
}

export interface AgentResult {
  format: 'nightcore.agent-result/v1';
  /** The file the agent dropped in inbox/ (its name in processed/ or rejected/ may differ). */
  file: string;
  /** Where the file is now, relative to the granted directory. */
  movedTo: string | null;
  requestId: string | null;
  status: AgentStatus;
  /** True once nothing more will happen to this file: the agent can stop waiting. */
  final: boolean;
  /** One sentence for a person reading the result. */
  message: string;
  verdict: {
    kind: string;
    ok: boolean;
    reasons: Said[];
    signers: string[];
  } | null;
  decision: {
    /** What the policy said at intake. */
    policy: 'auto-approve' | 'review' | 'reject' | null;
    risk: number | null;
    rules: Said[];
    /** A person's decision, when one was made. */
    reviewer: 'approve' | 'pin' | 'deny' | 'block' | null;
  } | null;
  run: AgentRunResult | null;
  /** The signed run receipt (core/receipt.ts), verifiable with `nightcore receipt verify`. */
  receipt: JsonValue | null;
  /** The same receipt as the exact signed text: save it as a file to verify it. */
  receiptText: string | null;
  writtenAt: string;
}

/** The result file's text: stable key order, two-space indent, ending in a newline. */
export function resultText(result: AgentResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** Output bytes as text for the result (the run row keeps them up to the cap). */
export function outputText(bytes: Uint8Array | undefined): string {
  return bytes ? new TextDecoder('utf-8', { fatal: false }).decode(bytes) : '';
}
