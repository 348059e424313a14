/**
 * How the Inbox judges one item: verification against the pinned keys (a revoked signer named as
 * such), the approved history the rollback and drift rules read, and the request row stored for it.
 */
import { verdictKind, type IntakeItem } from '$lib/core/intake';
import { verify, type Verdict } from '$lib/core/verify';
import { reason, type TrustedKey } from '$lib/core/verdict';
import type { PolicyDecision } from '$lib/core/policy/evaluate';
import type { KeyRow, RequestRow, RequestVerdict } from '$lib/storage/records';

/** Items at least this large show verification progress even alone. */
export const PROGRESS_FROM_BYTES = 4 * 1024 * 1024;

export function moduleSize(item: IntakeItem): number {
  const input = item.input;
  if (input.kind === 'bundle' || input.kind === 'tenant-zip') return input.bytes.length;
  if (input.kind === 'tenant') return [...input.files.values()].reduce((n, b) => n + b.length, 0);
  return input.module.length;
}

/**
 * Verifies against keys not revoked. When that fails for want of a trusted signer, a signature by
 * a revoked key is named as such (a revoked signer is rejected, never merely "unknown").
 */
export async function verifyAgainst(item: IntakeItem, keys: readonly KeyRow[]): Promise<Verdict> {
  const trusted = (rows: readonly KeyRow[]): TrustedKey[] =>
    rows.map((row) => ({ id: row.id, publicKey: row.publicKey, label: row.label }));
  const verdict = await verify(item.input, trusted(keys.filter((k) => k.trust !== 'revoked')));
  const revoked = keys.filter((k) => k.trust === 'revoked');
  if (
    !verdict.ok &&
    revoked.length > 0 &&
    verdict.reasons.some((r) => r.code === 'signature.untrusted')
  ) {
    const byRevoked = await verify(item.input, trusted(revoked));
    if (byRevoked.signers.length > 0) {
      const labels = revoked.filter((k) => byRevoked.signers.includes(k.id)).map((k) => k.label);
      verdict.reasons = verdict.reasons.map((r) =>
        r.code === 'signature.untrusted'
          ? reason('signature.revoked', `Signed by a key you revoked (${labels.join(', ')}).`)
          : r
      );
    }
  }
  return verdict;
}

/** Modules approved before (by a human or by policy): the history rollback and drift rules use. */
export function approvedHistory(requests: readonly RequestRow[]) {
  return requests
    .filter(
      (r) =>
        ['approved', 'auto-approved', 'running', 'done'].includes(r.state) && r.name && r.version
    )
    .map((r) => ({
      name: r.name!,
      version: r.version!,
      moduleSha256: r.moduleSha256,
      signer: r.verdict.signers[0] ?? ''
    }));
}

const STATE_OF = {
  'auto-approve': 'auto-approved',
  review: 'pending',
  reject: 'rejected'
} as const;

export function toRequest(
  item: IntakeItem,
  verdict: Verdict,
  channel: string,
  decision: PolicyDecision
): RequestRow {
  return {
    id: crypto.randomUUID(),
    state: STATE_OF[decision.outcome],
    createdAt: Date.now(),
    channel,
    moduleSha256: verdict.module?.sha256 ?? '',
    manifestSha256: verdict.manifestSha256,
    fileName: item.fileName,
    name: verdict.manifest?.name ?? verdict.name,
    version: verdict.manifest?.version ?? null,
    format: verdict.format,
    size: verdict.module?.size ?? null,
    manifest: verdict.manifest,
    verdict: storedVerdict(verdict),
    policy: decision
  };
}

/** The verdict kept with the request: Verdict minus the bytes, with minisign's comments. */
export function storedVerdict(verdict: Verdict): RequestVerdict {
  const stored: RequestVerdict = {
    ok: verdict.ok,
    kind: verdictKind(verdict),
    reasons: verdict.reasons,
    notes: verdict.notes,
    signers: verdict.signers
  };
  if (verdict.trustedComment !== undefined) stored.trustedComment = verdict.trustedComment;
  if (verdict.untrustedComment !== undefined) stored.untrustedComment = verdict.untrustedComment;
  return stored;
}

/**
 * What the verdict's audit record adds for a minisign signature: the trusted comment (what was
 * signed, so the log says it). The untrusted comment stays out: the log records what was proven.
 */
export function signedCommentDetails(stored: RequestVerdict): { trustedComment?: string } {
  return stored.trustedComment === undefined ? {} : { trustedComment: stored.trustedComment };
}
