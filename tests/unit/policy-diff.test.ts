import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '../../src/lib/core/policy/document';
import { diffPolicies, summarizeChanges, type PolicyChange } from '../../src/lib/core/policy/diff';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
const C = 'cc'.repeat(32);
const base: Policy = structuredClone(DEFAULT_POLICY);
const edit = (patch: (p: Policy) => void): Policy => {
  const p = structuredClone(base);
  patch(p);
  return p;
};

interface Case {
  name: string;
  before: Policy;
  after: Policy;
  changes: PolicyChange[];
  summary: string;
}

const CASES: Case[] = [
  { name: 'identical', before: base, after: edit(() => {}), changes: [], summary: 'no change' },
  {
    name: 'only the version differs (storage assigns it)',
    before: base,
    after: edit((p) => (p.version = 7)),
    changes: [],
    summary: 'no change'
  },
  {
    name: 'a choice',
    before: base,
    after: edit((p) => (p.unknownSigner = 'reject')),
    changes: [{ field: 'unknownSigner', kind: 'changed', before: 'review', after: 'reject' }],
    summary: 'unknownSigner "review" → "reject"'
  },
  {
    name: 'a nested limit, and the name',
    before: base,
    after: edit((p) => {
      p.name = 'strict';
      p.limits.maximum.memoryMiB = 256;
    }),
    changes: [
      { field: 'name', kind: 'changed', before: 'default', after: 'strict' },
      { field: 'limits.maximum.memoryMiB', kind: 'changed', before: 512, after: 256 }
    ],
    summary: 'name "default" → "strict"; limits.maximum.memoryMiB 512 → 256'
  },
  {
    name: 'hashes added and removed (entries, not positions)',
    before: edit((p) => (p.blockedHashes = [A, B])),
    after: edit((p) => (p.blockedHashes = [B, C])),
    changes: [
      { field: 'blockedHashes', kind: 'removed', before: A, entry: true },
      { field: 'blockedHashes', kind: 'added', after: C, entry: true }
    ],
    summary: 'blockedHashes +1, blockedHashes −1'
  },
  {
    name: 'reordering a list is no change',
    before: edit((p) => (p.pinnedHashes = [A, B])),
    after: edit((p) => (p.pinnedHashes = [B, A])),
    changes: [],
    summary: 'no change'
  },
  {
    name: 'capabilities allowed and withdrawn',
    before: base,
    after: edit((p) => (p.allowedCapabilities = ['args', 'clock', 'fs-read'])),
    changes: [
      { field: 'allowedCapabilities', kind: 'removed', before: 'env', entry: true },
      { field: 'allowedCapabilities', kind: 'removed', before: 'random', entry: true },
      { field: 'allowedCapabilities', kind: 'removed', before: 'stdin', entry: true },
      { field: 'allowedCapabilities', kind: 'added', after: 'fs-read', entry: true }
    ],
    summary: 'allowedCapabilities +1, allowedCapabilities −3'
  },
  {
    name: 'a tenant added',
    before: base,
    after: edit((p) => (p.tenants = { acme: { threshold: 2 } })),
    changes: [{ field: 'tenants', kind: 'added', after: { acme: { threshold: 2 } } }],
    summary: 'tenants added'
  },
  {
    name: 'inside a tenant: a field changed, one added, a tenant removed',
    before: edit((p) => (p.tenants = { acme: { threshold: 2 }, beta: { drift: 'review' } })),
    after: edit((p) => (p.tenants = { acme: { threshold: 3, unsigned: 'review' } })),
    changes: [
      { field: 'tenants.acme.threshold', kind: 'changed', before: 2, after: 3 },
      { field: 'tenants.acme.unsigned', kind: 'added', after: 'review' },
      { field: 'tenants.beta', kind: 'removed', before: { drift: 'review' } }
    ],
    summary: 'tenants.acme.threshold 2 → 3; tenants.acme.unsigned added; tenants.beta removed'
  },
  {
    name: 'tenants dropped altogether',
    before: edit((p) => (p.tenants = { acme: { blockedHashes: [A] } })),
    after: base,
    changes: [{ field: 'tenants', kind: 'removed', before: { acme: { blockedHashes: [A] } } }],
    summary: 'tenants removed'
  }
];

describe('diffPolicies', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const changes = diffPolicies(c.before, c.after);
      expect(changes, c.name).toEqual(c.changes);
      expect(summarizeChanges(changes), c.name).toBe(c.summary);
    });
  }

  it('is symmetric: swapping the sides swaps added/removed and before/after', () => {
    for (const c of CASES) {
      const back = diffPolicies(c.after, c.before);
      expect(back.length, c.name).toBe(c.changes.length);
      for (const change of c.changes) {
        const flipped: PolicyChange =
          change.kind === 'changed'
            ? { field: change.field, kind: 'changed', before: change.after!, after: change.before! }
            : change.kind === 'added'
              ? { ...omit(change, 'after'), kind: 'removed', before: change.after! }
              : { ...omit(change, 'before'), kind: 'added', after: change.before! };
        expect(back, c.name).toContainEqual(flipped);
      }
    }
  });

  it('compares documents as parsePolicy reads them (a parsed copy diffs to nothing)', () => {
    const text = JSON.stringify({
      ...base,
      tenants: { acme: { limits: { defaults: { fsBytes: 1 } } } }
    });
    const parsed = parsePolicy(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const reparsed = parsePolicy(JSON.stringify(parsed.policy));
    expect(reparsed.ok && diffPolicies(parsed.policy, reparsed.policy)).toEqual([]);
    expect(diffPolicies(base, parsed.policy)).toEqual([
      { field: 'tenants', kind: 'added', after: { acme: { limits: { defaults: { fsBytes: 1 } } } } }
    ]);
  });

  it('does not modify its inputs', () => {
    const before = edit((p) => (p.blockedHashes = [A]));
    const after = edit((p) => (p.blockedHashes = [B]));
    const copies = [structuredClone(before), structuredClone(after)];
    diffPolicies(before, after);
    expect([before, after]).toEqual(copies);
  });
});

function omit<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}
