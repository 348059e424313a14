import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  parsePolicy,
  rulesFor,
  type Policy,
  type PolicyResult
} from '../../src/lib/core/policy/document';

const SHA = 'ab'.repeat(32);
const text = (value: unknown): string => JSON.stringify(value);
const withField = (patch: Record<string, unknown>): string => text({ ...DEFAULT_POLICY, ...patch });

function ok(result: PolicyResult): Policy {
  if (!result.ok) throw new Error(`expected ok: ${JSON.stringify(result.errors)}`);
  return result.policy;
}
function errors(result: PolicyResult): string[] {
  if (result.ok) throw new Error('expected errors');
  return result.errors.map((e) => `${e.field}: ${e.message}`);
}

describe('parsePolicy: valid documents', () => {
  it('the default policy round-trips', () => {
    expect(ok(parsePolicy(text(DEFAULT_POLICY)))).toEqual(DEFAULT_POLICY);
  });

  it('has the documented safe defaults', () => {
    expect(DEFAULT_POLICY.unsigned).toBe('reject');
    expect(DEFAULT_POLICY.unknownSigner).toBe('review');
    expect(DEFAULT_POLICY.threshold).toBe(1);
    expect(DEFAULT_POLICY.limits.defaults).toEqual({
      timeoutMs: 5000,
      memoryMiB: 64,
      outputBytes: 1048576,
      fsBytes: 16777216
    });
    expect(DEFAULT_POLICY.limits.maximum).toEqual({
      timeoutMs: 60000,
      memoryMiB: 512,
      outputBytes: 67108864,
      fsBytes: 268435456
    });
    expect(DEFAULT_POLICY.allowedCapabilities).toEqual(['args', 'env', 'clock', 'random', 'stdin']);
  });

  it('accepts tenants with partial overrides; blocked hashes add up; looser values are inert', () => {
    const other = 'cd'.repeat(32);
    const policy = ok(
      parsePolicy(
        withField({
          blockedHashes: [SHA],
          tenants: {
            acme: {
              threshold: 2,
              unsigned: 'review',
              blockedHashes: [other],
              limits: { maximum: { memoryMiB: 1024 } }
            }
          }
        })
      )
    );
    const acme = rulesFor(policy, 'acme');
    expect(acme.threshold).toBe(2);
    // Looser than the base: kept in the document, but the base value applies.
    expect(policy.tenants?.acme?.unsigned).toBe('review');
    expect(acme.unsigned).toBe('reject');
    expect(acme.blockedHashes).toEqual([SHA, other]);
    expect(acme.limits.maximum.memoryMiB).toBe(512);
    expect(acme.limits.maximum.timeoutMs).toBe(60000);
    expect(rulesFor(policy, 'nobody').threshold).toBe(1);
    expect(rulesFor(policy, '__proto__').threshold).toBe(1);
  });

  it('maxConcurrentRuns is optional (older documents have none) and bounded 1-16', () => {
    const { maxConcurrentRuns: _, ...older } = DEFAULT_POLICY;
    expect(ok(parsePolicy(text(older))).maxConcurrentRuns).toBeUndefined();
    expect(ok(parsePolicy(withField({ maxConcurrentRuns: 16 }))).maxConcurrentRuns).toBe(16);
    for (const bad of [0, 17, 1.5, '2']) {
      expect(errors(parsePolicy(withField({ maxConcurrentRuns: bad })))[0]).toMatch(
        /^maxConcurrentRuns: /
      );
    }
  });

  it('orders allowed capabilities canonically', () => {
    const policy = ok(parsePolicy(withField({ allowedCapabilities: ['fs-write', 'args'] })));
    expect(policy.allowedCapabilities).toEqual(['args', 'fs-write']);
  });
});

