/** Policy versions in IndexedDB; the newest is in force, the built-in default until one is saved. */
import { DEFAULT_POLICY, parsePolicy, type Policy } from '$lib/core/policy/document';
import type { NightCoreDatabase } from './db';

export async function currentPolicy(db: NightCoreDatabase): Promise<Policy> {
  const cursor = await db.transaction('policies').store.openCursor(null, 'prev');
  if (!cursor) return DEFAULT_POLICY;
  const parsed = parsePolicy(cursor.value.document);
  // A stored version that no longer parses cannot loosen anything: fall back to the default.
  return parsed.ok ? parsed.policy : DEFAULT_POLICY;
}
