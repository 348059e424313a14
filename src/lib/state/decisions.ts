/**
 * Human decisions on pending requests: approve once, approve and pin the hash, deny, deny and
 * block the hash. An approval binds the module SHA-256 and the manifest digest to the limits and
 * capabilities granted, is signed by the device key, and is audited. Pin and block change the
 * policy: a new version, audited too.
 *
 * A reviewer may lower the grant (docs/review.md). The override is checked here with core's
 * lowerGrant against the policy grant of the request as stored, not as the caller passed it, so a
 * form edited around its limits cannot raise anything: the attempt is refused and audited.
 */
import { toBase64, utf8 } from '$lib/core/bytes';
import type { Policy } from '$lib/core/policy/document';
import { lowerGrant, type Grant, type GrantRequest } from '$lib/core/review';
import { currentPolicy, savePolicyVersion } from '$lib/storage/policy-store';
import type { DecisionAction, RequestDecision, RequestRow } from '$lib/storage/records';
import { getRequest, recordDecision } from '$lib/storage/requests-store';
import { pendingCount } from './pending.svelte';
import { auditLog } from './audit-log.svelte';
import { database } from './database';

export type { DecisionAction, GrantRequest };

const STATE_AFTER: Record<DecisionAction, RequestRow['state']> = {
  approve: 'approved',
  pin: 'approved',
  deny: 'denied',
  block: 'denied'
};

/**
 * Decides a pending request. `override` lowers the grant of an approval (limits and capabilities
 * only ever go down); it is ignored for denials. Returns null, or why nothing was decided.
 */
export async function decide(
  request: RequestRow,
  action: DecisionAction,
  override?: GrantRequest
): Promise<string | null> {
  if (request.state !== 'pending') return 'Only a pending request can be decided.';
  if ((action === 'approve' || action === 'pin') && request.policy && !request.policy.runnable) {
    return 'This request cannot be approved in the current state (lockdown, or the policy rejects it).';
  }
  const db = await database();
  const store = await auditLog.store();
  let granted: Grant | undefined =
    action === 'approve' || action === 'pin' ? request.policy?.granted : undefined;
  if (granted && override) {
    // Judge against the stored request: the caller's copy is only as trustworthy as the page.
    const stored = await getRequest(db, request.id);
    const base = stored?.policy?.granted;
    const lowered = base
      ? lowerGrant(base, override)
      : { ok: false as const, errors: [{ field: 'grant', message: 'the request has no grant' }] };
    if (!lowered.ok) {
      const why = lowered.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      await auditLog.record({
        event: 'decision',
        subject: {
          requestId: request.id,
          ...(request.moduleSha256 ? { moduleSha256: request.moduleSha256 } : {})
        },
        details: { action, result: 'refused: grant above policy', errors: why }
      });
      return `Refused: a grant can only be lowered, never raised. ${why}.`;
    }
    granted = lowered.grant;
  }
  const body = {
    action,
    decidedAt: Date.now(),
    requestId: request.id,
    moduleSha256: request.moduleSha256,
    manifestSha256: request.manifestSha256,
    limits: { ...(granted?.limits ?? {}) },
    capabilities: [...(granted?.capabilities ?? [])]
  };
  const statement = JSON.stringify(body);
  const signature = toBase64(await store.device.sign(utf8(statement)));
  const decision: RequestDecision = {
    action,
    decidedAt: body.decidedAt,
    moduleSha256: body.moduleSha256,
    manifestSha256: body.manifestSha256,
    limits: body.limits,
    capabilities: body.capabilities,
    statement,
    signature,
    deviceKeyId: store.device.id
  };
  // Audit first (intent before effect): a page that dies in between leaves a recorded decision
  // that did not take effect, never an approval that nobody recorded.
  const subject = {
    requestId: request.id,
    ...(request.moduleSha256 ? { moduleSha256: request.moduleSha256 } : {})
  };
  await auditLog.record({
    event: 'decision',
    subject,
    details: {
      action,
      limits: body.limits,
      capabilities: body.capabilities,
      manifestSha256: request.manifestSha256,
      signature
    }
  });
  const saved = await recordDecision(db, request.id, STATE_AFTER[action], decision);
  pendingCount.changed();
  if (!saved) {
    await auditLog.record({
      event: 'decision',
      subject,
      details: { action, result: 'not applied: the request was no longer pending' }
    });
    return 'This request was decided already (perhaps in another tab).';
  }
  if (action === 'pin' || action === 'block') await changeHashLists(request.moduleSha256, action);
  return null;
}

async function changeHashLists(sha256: string, action: 'pin' | 'block'): Promise<void> {
  const db = await database();
  const before = await currentPolicy(db);
  const next: Policy =
    action === 'pin'
      ? { ...before, pinnedHashes: unique([...before.pinnedHashes, sha256]) }
      : {
          ...before,
          blockedHashes: unique([...before.blockedHashes, sha256]),
          pinnedHashes: before.pinnedHashes.filter((h) => h !== sha256)
        };
  const saved = await savePolicyVersion(db, next);
  await auditLog.record({
    event: 'policy.version',
    subject: { moduleSha256: sha256 },
    details: { version: saved.version, change: action === 'pin' ? 'pinned hash' : 'blocked hash' }
  });
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
