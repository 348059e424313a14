/**
 * The one way a policy version is written (the Policy page, and pin/block decisions): read the
 * policy in force, derive the next one, record the change in the audit log, then save it; all
 * under one cross-tab lock, so two tabs cannot both build on the same version (one change would
 * silently undo the other) and the audit record, written first, names the version that is saved.
 */
import type { AuditDetails, AuditSubject } from '$lib/core/audit/record';
import type { Policy } from '$lib/core/policy/document';
import { withLock } from '$lib/storage/locks';
import { currentPolicy, nextPolicyVersion, savePolicyVersion } from '$lib/storage/policy-store';
import { auditLog } from './audit-log.svelte';
import { database } from './database';

export interface PolicyChange {
  policy: Policy;
  details: AuditDetails;
  subject?: AuditSubject;
}

const POLICY_LOCK = 'nightcore-policy';

/**
 * `make` sees the policy in force and returns the change, or null to change nothing. Returns the
 * saved policy (with its version number), or null.
 */
export async function changePolicy(
  make: (before: Policy) => PolicyChange | null | Promise<PolicyChange | null>
): Promise<Policy | null> {
  return withLock(POLICY_LOCK, async () => {
    const db = await database();
    const before = await currentPolicy(db);
    const change = await make(before);
    if (change === null) return null;
    const version = await nextPolicyVersion(db);
    // Intent before effect: a page that dies between the two leaves a recorded change that was
    // not saved, never a saved policy nobody recorded.
    await auditLog.record({
      event: 'policy.version',
      subject: change.subject ?? {},
      details: { version, previous: before.version, ...change.details }
    });
    return savePolicyVersion(db, change.policy);
  });
}
