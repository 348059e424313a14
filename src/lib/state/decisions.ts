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
import { checkPolicy } from '$lib/core/policy/document';
import { evaluatePolicy, type PolicyDecision } from '$lib/core/policy/evaluate';
import { APPROVED_STATES, rebuildInput } from '$lib/core/policy/dry-run';
import { inspectWasm } from '$lib/core/wasm/inspect';
import { lowerGrant, narrowGrant, type Grant, type GrantRequest } from '$lib/core/review';
import { listKeys } from '$lib/storage/keys-store';
import { currentPolicy } from '$lib/storage/policy-store';
import { changePolicy } from './policy-change';
import { getModule, listRequests, moduleBytes } from '$lib/storage/requests-store';
import type { DecisionAction, RequestDecision, RequestRow } from '$lib/storage/records';
import { getRequest, recordDecision } from '$lib/storage/requests-store';
import { runMode } from './run-mode.svelte';
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
  const db = await database();
  // Everything below works from the request as stored, not the caller's copy of it.
  const stored = await getRequest(db, request.id);
  if (!stored || stored.state !== 'pending') {
    return stored
      ? 'This request was decided already (perhaps in another tab).'
      : 'This request no longer exists.';
  }
  request = stored;
  const approving = action === 'approve' || action === 'pin';
  const subject = {
    requestId: request.id,
    ...(request.moduleSha256 ? { moduleSha256: request.moduleSha256 } : {})
  };
  let granted: Grant | undefined;
  if (approving) {
    // The policy, keys and mode in force now, not at intake: a hash blocked, a key revoked or
    // scoped, an expiry passed or lockdown set since then all stop the approval.
    const now = await judgeNow(request);
    if (!now.runnable || now.outcome === 'reject') {
      const why = now.reasons.filter((r) => r.severity === 'deny').map((r) => r.message);
      const text = why.length > 0 ? why.join(' ') : 'Lockdown: nothing can be approved to run.';
      await auditLog.record({
        event: 'decision',
        subject,
        details: {
          action,
          result: 'refused: not approvable now',
          reasons: now.reasons.map((r) => r.code)
        }
      });
      return `Cannot approve: ${text}`;
    }
    const intake = request.policy?.granted ?? now.granted;
    granted = narrowGrant(intake, now.granted);
    if (action === 'pin') {
      const policy = await currentPolicy(db);
      if (policy.blockedHashes.includes(request.moduleSha256)) {
        return 'Cannot pin: this module hash is blocked.';
      }
    }
  }
  const store = await auditLog.store();
  if (granted && override) {
    const lowered = lowerGrant(granted, override);
    if (!lowered.ok) {
      const why = lowered.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
      await auditLog.record({
        event: 'decision',
        subject,
        details: { action, result: 'refused: grant above policy', errors: why }
      });
      return `Refused: a grant can only be lowered, never raised. ${why}.`;
    }
    granted = lowered.grant;
  }
  const body = {
    // A domain tag: this signature means a decision, and cannot be replayed as anything else.
    type: 'nightcore.decision/v1',
    deviceKeyId: store.device.id,
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
  // The decision and its audit record are written in one transaction (requests-store): whatever
  // dies in between (a reload, a closed tab, a crash), both are on disk or neither is.
  const saved = await recordDecision(store, request.id, STATE_AFTER[action], decision, {
    time: Date.now(),
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
  pendingCount.changed();
  if (!saved) {
    // Another tab decided first: its record is the decision; this one says the attempt lost.
    await auditLog.record({
      event: 'decision',
      subject,
      details: { action, result: 'not applied: the request was no longer pending' }
    });
    return 'This request was decided already (perhaps in another tab).';
  }
  await auditLog.refresh();
  if (action === 'pin' || action === 'block') await changeHashLists(request.moduleSha256, action);
  return null;
}

/** What policy says about a stored request now (the same rebuild the dry run uses). */
async function judgeNow(request: RequestRow): Promise<PolicyDecision> {
  const db = await database();
  await runMode.load();
  const [keys, policy, requests, module] = await Promise.all([
    listKeys(db),
    currentPolicy(db),
    listRequests(db),
    request.moduleSha256 ? getModule(db, request.moduleSha256) : Promise.resolve(null)
  ]);
  const inspection = module ? inspectWasm(await moduleBytes(module)) : null;
  // History is every approved version, including those that ran since (state running or done).
  const approved = requests.filter((r) => APPROVED_STATES.includes(r.state));
  const { base } = rebuildInput(request, inspection, [...approved, request]);
  const decision = evaluatePolicy({
    ...base,
    signerTrust: Object.fromEntries(keys.map((k) => [k.id, k.trust])),
    signerScope: Object.fromEntries(
      keys.map((k) => [k.id, { names: k.scope, capabilities: k.capabilities ?? null }])
    ),
    policy,
    mode: runMode.mode
  });
  const expires = request.manifest?.expiresMs ?? null;
  if (expires !== null && expires <= Date.now()) {
    decision.outcome = 'reject';
    decision.runnable = false;
    decision.reasons.push({
      rule: 'expiredBundles',
      code: 'policy.expired',
      message: 'The bundle has expired since it arrived.',
      severity: 'deny'
    });
  }
  return decision;
}

async function changeHashLists(sha256: string, action: 'pin' | 'block'): Promise<void> {
  const subject = { moduleSha256: sha256 };
  let refused: string[] | null = null;
  await changePolicy((before) => {
    const next: Policy =
      action === 'pin'
        ? { ...before, pinnedHashes: unique([...before.pinnedHashes, sha256]) }
        : {
            ...before,
            blockedHashes: unique([...before.blockedHashes, sha256]),
            pinnedHashes: before.pinnedHashes.filter((h) => h !== sha256)
          };
    // A pin of a blocked hash (or any other invalid result) would make a document that does not
    // parse, and storage would fall back to another version: refuse it instead.
    const checked = checkPolicy(JSON.parse(JSON.stringify(next)));
    if (!checked.ok) {
      refused = checked.errors.map((e) => `${e.field}: ${e.message}`);
      return null;
    }
    return {
      policy: next,
      subject,
      details: { change: action === 'pin' ? 'pinned hash' : 'blocked hash' }
    };
  });
  if (refused) {
    await auditLog.record({
      event: 'policy.version',
      subject,
      details: { result: 'refused', errors: refused }
    });
  }
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
