/**
 * How the Inbox judges one item: verification against the pinned keys (a revoked signer named as
 * such), the approved history the rollback and drift rules read, and the request row stored for it.
 */
import { verdictKind, type IntakeItem } from '$lib/core/intake';
import { verify, type Verdict } from '$lib/core/verify';
import { reason, type TrustedKey } from '$lib/core/verdict';
import { approvedHistory as coreHistory } from '$lib/core/policy/dry-run';
import type { ApprovedRecord, PolicyDecision } from '$lib/core/policy/evaluate';
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
 * Verifies against keys not revoked, then against the revoked ones: a revoked key that signed is
 * a signer the policy must see (docs/policy.md rule 3 denies it), whether or not a trusted
 * co-signer made the bundle pass. When nothing trusted signed, the failure is named as a revoked
 * signer (rejected, never merely "unknown"). The second pass costs a second read of the input, and
 * only when some key is revoked.
 */
export async function verifyAgainst(item: IntakeItem, keys: readonly KeyRow[]): Promise<Verdict> {
  const trusted = (rows: readonly KeyRow[]): TrustedKey[] =>
    rows.map((row) => ({ id: row.id, publicKey: row.publicKey, label: row.label }));
  const verdict = await verify(item.input, trusted(keys.filter((k) => k.trust !== 'revoked')));
  const revoked = keys.filter((k) => k.trust === 'revoked');
  if (revoked.length === 0) return verdict;
  const byRevoked = await verify(item.input, trusted(revoked));
  const signedBy = revoked.filter((k) => byRevoked.signers.includes(k.id));
  if (signedBy.length === 0) return verdict;
  verdict.signers = [...new Set([...verdict.signers, ...signedBy.map((k) => k.id)])];
  const labels = signedBy.map((k) => k.label).join(', ');
  if (!verdict.ok && verdict.reasons.some((r) => r.code === 'signature.untrusted')) {
    verdict.reasons = verdict.reasons.map((r) =>
      r.code === 'signature.untrusted'
        ? reason('signature.revoked', `Signed by a key you revoked (${labels}).`)
        : r
    );
  } else if (verdict.ok) {
    verdict.notes.push(
      reason('signature.revoked', `Also signed by a key you revoked (${labels}).`)
    );
  }
  return verdict;
}

/**
 * Modules approved before (by a human or by policy, and those that ran since): the history
 * rollback and drift rules use. The same function the approval re-check and the dry run use.
 */
export function approvedHistory(requests: readonly RequestRow[]): ApprovedRecord[] {
  return coreHistory(requests);
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
    policy: decision,
    ...(verdict.tenant !== undefined ? { tenant: verdict.tenant } : {})
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
