/**
 * Rollback against multi-signer history, as properties: whichever key of an approved version signs
 * an older one, that is a rollback (never an auto-approval); the order signatures come in changes
 * nothing; keys that share nothing with the approved version's signers are not held to it; and
 * only approved, auto-approved, running and done requests are history.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/lib/core/policy/document';
import { APPROVED_STATES, approvedHistory } from '../../src/lib/core/policy/dry-run';
import {
  evaluatePolicy,
  type ApprovedRecord,
  type PolicyInput,
  type RunMode
} from '../../src/lib/core/policy/evaluate';
import { compareSemver } from '../../src/lib/core/semver';
import type { Reason } from '../../src/lib/core/verdict';
import { params } from './harness';

const SHA = 'ab'.repeat(32);
const POOL = ['k0', 'k1', 'k2', 'k3', 'k4'].map((k) => k.padEnd(64, '0'));
const TRUST = Object.fromEntries(POOL.map((k) => [k, 'auto' as const]));

/** Small numbers, so versions collide and compare both ways often. */
const version = fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2)).map(([a, b, c]) => `${a}.${b}.${c}`);
const someKeys = (min: number) =>
  fc
    .subarray(POOL, { minLength: min })
    .chain((keys) => fc.shuffledSubarray(keys, { minLength: keys.length }));
const record: fc.Arbitrary<ApprovedRecord> = fc.record({
  name: fc.constant('hello'),
  version,
  moduleSha256: fc.constantFrom(SHA, 'cd'.repeat(32)),
  signers: someKeys(0)
});
const mode = fc.constantFrom<RunMode>('lockdown', 'review', 'auto');

function input(signers: string[], v: string, history: ApprovedRecord[], m: RunMode): PolicyInput {
  return {
    verdict: {
      ok: true,
      reasons: [],
      signers,
      format: 'bundle',
      manifest: {
        name: 'hello',
        version: v,
        module: { sha256: SHA, size: 100 },
        publisher: null,
        description: null,
        created: null,
        createdMs: null,
        expires: null,
        expiresMs: null,
        entry: 'command',
        args: [],
        env: {},
        limits: {},
        capabilities: []
      },
      module: { sha256: SHA, size: 100 }
    },
    inspection: null,
    signerTrust: TRUST,
    history,
    // Review, so a rollback is a flag whose effect on the outcome can be seen (reject hides it).
    policy: { ...DEFAULT_POLICY, rollback: 'review', drift: 'review' },
    mode: m
  };
}
const fires = (i: PolicyInput) =>
  evaluatePolicy(i).reasons.some((r) => r.code === 'policy.rollback');

describe('rollback with many signers', () => {
  it('any shared signer of a higher approved version makes a rollback, never an auto-approval', () => {
    fc.assert(
      fc.property(someKeys(1), version, fc.array(record, { maxLength: 6 }), mode, (s, v, h, m) => {
        const held = h.some(
          (r) => r.signers.some((k) => s.includes(k)) && compareSemver(v, r.version) === -1
        );
        const decision = evaluatePolicy(input(s, v, h, m));
        expect(decision.reasons.some((r) => r.code === 'policy.rollback')).toBe(held);
        if (held) expect(decision.outcome).not.toBe('auto-approve');
      }),
      params()
    );
  });

  it('the order of signers, in the history or the bundle, changes nothing', () => {
    fc.assert(
      fc.property(
        someKeys(1),
        version,
        fc.array(record, { maxLength: 6 }),
        mode,
        fc.nat(),
        (s, v, h, m, seed) => {
          const turn = <T>(list: T[]) => list.map((_, i) => list[(i + seed) % list.length]!);
          const a = evaluatePolicy(input(s, v, h, m));
          const b = evaluatePolicy(
            input(
              turn(s),
              v,
              turn(h).map((r) => ({ ...r, signers: turn([...r.signers].reverse()) })),
              m
            )
          );
          expect(b.outcome).toBe(a.outcome);
          expect(b.reasons.map((r) => r.code).sort()).toEqual(a.reasons.map((r) => r.code).sort());
        }
      ),
      params()
    );
  });

  it('adding a co-signer to an approved version never clears a rollback', () => {
    fc.assert(
      fc.property(
        someKeys(1),
        version,
        fc.array(record, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(...POOL),
        fc.nat(),
        (s, v, h, extra, at) => {
          const i = at % h.length;
          const more = h.map((r, j) =>
            j === i ? { ...r, signers: [...new Set([...r.signers, extra])] } : r
          );
          if (fires(input(s, v, h, 'auto'))) expect(fires(input(s, v, more, 'auto'))).toBe(true);
        }
      ),
      params()
    );
  });
});

describe('approvedHistory', () => {
  const STATES = ['pending', 'auto-approved', 'rejected', 'approved', 'denied', 'running', 'done'];
  it('names the states that count: decided to run, or ran; never pending, rejected or denied', () => {
    expect([...APPROVED_STATES].sort()).toEqual(['approved', 'auto-approved', 'done', 'running']);
  });
  it('keeps exactly the rows in those states with a name and version, with every signer', () => {
    const row = fc.record({
      id: fc.uuid(),
      state: fc.constantFrom(...STATES),
      name: fc.option(fc.constant('hello')),
      version: fc.option(version),
      moduleSha256: fc.constant(SHA),
      verdict: fc.record({
        ok: fc.boolean(),
        reasons: fc.constant<Reason[]>([]),
        signers: someKeys(0)
      })
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 12 }), (rows) => {
        const got = approvedHistory(rows);
        const want = rows.filter(
          (r) => APPROVED_STATES.includes(r.state) && r.name !== null && r.version !== null
        );
        expect(got.map((r) => r.signers)).toEqual(want.map((r) => r.verdict.signers));
        expect(got.every((r) => r.name === 'hello')).toBe(true);
      }),
      params()
    );
  });
});
