/**
 * Run receipts (core/receipt.ts): built from the run row when a run ends and signed by the device
 * key, so the Runs page can offer them as files that `nightcore receipt verify` checks offline.
 */
import { buildReceipt, signReceipt } from '$lib/core/receipt';
import type { RequestRow, RunRow } from '$lib/storage/records';
import type { RunGrant } from '$lib/runtime/protocol';
import { auditLog } from './audit-log.svelte';

/**
 * The signed receipt text for an ended run, or null when it cannot be made (the reason is
 * returned with it; the run is recorded either way).
 */
export async function signRunReceipt(
  row: RunRow,
  request: RequestRow,
  grant: Pick<RunGrant, 'limits' | 'capabilities'>
): Promise<{ receipt: string } | { receipt: null; problem: string }> {
  try {
    const device = (await auditLog.store()).device;
    const decision = request.decision;
    const receipt = buildReceipt({
      runId: row.id,
      requestId: row.requestId,
      name: row.name ?? null,
      version: row.version ?? null,
      moduleSha256: row.moduleSha256,
      moduleSize: request.size,
      runSha256: row.runSha256 ?? null,
      manifestSha256: request.manifestSha256,
      decision: decision
        ? {
            action: decision.action,
            decidedAt: decision.decidedAt,
            deviceKeyId: decision.deviceKeyId,
            signature: decision.signature
          }
        : null,
      limits: { ...grant.limits },
      capabilities: grant.capabilities,
      status: row.status ?? 'interrupted',
      exitCode: row.exitCode ?? null,
      message: row.message ?? null,
      durationMs: row.durationMs ?? null,
      peakMemoryBytes: row.peakMemoryBytes ?? null,
      truncated: row.truncated ?? false,
      stdout: row.stdout ?? new Uint8Array(0),
      stderr: row.stderr ?? new Uint8Array(0),
      startedAt: row.startedAt,
      endedAt: row.endedAt ?? Date.now(),
      deviceKeyId: device.id
    });
    return { receipt: await signReceipt(receipt, device) };
  } catch (error) {
    return { receipt: null, problem: error instanceof Error ? error.message : String(error) };
  }
}

/** The file name of a run's receipt: `<name>-<first 8 of the run id>.receipt.json`. */
export function receiptFileName(name: string, runId: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'run';
  return `${safe}-${runId.slice(0, 8)}.receipt.json`;
}
