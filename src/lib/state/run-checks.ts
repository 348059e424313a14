/**
 * The steps of a run that need no run state: the deny rules checked again as it starts, the
 * outcome read from the worker's result, joining streamed output, and what a request grants a
 * run (state/runs.svelte.ts).
 */
import { rulesFor } from '$lib/core/policy/document';
import { currentPolicy } from '$lib/storage/policy-store';
import { listKeys } from '$lib/storage/keys-store';
import { NO_VERDICT } from '$lib/storage/requests-store';
import type { RequestRow, RunRow } from '$lib/storage/records';
import type { RunResult } from '$lib/runtime/host';
import type { RunGrant } from '$lib/runtime/protocol';
import type { CapabilityGroup } from '$lib/core/wasm/capabilities';
import type { RunInputs } from './runs.svelte';
import type { RunStatus } from '$lib/core/run-status';
import { database } from './database';
import { runMode } from './run-mode.svelte';

export function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deny rules hold at run time too: a hash blocked or a signer revoked since the approval. */
export async function denyNow(request: RequestRow): Promise<string | null> {
  const db = await database();
  const policy = await currentPolicy(db);
  if (request.verdict.reasons.some((r) => r.code === NO_VERDICT)) {
    return 'It was stored without its verdict: take the bundle in again.';
  }
  // The request's tenant counts: a tenant's block added after approval stops that tenant's runs.
  if (rulesFor(policy, request.tenant).blockedHashes.includes(request.moduleSha256)) {
    return 'This module hash has been blocked since it was approved.';
  }
  const keys = await listKeys(db);
  const revoked = request.verdict.signers.filter(
    (id) => keys.find((k) => k.id === id)?.trust === 'revoked'
  );
  if (revoked.length > 0) return 'Its signer has been revoked since it was approved.';
  // Checked again here (not only at start): the mode may have changed while it was queued.
  if (runMode.mode === 'lockdown') return 'Lockdown: nothing runs.';
  return null;
}

export function fromResult(
  result: RunResult
): Partial<RunRow> & { status: RunStatus; message: string | null } {
  const end = result.end;
  return {
    status: result.status,
    message: result.message,
    exitCode: end?.exitCode ?? null,
    durationMs: end?.durationMs ?? result.durationMs,
    peakMemoryBytes: end?.peakMemoryBytes ?? null,
    truncated: end?.truncated ?? result.status === 'output-cap',
    refusedCalls: end?.refusedCalls ?? {},
    files: end?.files ?? []
  };
}

/** The grant as stored with a run row: limits and capability groups. */
export function grantSummary(request: RequestRow) {
  const granted = request.decision ?? request.policy?.granted;
  return {
    limits: { ...(granted?.limits ?? {}) },
    capabilities: [...(granted?.capabilities ?? [])]
  };
}

/** What this run may have: the human's (or policy's) grant, filled from the signed manifest. */
export function grantFor(request: RequestRow, inputs: RunInputs): RunGrant {
  const granted = request.decision ?? request.policy?.granted;
  const capabilities = (granted?.capabilities ?? []) as CapabilityGroup[];
  const limits = {
    timeoutMs: granted?.limits.timeoutMs ?? 5000,
    memoryMiB: granted?.limits.memoryMiB ?? 64,
    outputBytes: granted?.limits.outputBytes ?? 1024 * 1024,
    fsBytes: granted?.limits.fsBytes ?? 16 * 1024 * 1024
  };
  const manifest = request.manifest ?? null;
  const has = (c: CapabilityGroup) => capabilities.includes(c);
  return {
    capabilities,
    limits,
    // The signed manifest's entry decides what is called; without a manifest, a command.
    entry: manifest?.entry === 'reactor' ? 'reactor' : 'command',
    args: [request.name ?? 'module', ...(has('args') ? (manifest?.args ?? []) : [])],
    env: has('env') ? Object.entries(manifest?.env ?? {}) : [],
    stdin: has('stdin') ? new Uint8Array(inputs.stdin ?? new Uint8Array(0)) : new Uint8Array(0),
    // Plain copies: what the page holds may be reactive proxies, which cannot cross to a worker.
    files: has('fs-read')
      ? (inputs.files ?? []).map((f) => ({ path: String(f.path), bytes: new Uint8Array(f.bytes) }))
      : []
  };
}
