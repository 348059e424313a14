// A tenant override can only make the policy stricter, field by field: tenant names are not
// signed, so a looser value is inert (the base applies) and looserOverrides names it; an equal
// value changes nothing; a stricter one applies. Every field, through the real parsePolicy.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  inertNote,
  looserOverrides,
  parsePolicy,
  rulesFor,
  type Policy,
  type PolicyRules
} from '../../src/lib/core/policy/document';

const A = 'aa'.repeat(32);
const B = 'bb'.repeat(32);
const C = 'cc'.repeat(32);

/** A base with room both ways on every field (review choices for the "stricter" rows). */
const BASE = {
  ...DEFAULT_POLICY,
  threshold: 2,
  maxModuleBytes: 1000,
  pinnedHashes: [A, B],
  blockedHashes: [C]
};

function policyWith(base: object, acme: object): Policy {
  const result = parsePolicy(JSON.stringify({ ...base, tenants: { acme } }));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
}

type Row = {
  field: string;
  /** What the base says for the field (patched over BASE). */
  base: object;
  override: object;
  /** Read the merged field. */
  read: (r: PolicyRules) => unknown;
  expected: unknown;
  /** Warning fields looserOverrides must name (empty: none). */
  warns: string[];
};

const choiceRows = (
  ['unsigned', 'unknownSigner', 'rollback', 'drift', 'foreignImports'] as const
).flatMap((f): [string, Row][] => [
  [
    `${f}: looser "review" over "reject" is ignored`,
    {
      field: f,
      base: { [f]: 'reject' },
      override: { [f]: 'review' },
      read: (r) => r[f],
      expected: 'reject',
      warns: [`tenants.acme.${f}`]
    }
  ],
  [
    `${f}: stricter "reject" over "review" applies`,
    {
      field: f,
      base: { [f]: 'review' },
      override: { [f]: 'reject' },
      read: (r) => r[f],
      expected: 'reject',
      warns: []
    }
  ],
  [
    `${f}: equal "review" stays`,
    {
      field: f,
      base: { [f]: 'review' },
      override: { [f]: 'review' },
      read: (r) => r[f],
      expected: 'review',
      warns: []
    }
  ]
]);

const limitRows = (['defaults', 'maximum'] as const).flatMap((g) =>
  (['timeoutMs', 'memoryMiB', 'outputBytes', 'fsBytes'] as const).flatMap((n): [string, Row][] => {
    const b = DEFAULT_POLICY.limits[g][n];
    // A lower maximum must stay at or above the base default (else the order check refuses it).
    const lower = g === 'maximum' ? DEFAULT_POLICY.limits.defaults[n] : b - 1;
    const higher = g === 'defaults' ? DEFAULT_POLICY.limits.maximum[n] : b + 1;
    const read = (r: PolicyRules) => r.limits[g][n];
    const o = (v: number) => ({ limits: { [g]: { [n]: v } } });
    return [
      [
        `limits.${g}.${n}: higher is ignored`,
        {
          field: n,
          base: {},
          override: o(higher),
          read,
          expected: b,
          warns: [`tenants.acme.limits.${g}.${n}`]
        }
      ],
      [
        `limits.${g}.${n}: lower applies`,
        { field: n, base: {}, override: o(lower), read, expected: lower, warns: [] }
      ],
      [
        `limits.${g}.${n}: equal stays`,
        { field: n, base: {}, override: o(b), read, expected: b, warns: [] }
      ]
    ];
  })
);

