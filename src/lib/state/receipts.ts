/**
 * Run receipts (core/receipt.ts): built from the run row when a run ends and signed by the device
 * key, so the Runs page can offer them as files that `nightcore receipt verify` checks offline.
 */
import { buildReceipt, signReceipt, type OutputDigest } from '$lib/core/receipt';
import { sha256Hex } from '$lib/core/digest';
import { utf8 } from '$lib/core/bytes';
import type { RequestRow, RunRow } from '$lib/storage/records';
import type { RunGrant } from '$lib/runtime/protocol';
import { auditLog } from './audit-log.svelte';

/**
 * The signed receipt text for an ended run and the SHA-256 of that text (recorded in the audit
 * log's run.finished / run.killed), or null when it cannot be made (the reason is returned with
 * it; the run is recorded either way).
 */
export async function signRunReceipt(
  row: RunRow,
  request: RequestRow,
  grant: Pick<RunGrant, 'limits' | 'capabilities'>
): Promise<{ receipt: string; sha256: string } | { receipt: null; problem: string }> {
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
            signature: decision.signature,
            statement: decision.statement
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
      stdout: await digest(row.stdout),
      stderr: await digest(row.stderr),
      startedAt: row.startedAt,
      endedAt: row.endedAt ?? Date.now(),
      deviceKeyId: device.id
    });
    const text = await signReceipt(receipt, device, { verify: webCryptoVerify });
    return { receipt: text, sha256: await sha256Hex(utf8(text)) };
  } catch (error) {
    return { receipt: null, problem: error instanceof Error ? error.message : String(error) };
  }
}

/** Hashed with WebCrypto: the output can be MiBs, and the main thread must stay responsive. */
async function digest(bytes: Uint8Array | undefined): Promise<OutputDigest> {
  const data = bytes ?? new Uint8Array(0);
  return { size: data.length, sha256: await sha256Hex(data) };
}

/** The device key's signature checked by WebCrypto (asynchronous, native). */
async function webCryptoVerify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array
): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    'raw',
    publicKey as Uint8Array<ArrayBuffer>,
    { name: 'Ed25519' },
    false,
    ['verify']
  );
  return crypto.subtle.verify(
    'Ed25519',
    key,
    signature as Uint8Array<ArrayBuffer>,
    message as Uint8Array<ArrayBuffer>
  );
}

/** The file name of a run's receipt: `<name>-<first 8 of the run id>.receipt.json`. */
export function receiptFileName(name: string, runId: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'run';
  return `${safe}-${runId.slice(0, 8)}.receipt.json`;
}
