/**
 * The watched folder's jobs: one per unit claimed into pending/, kept in IndexedDB `meta` so a
 * reload resumes them; what a unit brings along (stdin, input files); and the result file.
 */
import {
  AGENT_FOLDERS,
  AGENT_LIMITS,
  FINAL_STATUSES,
  outputText,
  type AgentFolder,
  type AgentResult,
  type AgentStatus
} from '$lib/core/agent-folder';
import type { JsonValue } from '$lib/core/json';
import { formatBytes } from '$lib/core/units';
import type { RequestRow, RunRow } from '$lib/storage/records';
import type { InputFile } from '$lib/runtime/protocol';
import { database } from './database';
import type { RunInputs } from './runs.svelte';
import { filesIn, readFile } from './agent-fs';

export const JOB_PREFIX = 'watch-job:';

export interface WatchJob {
  /** Key in `meta`: JOB_PREFIX + the primary's name in pending/. */
  name: string;
  /** Names as the agent gave them (the result file is named after `file`). */
  file: string;
  signature: string | null;
  stdin: string | null;
  inputDir: string | null;
  /** The same, as moved into pending/ (a name already there gets a suffix). */
  pending: {
    primary: string;
    signature: string | null;
    stdin: string | null;
    inputDir: string | null;
  };
  requestId: string | null;
  /** The status last written to the result file. */
  written: AgentStatus | null;
}

export type Folders = Record<AgentFolder, FileSystemDirectoryHandle>;

export async function openFolders(root: FileSystemDirectoryHandle): Promise<Folders> {
  const entries = await Promise.all(
    AGENT_FOLDERS.map(
      async (name) => [name, await root.getDirectoryHandle(name, { create: true })] as const
    )
  );
  return Object.fromEntries(entries) as Folders;
}

export async function bytesOf(dir: FileSystemDirectoryHandle, name: string): Promise<Uint8Array> {
  const file = await readFile(dir, name);
  if (file.size > AGENT_LIMITS.fileBytes)
    throw new Error(
      `${name} is ${formatBytes(file.size)}; files in the watched folder are limited to ${formatBytes(AGENT_LIMITS.fileBytes)}.`
    );
  return new Uint8Array(await file.arrayBuffer());
}

/** The unit's stdin and input files, within AGENT_LIMITS (a refusal names the limit). */
export async function readInputs(
  pending: FileSystemDirectoryHandle,
  job: WatchJob
): Promise<RunInputs> {
  const inputs: RunInputs = {};
  if (job.pending.stdin) {
    const file = await readFile(pending, job.pending.stdin);
    if (file.size > AGENT_LIMITS.stdinBytes)
      throw new Error(
        `${job.stdin} is ${formatBytes(file.size)}; stdin is limited to ${formatBytes(AGENT_LIMITS.stdinBytes)}.`
      );
    inputs.stdin = new Uint8Array(await file.arrayBuffer());
  }
  if (job.pending.inputDir) {
    const files = await filesIn(await pending.getDirectoryHandle(job.pending.inputDir));
    const total = files.reduce((n, f) => n + f.size, 0);
    if (files.length > AGENT_LIMITS.inputFiles || total > AGENT_LIMITS.inputBytes)
      throw new Error(
        `${job.inputDir}/ holds ${files.length} files (${formatBytes(total)}); the limit is ${AGENT_LIMITS.inputFiles} files and ${formatBytes(AGENT_LIMITS.inputBytes)}.`
      );
    inputs.files = await Promise.all(
      files.map(async (f): Promise<InputFile> => ({
        path: f.name,
        bytes: new Uint8Array(await f.arrayBuffer())
      }))
    );
  }
  return inputs;
}

export async function loadJobs(): Promise<WatchJob[]> {
  const db = await database();
  const rows = await db.getAll('meta', IDBKeyRange.bound(JOB_PREFIX, `${JOB_PREFIX}\uffff`));
  return rows.map((row) => row.value as WatchJob);
}

export async function saveJob(job: WatchJob): Promise<void> {
  await (
    await database()
  ).put('meta', { name: job.name, value: { ...job, pending: { ...job.pending } } });
}

export function runSentence(run: RunRow): string {
  if (run.status === 'exited') return `Ran and exited with code ${run.exitCode ?? 0}.`;
  return `Ran and ended: ${run.status ?? run.outcome}${run.message ? ` (${run.message})` : ''}.`;
}

export function buildResult(
  job: WatchJob,
  request: RequestRow | null,
  movedTo: string | null,
  status: AgentStatus,
  message: string,
  run: RunRow | null
): AgentResult {
  return {
    format: 'nightcore.agent-result/v1',
    file: job.file,
    movedTo,
    requestId: request?.id ?? job.requestId,
    status,
    final: FINAL_STATUSES.includes(status),
    message,
    verdict: request
      ? {
          kind: request.verdict.kind,
          ok: request.verdict.ok,
          reasons: request.verdict.reasons,
          signers: request.verdict.signers
        }
      : null,
    decision: request
      ? {
          policy: request.policy?.outcome ?? null,
          risk: request.policy?.risk.score ?? null,
          rules: (request.policy?.reasons ?? [])
            .filter((r) => r.severity !== 'info')
            .map((r) => ({ code: r.code, message: r.message })),
          reviewer: request.decision?.action ?? null
        }
      : null,
    run: run
      ? {
          id: run.id,
          status: run.status ?? run.outcome ?? 'unknown',
          exitCode: run.exitCode ?? null,
          message: run.message ?? null,
          durationMs: run.durationMs == null ? null : Math.round(run.durationMs),
          stdout: outputText(run.stdout),
          stderr: outputText(run.stderr),
          stdoutBytes: run.stdout?.length ?? 0,
          stderrBytes: run.stderr?.length ?? 0,
          truncated: run.truncated ?? false
        }
      : null,
    receipt: run?.receipt ? (JSON.parse(run.receipt) as JsonValue) : null,
    receiptText: run?.receipt ?? null,
    writtenAt: new Date().toISOString()
  };
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