describe('parsePolicy: invalid documents, with exact field errors', () => {
  const { limits } = DEFAULT_POLICY;
  it.each<[string, string, string[]]>([
    ['not JSON', '{', ['(document): not valid JSON']],
    ['an array', '[]', ['(document): must be an object, not an array']],
    ['a duplicate key', '{"version":1,"version":2}', ['(document): not valid JSON']],
    ['an unknown field', withField({ colour: 'red' }), ['colour: is not a policy field']],
    [
      'version zero',
      withField({ version: 0 }),
      ['version: must be a whole number between 1 and 9007199254740991']
    ],
    [
      'an empty name',
      withField({ name: '' }),
      ['name: must be text of 1 to 128 characters without control characters']
    ],
    [
      'a control character in the name',
      withField({ name: 'a\u202eb' }),
      ['name: must be text of 1 to 128 characters without control characters']
    ],
    [
      'a bad unsigned choice',
      withField({ unsigned: 'allow' }),
      ['unsigned: must be "reject" or "review"']
    ],
    [
      'expiredBundles review',
      withField({ expiredBundles: 'review' }),
      ['expiredBundles: must be "reject"']
    ],
    [
      'threshold 0',
      withField({ threshold: 0 }),
      ['threshold: must be a whole number between 1 and 16']
    ],
    [
      'threshold 1.5',
      withField({ threshold: 1.5 }),
      ['threshold: must be a whole number between 1 and 16']
    ],
    [
      'threshold as text',
      withField({ threshold: '1' }),
      ['threshold: must be a whole number between 1 and 16']
    ],
    [
      'memory maximum too high',
      withField({ limits: { ...limits, maximum: { ...limits.maximum, memoryMiB: 4097 } } }),
      ['limits.maximum.memoryMiB: must be a whole number between 1 and 4096']
    ],
    [
      'a default above its maximum',
      withField({ limits: { ...limits, defaults: { ...limits.defaults, timeoutMs: 60001 } } }),
      ['limits.defaults.timeoutMs: must not exceed limits.maximum.timeoutMs (60001 > 60000)']
    ],
    [
      'a missing limit',
      withField({
        limits: {
          defaults: limits.defaults,
          maximum: { timeoutMs: 1, memoryMiB: 1, outputBytes: 1 }
        }
      }),
      ['limits.maximum.fsBytes: is required']
    ],
    [
      'an unknown limit',
      withField({ limits: { ...limits, defaults: { ...limits.defaults, cpu: 1 } } }),
      ['limits.defaults.cpu: is not a limit (timeoutMs, memoryMiB, outputBytes, fsBytes)']
    ],
    ['limits as a number', withField({ limits: 5 }), ['limits: must be an object, not a number']],
    [
      'an unknown capability',
      withField({ allowedCapabilities: ['args', 'network'] }),
      ['allowedCapabilities[1]: must be one of args, env, clock, random, stdin, fs-read, fs-write']
    ],
    [
      'a repeated capability',
      withField({ allowedCapabilities: ['env', 'env'] }),
      ['allowedCapabilities[1]: repeats "env"']
    ],
    [
      'an uppercase hash',
      withField({ blockedHashes: [SHA.toUpperCase()] }),
      ['blockedHashes[0]: must be a SHA-256 as 64 lowercase hex digits']
    ],
    [
      'a repeated hash',
      withField({ pinnedHashes: [SHA, SHA] }),
      ['pinnedHashes[1]: repeats an earlier hash']
    ],
    [
      'a hash pinned and blocked',
      withField({ pinnedHashes: [SHA], blockedHashes: [SHA] }),
      ['pinnedHashes[0]: is also blocked']
    ],
    [
      'tenants as an array',
      withField({ tenants: [] }),
      ['tenants: must be an object, not an array']
    ],
    [
      'a bad tenant name',
      withField({ tenants: { 'a b': {} } }),
      [
        'tenants."a b": tenant names are 1 to 64 characters from A-Z a-z 0-9 . _ - starting with a letter or digit'
      ]
    ],
    [
      'a tenant overriding name',
      withField({ tenants: { acme: { name: 'x' } } }),
      ['tenants.acme.name: is not a field a tenant may override']
    ],
    [
      'a bad tenant threshold',
      withField({ tenants: { acme: { threshold: 99 } } }),
      ['tenants.acme.threshold: must be a whole number between 1 and 16']
    ],
    [
      // Merged values are the lower of each, so the base default 64 meets the tenant's maximum 32
      // (a tenant default above the base one is inert, not an error: tests/unit/policy-tenant-stricter).
      'a tenant maximum below the merged default',
      withField({ tenants: { acme: { limits: { maximum: { memoryMiB: 32 } } } } }),
      ['tenants.acme.limits.defaults.memoryMiB: must not exceed limits.maximum.memoryMiB (64 > 32)']
    ]
  ])('refuses %s', (_label, input, expected) => {
    const got = errors(parsePolicy(input));
    expect(got.length).toBe(expected.length);
    got.forEach((line, i) => expect(line.startsWith(expected[i]!)).toBe(true));
  });

  it('reports every problem, not only the first', () => {
    const { version: _v, ...rest } = DEFAULT_POLICY;
    const got = errors(parsePolicy(text({ ...rest, threshold: -1, drift: 1, extra: true })));
    expect(got).toEqual([
      'extra: is not a policy field',
      'version: is required',
      'drift: must be "reject" or "review"',
      'threshold: must be a whole number between 1 and 16'
    ]);
  });

  it('never throws on odd input', () => {
    for (const input of ['', 'null', '1', '"x"', '{"tenants":{"__proto__":{}}}', '\ufeff{}']) {
      expect(parsePolicy(input).ok).toBe(false);
    }
    expect(parsePolicy(undefined as unknown as string).ok).toBe(false);
  });
});
