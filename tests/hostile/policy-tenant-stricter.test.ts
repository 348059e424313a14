/**
 * Tenant overrides as properties: tenant names are not signed (anyone can build an `acme/` zip), so
 * for any valid base and any override, the rules in force for that tenant are at least as strict as
 * the base on every field AND at least as strict as the override on every field; and looserOverrides
 * names a scalar override value exactly when it does not apply as written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LIMIT_BOUNDS,
  looserOverrides,
  MAX_MODULE_BYTES_CAP,
  MAX_THRESHOLD,
  parsePolicy,
  POLICY_LIMIT_NAMES,
  rulesFor,
  type Policy,
  type PolicyLimits,
  type PolicyRules,
  type TenantOverride
} from '../../src/lib/core/policy/document';
import { CAPABILITY_GROUPS } from '../../src/lib/core/wasm/capabilities';
import { params } from './harness';

const CHOICES = ['unsigned', 'unknownSigner', 'rollback', 'drift', 'foreignImports'] as const;
/** A small pool, so base and override lists overlap often. */
const HASHES = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(64));

const choice = fc.constantFrom<'reject' | 'review'>('reject', 'review');
const threshold = fc.integer({ min: 1, max: MAX_THRESHOLD });
// Small sizes too, so base and override are often close or equal.
const size = fc.oneof(
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: MAX_MODULE_BYTES_CAP })
);
const limit = (name: keyof PolicyLimits) =>
  fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: LIMIT_BOUNDS[name].max }));
const caps = fc.subarray([...CAPABILITY_GROUPS]);
const hashes = fc.subarray(HASHES);

/** A valid base: every default at most its maximum, pinned and blocked disjoint. */
const base: fc.Arbitrary<PolicyRules> = fc
  .record({
    unsigned: choice,
    unknownSigner: choice,
    rollback: choice,
    drift: choice,
    foreignImports: choice,
    threshold,
    maxModuleBytes: size,
    pairs: fc.tuple(...POLICY_LIMIT_NAMES.map((n) => fc.tuple(limit(n), limit(n)))),
    allowedCapabilities: caps,
    blockedHashes: hashes,
    pinnedHashes: hashes
  })
  .map(({ pairs, ...r }) => {
    const defaults = {} as PolicyLimits;
    const maximum = {} as PolicyLimits;
    POLICY_LIMIT_NAMES.forEach((n, i) => {
      const [x, y] = pairs[i]!;
      defaults[n] = Math.min(x, y);
      maximum[n] = Math.max(x, y);
    });
    const pinnedHashes = r.pinnedHashes.filter((h) => !r.blockedHashes.includes(h));
    return { ...r, pinnedHashes, limits: { defaults, maximum }, expiredBundles: 'reject' as const };
  });

const partialLimits = fc.record(
  Object.fromEntries(POLICY_LIMIT_NAMES.map((n) => [n, limit(n)])) as {
    [K in keyof PolicyLimits]: fc.Arbitrary<number>;
  },
  { requiredKeys: [] }
);

/** Any override: any subset of fields, any values (valid one by one, not ordered with the base). */
const override: fc.Arbitrary<TenantOverride> = fc
  .record(
    {
      unsigned: choice,
      unknownSigner: choice,
      rollback: choice,
      drift: choice,
      foreignImports: choice,
      threshold,
      maxModuleBytes: size,
      limits: fc.record({ defaults: partialLimits, maximum: partialLimits }, { requiredKeys: [] }),
      allowedCapabilities: caps,
      blockedHashes: hashes,
      pinnedHashes: hashes,
      expiredBundles: fc.constant('reject' as const)
    },
    { requiredKeys: [] }
  )
  .map((o) =>
    o.pinnedHashes && o.blockedHashes
      ? { ...o, pinnedHashes: o.pinnedHashes.filter((h) => !o.blockedHashes!.includes(h)) }
      : o
  );

