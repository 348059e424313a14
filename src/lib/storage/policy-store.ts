/** Policy versions in IndexedDB; the newest is in force, the built-in default until one is saved. */
import { DEFAULT_POLICY, parsePolicy, type Policy } from '$lib/core/policy/document';
import type { NightCoreDatabase } from './db';
import type { PolicyRow } from './records';

export async function currentPolicy(db: NightCoreDatabase): Promise<Policy> {
  // The newest version that parses. One that does not (written by an older build, or damaged)
  // must not silently drop every rule since: the one before it is closer than the default.
  let cursor = await db.transaction('policies').store.openCursor(null, 'prev');
  while (cursor) {
    const parsed = parsePolicy(cursor.value.document);
    if (parsed.ok) return parsed.policy;
    cursor = await cursor.continue();
  }
  return DEFAULT_POLICY;
}

/**
 * Saves `policy` as the next version (versions are never rewritten) and returns it with its
 * version number. The caller audits the change.
 *
 * Numbers continue after the built-in default's (DEFAULT_POLICY.version, never stored): the first
 * saved version is 2, so "version 1" always means the default, in the UI and in audit records.
 * A database that stored a 1 before this rule keeps it and continues from it.
 */
export async function savePolicyVersion(db: NightCoreDatabase, policy: Policy): Promise<Policy> {
  const tx = db.transaction('policies', 'readwrite');
  const last = await tx.store.openCursor(null, 'prev');
  const version = Math.max(last?.value.version ?? 0, DEFAULT_POLICY.version) + 1;
  const saved: Policy = { ...policy, version };
  await tx.store.add({ version, createdAt: Date.now(), document: JSON.stringify(saved, null, 2) });
  await tx.done;
  return saved;
}

/** Every saved version, oldest first (the built-in default is not stored). */
export async function listPolicyVersions(db: NightCoreDatabase): Promise<PolicyRow[]> {
  return db.getAll('policies');
}

/** The number the next saved version will get (see savePolicyVersion). */
export async function nextPolicyVersion(db: NightCoreDatabase): Promise<number> {
  const last = await db.transaction('policies').store.openCursor(null, 'prev');
  return Math.max(last?.value.version ?? 0, DEFAULT_POLICY.version) + 1;
}