const ROWS: [string, Row][] = [
  ...choiceRows,
  [
    'threshold: lower is ignored',
    {
      field: 'threshold',
      base: {},
      override: { threshold: 1 },
      read: (r) => r.threshold,
      expected: 2,
      warns: ['tenants.acme.threshold']
    }
  ],
  [
    'threshold: higher applies',
    {
      field: 'threshold',
      base: {},
      override: { threshold: 3 },
      read: (r) => r.threshold,
      expected: 3,
      warns: []
    }
  ],
  [
    'threshold: equal stays',
    {
      field: 'threshold',
      base: {},
      override: { threshold: 2 },
      read: (r) => r.threshold,
      expected: 2,
      warns: []
    }
  ],
  [
    'maxModuleBytes: bigger is ignored',
    {
      field: 'maxModuleBytes',
      base: {},
      override: { maxModuleBytes: 1001 },
      read: (r) => r.maxModuleBytes,
      expected: 1000,
      warns: ['tenants.acme.maxModuleBytes']
    }
  ],
  [
    'maxModuleBytes: smaller applies',
    {
      field: 'maxModuleBytes',
      base: {},
      override: { maxModuleBytes: 10 },
      read: (r) => r.maxModuleBytes,
      expected: 10,
      warns: []
    }
  ],
  [
    'maxModuleBytes: equal stays',
    {
      field: 'maxModuleBytes',
      base: {},
      override: { maxModuleBytes: 1000 },
      read: (r) => r.maxModuleBytes,
      expected: 1000,
      warns: []
    }
  ],
  ...limitRows,
  [
    'allowedCapabilities: more is ignored (the intersection applies)',
    {
      field: 'allowedCapabilities',
      base: {},
      override: { allowedCapabilities: ['args', 'fs-read', 'fs-write'] },
      read: (r) => r.allowedCapabilities,
      expected: ['args'],
      warns: ['tenants.acme.allowedCapabilities']
    }
  ],
  [
    'allowedCapabilities: fewer applies',
    {
      field: 'allowedCapabilities',
      base: {},
      override: { allowedCapabilities: ['stdin'] },
      read: (r) => r.allowedCapabilities,
      expected: ['stdin'],
      warns: []
    }
  ],
  [
    'allowedCapabilities: none applies',
    {
      field: 'allowedCapabilities',
      base: {},
      override: { allowedCapabilities: [] },
      read: (r) => r.allowedCapabilities,
      expected: [],
      warns: []
    }
  ],
  [
    'allowedCapabilities: equal stays',
    {
      field: 'allowedCapabilities',
      base: {},
      override: { allowedCapabilities: [...DEFAULT_POLICY.allowedCapabilities] },
      read: (r) => r.allowedCapabilities,
      expected: DEFAULT_POLICY.allowedCapabilities,
      warns: []
    }
  ],
  [
    'pinnedHashes: an extra pin is ignored',
    {
      field: 'pinnedHashes',
      base: {},
      override: { pinnedHashes: [A, 'dd'.repeat(32)] },
      read: (r) => r.pinnedHashes,
      expected: [A],
      warns: ['tenants.acme.pinnedHashes']
    }
  ],
  [
    'pinnedHashes: fewer applies',
    {
      field: 'pinnedHashes',
      base: {},
      override: { pinnedHashes: [B] },
      read: (r) => r.pinnedHashes,
      expected: [B],
      warns: []
    }
  ],
  [
    'pinnedHashes: equal stays',
    {
      field: 'pinnedHashes',
      base: {},
      override: { pinnedHashes: [B, A] },
      read: (r) => r.pinnedHashes,
      expected: [A, B],
      warns: []
    }
  ],
  [
    'pinnedHashes: a tenant block unpins for it',
    {
      field: 'pinnedHashes',
      base: {},
      override: { blockedHashes: [A] },
      read: (r) => r.pinnedHashes,
      expected: [B],
      warns: []
    }
  ],
  [
    'blockedHashes: an empty list lifts nothing',
    {
      field: 'blockedHashes',
      base: {},
      override: { blockedHashes: [] },
      read: (r) => r.blockedHashes,
      expected: [C],
      warns: []
    }
  ],
  [
    'blockedHashes: more adds up',
    {
      field: 'blockedHashes',
      base: {},
      override: { blockedHashes: ['dd'.repeat(32)] },
      read: (r) => r.blockedHashes,
      expected: [C, 'dd'.repeat(32)],
      warns: []
    }
  ],
  [
    'expiredBundles: always reject',
    {
      field: 'expiredBundles',
      base: {},
      override: { expiredBundles: 'reject' },
      read: (r) => r.expiredBundles,
      expected: 'reject',
      warns: []
    }
  ]
];

describe('a tenant override only tightens, field by field', () => {
  it.each(ROWS)('%s', (_label, row) => {
    const policy = policyWith({ ...BASE, ...row.base }, row.override);
    expect(row.read(rulesFor(policy, 'acme'))).toEqual(row.expected);
    // Other tenants and requests without one get the base.
    expect(row.read(rulesFor(policy, 'beta'))).toEqual(row.read(rulesFor(policy)));
    const warnings = looserOverrides(policy);
    expect(warnings.map((w) => w.field)).toEqual(row.warns);
    for (const w of warnings) expect(w.message).toMatch(/; the base value applies$/);
  });

  it('names the values in the message, and every looser field of every tenant', () => {
    const policy = parsePolicy(
      JSON.stringify({
        ...BASE,
        tenants: {
          acme: { unsigned: 'review', threshold: 1, limits: { maximum: { memoryMiB: 4096 } } },
          beta: { allowedCapabilities: ['fs-write'], maxModuleBytes: 5 },
          gamma: { drift: 'reject' }
        }
      })
    );
    if (!policy.ok) throw new Error(JSON.stringify(policy.errors));
    expect(looserOverrides(policy.policy).map((w) => `${w.field}: ${w.message}`)).toEqual([
      'tenants.acme.unsigned: "review" is looser than the base "reject"; the base value applies',
      'tenants.acme.threshold: 1 is lower than the base 2; the base value applies',
      'tenants.acme.limits.maximum.memoryMiB: 4096 is higher than the base 512; the base value applies',
      'tenants.beta.allowedCapabilities: allows fs-write, which the base does not; the base value applies'
    ]);
  });

  it('a looser override stays readable and round-trips unchanged (nothing stored is lost)', () => {
    const acme = { unsigned: 'review', limits: { defaults: { memoryMiB: 600 } } };
    const policy = policyWith(BASE, acme);
    expect(policy.tenants?.acme).toEqual(acme);
    expect(rulesFor(policy, 'acme').limits.defaults.memoryMiB).toBe(64);
  });

  it('the message note counts and names them (at most 10 names)', () => {
    const w = (i: number) => ({ field: `tenants.t${i}.drift`, message: 'x' });
    expect(inertNote([])).toBe('');
    expect(inertNote([w(1)])).toBe(
      ' 1 tenant value is looser than the base and does not apply: tenants.t1.drift.'
    );
    const many = inertNote(Array.from({ length: 12 }, (_, i) => w(i)));
    expect(many).toMatch(/^ 12 tenant values are looser than the base and do not apply: /);
    expect(many).toMatch(/tenants\.t9\.drift and 2 more\.$/);
    expect(many).not.toContain('t10');
  });
});