/** Every way `rules` could be looser than `ref` (a full base or a partial override); [] if none. */
function looserThan(rules: PolicyRules, ref: TenantOverride): string[] {
  const out: string[] = [];
  for (const k of CHOICES) if (ref[k] === 'reject' && rules[k] !== 'reject') out.push(k);
  if (ref.threshold !== undefined && rules.threshold < ref.threshold) out.push('threshold');
  if (ref.maxModuleBytes !== undefined && rules.maxModuleBytes > ref.maxModuleBytes)
    out.push('maxModuleBytes');
  for (const g of ['defaults', 'maximum'] as const) {
    for (const n of POLICY_LIMIT_NAMES) {
      const v = ref.limits?.[g]?.[n];
      if (v !== undefined && rules.limits[g][n] > v) out.push(`limits.${g}.${n}`);
    }
  }
  const within = (a: readonly string[], b: readonly string[] | undefined) =>
    b === undefined || a.every((x) => b.includes(x));
  if (!within(rules.allowedCapabilities, ref.allowedCapabilities)) out.push('allowedCapabilities');
  if (!within(rules.pinnedHashes, ref.pinnedHashes)) out.push('pinnedHashes');
  if (!within(ref.blockedHashes ?? [], rules.blockedHashes)) out.push('blockedHashes');
  if (rules.expiredBundles !== 'reject') out.push('expiredBundles');
  return out;
}

const policyOf = (b: PolicyRules, o: TenantOverride): Policy => ({
  version: 2,
  name: 'p',
  ...b,
  tenants: { acme: o }
});

describe('a tenant override never loosens the policy', () => {
  it('the rules for a tenant are at least as strict as the base and as the override', () => {
    fc.assert(
      fc.property(base, override, (b, o) => {
        const policy = policyOf(b, o);
        const merged = rulesFor(policy, 'acme');
        expect(looserThan(merged, b)).toEqual([]);
        expect(looserThan(merged, o)).toEqual([]);
        // Nor does naming another tenant, or none, change the base.
        expect(rulesFor(policy, 'beta')).toEqual(rulesFor(policy));
        expect(looserThan(rulesFor(policy), b)).toEqual([]);
      }),
      params()
    );
  });

  it('holds for what parsePolicy stores: the document round-trips and the merge is the same', () => {
    let accepted = 0;
    fc.assert(
      fc.property(base, override, (b, o) => {
        const parsed = parsePolicy(JSON.stringify(policyOf(b, o)));
        // A loosening override is never a reason to refuse; only the order check can refuse one
        // (a tenant maximum under the merged default).
        if (!parsed.ok) {
          for (const e of parsed.errors) {
            expect(e.field).toMatch(/^tenants\.acme\.limits\.defaults\./);
          }
          return;
        }
        accepted += 1;
        expect(rulesFor(parsed.policy, 'acme')).toEqual(rulesFor(policyOf(b, o), 'acme'));
        expect(looserThan(rulesFor(parsed.policy, 'acme'), b)).toEqual([]);
        expect(looserThan(rulesFor(parsed.policy, 'acme'), o)).toEqual([]);
      }),
      params()
    );
    // Not vacuous: some generated documents are accepted.
    expect(accepted).toBeGreaterThan(0);
  });

  it('looserOverrides names a value exactly when it does not apply as written', () => {
    fc.assert(
      fc.property(base, override, (b, o) => {
        const policy = policyOf(b, o);
        const merged = rulesFor(policy, 'acme');
        const named = new Set(looserOverrides(policy).map((w) => w.field));
        const scalar: [string, unknown, unknown][] = [
          ...CHOICES.map((k): [string, unknown, unknown] => [k, o[k], merged[k]]),
          ['threshold', o.threshold, merged.threshold],
          ['maxModuleBytes', o.maxModuleBytes, merged.maxModuleBytes],
          ...(['defaults', 'maximum'] as const).flatMap((g) =>
            POLICY_LIMIT_NAMES.map((n): [string, unknown, unknown] => [
              `limits.${g}.${n}`,
              o.limits?.[g]?.[n],
              merged.limits[g][n]
            ])
          )
        ];
        for (const [field, given, applied] of scalar) {
          if (given === undefined) continue;
          expect(named.has(`tenants.acme.${field}`), field).toBe(given !== applied);
        }
        if (o.allowedCapabilities !== undefined) {
          expect(named.has('tenants.acme.allowedCapabilities')).toBe(
            o.allowedCapabilities.length !== merged.allowedCapabilities.length
          );
        }
      }),
      params()
    );
  });
});
