import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, parsePolicy } from '../../src/lib/core/policy/document';
import { openNightCoreDB } from '../../src/lib/storage/db';
import {
  currentPolicy,
  listPolicyVersions,
  savePolicyVersion
} from '../../src/lib/storage/policy-store';

let counter = 0;
const fresh = () => openNightCoreDB({ name: `nightcore-policy-store-${++counter}` });

describe('storage/policy-store', () => {
  it('the built-in default is in force until a version is saved, and is not stored', async () => {
    const db = await fresh();
    expect(await currentPolicy(db)).toEqual(DEFAULT_POLICY);
    expect(await listPolicyVersions(db)).toEqual([]);
  });

  it('numbers stored versions after the built-in default: 2, 3, … (never a second "1")', async () => {
    const db = await fresh();
    const first = await savePolicyVersion(db, { ...DEFAULT_POLICY, threshold: 2 });
    const second = await savePolicyVersion(db, { ...DEFAULT_POLICY, threshold: 3 });
    expect(DEFAULT_POLICY.version).toBe(1);
    expect([first.version, second.version]).toEqual([2, 3]);
    const rows = await listPolicyVersions(db);
    expect(rows.map((r) => r.version)).toEqual([2, 3]);
    // The stored document carries its own number, and the newest is in force.
    const stored = parsePolicy(rows[0]!.document);
    expect(stored.ok && stored.policy.version).toBe(2);
    expect(await currentPolicy(db)).toEqual({ ...DEFAULT_POLICY, threshold: 3, version: 3 });
  });

  it('a database that already stored a version 1 continues from it', async () => {
    const db = await fresh();
    await db.add('policies', {
      version: 1,
      createdAt: 0,
      document: JSON.stringify({ ...DEFAULT_POLICY, name: 'legacy' })
    });
    expect((await savePolicyVersion(db, DEFAULT_POLICY)).version).toBe(2);
  });
});
