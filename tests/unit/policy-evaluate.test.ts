import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/lib/core/manifest';
import { DEFAULT_POLICY, type Policy } from '../../src/lib/core/policy/document';
import {
  evaluatePolicy,
  RISK_POINTS,
  type Outcome,
  type PolicyInput,
  type RunMode,
  type SignerTrust
} from '../../src/lib/core/policy/evaluate';
import type { Reason } from '../../src/lib/core/verdict';
import type { WasmImport, WasmInspection } from '../../src/lib/core/wasm/inspect';

const SHA = 'aa'.repeat(32);
const OTHER = 'bb'.repeat(32);
const KEY = 'k1'.padEnd(64, '0');
const KEY2 = 'k2'.padEnd(64, '0');
const MODES: RunMode[] = ['lockdown', 'review', 'auto'];

function manifest(patch: Partial<Manifest> = {}): Manifest {
  return {
    name: 'hello',
    version: '1.2.0',
    module: { sha256: SHA, size: 1000 },
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
    capabilities: [],
    ...patch
  };
}

function wasi(name: string, capability: WasmImport['capability']): WasmImport {
  return {
    module: 'wasi_snapshot_preview1',
    name,
    kind: 'func',
    capability,
    wasi: true,
    refused: false
  };
}

function inspection(patch: Partial<WasmInspection> = {}): WasmInspection {
  return {
    ok: true,
    reasons: [],
    size: 1000,
    version: 1,
    sections: [],
    imports: [wasi('fd_write', null)],
    exports: [],
    memories: [{ index: 0, imported: false, min: 1, max: 16, shared: false, memory64: false }],
    tables: [],
    startFunction: null,
    customSections: [],
    entry: 'command',
    foreignImports: [],
    refusedImports: [],
    valid: true,
    ...patch
  };
}

const fail = (code: string): Reason => ({
  code: code as Reason['code'],
  message: `${code} happened`
});

/** A clean input: a bundle by KEY (trust auto), seen before at 1.1.0, nothing flagged. */
function input(patch: Partial<PolicyInput> & { policyPatch?: Partial<Policy> } = {}): PolicyInput {
  const { policyPatch, ...rest } = patch;
  return {
    verdict: {
      ok: true,
      reasons: [],
      signers: [KEY],
      format: 'bundle',
      manifest: manifest(),
      module: { sha256: SHA, size: 1000 }
    },
    inspection: inspection(),
    signerTrust: { [KEY]: 'auto' },
    history: [{ name: 'hello', version: '1.1.0', moduleSha256: OTHER, signers: [KEY] }],
    policy: { ...DEFAULT_POLICY, ...policyPatch },
    mode: 'auto',
    ...rest
  };
}
const verdictWith = (patch: Partial<PolicyInput['verdict']>): PolicyInput['verdict'] => ({
  ...input().verdict,
  ...patch
});
const unsignedVerdict = verdictWith({
  ok: false,
  format: 'unsigned',
  signers: [],
  manifest: null,
  reasons: [fail('signature.missing')]
});
const untrustedVerdict = verdictWith({
  ok: false,
  signers: [],
  reasons: [fail('signature.untrusted')]
});

/** Each case: a label, the input, the rule expected to fire (or null), and the outcome per mode. */
type Expect = [Outcome, Outcome, Outcome];
const R: Expect = ['reject', 'reject', 'reject'];
const Q: Expect = ['review', 'review', 'review'];
const A: Expect = ['review', 'review', 'auto-approve'];
const CASES: [string, PolicyInput, string | null, Expect][] = [
  ['clean, trusted signer', input(), null, A],
  ['blocked hash', input({ policyPatch: { blockedHashes: [SHA] } }), 'policy.blocked', R],
  [
    'blocked beats pinned (deny beats pin)',
    input({ policyPatch: { blockedHashes: [SHA], pinnedHashes: [SHA] } }),
    'policy.blocked',
    R
  ],
  [
    'verification failed',
    input({ verdict: verdictWith({ ok: false, reasons: [fail('module.digest-mismatch')] }) }),
    'policy.verification',
    R
  ],
  ['unsigned, policy reject', input({ verdict: unsignedVerdict }), 'policy.unsigned', R],
  [
    'unsigned, policy review',
    input({ verdict: unsignedVerdict, policyPatch: { unsigned: 'review' } }),
    'policy.unsigned',
    Q
  ],
  [
    'unsigned, review, pinned: still review',
    input({ verdict: unsignedVerdict, policyPatch: { unsigned: 'review', pinnedHashes: [SHA] } }),
    'policy.unsigned',
    Q
  ],
  [
    'unknown signer, policy review',
    input({ verdict: untrustedVerdict }),
    'policy.unknown-signer',
    Q
  ],
  [
    'unknown signer, policy reject',
    input({ verdict: untrustedVerdict, policyPatch: { unknownSigner: 'reject' } }),
    'policy.unknown-signer',
    R
  ],
  [
    'untrusted plus tampered is a denial',
    input({
      verdict: verdictWith({
        ok: false,
        signers: [],
        reasons: [fail('signature.untrusted'), fail('module.digest-mismatch')]
      })
    }),
    'policy.verification',
    R
  ],
  [
    'signer scoped to other names',
    input({ signerScope: { [KEY]: { names: ['acme-*'], capabilities: null } } }),
    'policy.signer-scope',
    R
  ],
  [
    'scoped signer, detached signature (no signed name)',
    input({
      verdict: verdictWith({ format: 'minisign', manifest: null }),
      signerScope: { [KEY]: { names: ['acme-*'], capabilities: null } }
    }),
    'policy.signer-scope',
    R
  ],
  [
    'unscoped signer, detached signature',
    input({
      verdict: verdictWith({ format: 'minisign', manifest: null }),
      signerScope: { [KEY]: { names: [], capabilities: null } }
    }),
    null,
    A
  ],
  [
    'signer scoped to this name by prefix',
    input({ signerScope: { [KEY]: { names: ['hel*'], capabilities: null } } }),
    null,
    A
  ],
  [
    'signer may not vouch for a requested capability',
    input({
      verdict: verdictWith({ manifest: manifest({ capabilities: ['clock', 'stdin'] }) }),
      signerScope: { [KEY]: { names: [], capabilities: ['clock'] } }
    }),
    'policy.signer-capability',
    R
  ],
  [
    'out-of-scope signer, pinned hash: still denied',
    input({
      signerScope: { [KEY]: { names: ['other'], capabilities: null } },
      policyPatch: { pinnedHashes: [SHA] }
    }),
    'policy.signer-scope',
    R
  ],
  ['revoked signer', input({ signerTrust: { [KEY]: 'revoked' } }), 'policy.revoked', R],
  [
    'revoked signer, pinned hash',
    input({ signerTrust: { [KEY]: 'revoked' }, policyPatch: { pinnedHashes: [SHA] } }),
    'policy.revoked',
    R
  ],
  [
    'expired bundle',
    input({ verdict: verdictWith({ ok: false, reasons: [fail('manifest.expired')] }) }),
    'policy.expired',
    R
  ],
  [
    'module over the size cap',
    input({ policyPatch: { maxModuleBytes: 999 } }),
    'policy.too-large',
    R
  ],
  [
    'capability not allowed',
    input({ verdict: verdictWith({ manifest: manifest({ capabilities: ['fs-write'] }) }) }),
    'policy.capability',
    R
  ],
  [
    'capability not allowed, pinned',
    input({
      verdict: verdictWith({ manifest: manifest({ capabilities: ['fs-read'] }) }),
      policyPatch: { pinnedHashes: [SHA] }
    }),
    'policy.capability',
    R
  ],
  [
    'foreign import, policy reject',
    input({ inspection: inspection({ foreignImports: ['env.evil'] }) }),
    'policy.foreign-imports',
    R
  ],
  [
    'refused import, policy review',
    input({
      inspection: inspection({ refusedImports: ['wasi_snapshot_preview1.sock_send'] }),
      policyPatch: { foreignImports: 'review' }
    }),
    'policy.foreign-imports',
    Q
  ],
  [
    'rollback, policy reject',
    input({ verdict: verdictWith({ manifest: manifest({ version: '1.0.0' }) }) }),
    'policy.rollback',
    R
  ],
  [
    'rollback, policy review',
    input({
      verdict: verdictWith({ manifest: manifest({ version: '1.0.0' }) }),
      policyPatch: { rollback: 'review' }
    }),
    'policy.rollback',
    Q
  ],
  [
    'older version by another signer is not a rollback',
    input({
      verdict: verdictWith({ signers: [KEY2], manifest: manifest({ version: '1.0.0' }) }),
      signerTrust: { [KEY2]: 'auto' }
    }),
    null,
    A
  ],
  [
    'drift, policy reject',
    input({ history: [{ name: 'hello', version: '1.2.0', moduleSha256: OTHER, signers: [KEY] }] }),
    'policy.drift',
    R
  ],
  [
    'drift, policy review, pinned: still review',
    input({
      history: [{ name: 'hello', version: '1.2.0', moduleSha256: OTHER, signers: [KEY] }],
      policyPatch: { drift: 'review', pinnedHashes: [SHA] }
    }),
    'policy.drift',
    Q
  ],
  ['threshold not met', input({ policyPatch: { threshold: 2 } }), 'policy.threshold', R],
  [
    'threshold met by two signers',
    input({
      verdict: verdictWith({ signers: [KEY, KEY2] }),
      signerTrust: { [KEY]: 'auto', [KEY2]: 'auto' },
      policyPatch: { threshold: 2 }
    }),
    null,
    A
  ],
  [
    'verify reported the threshold',
    input({ verdict: verdictWith({ ok: false, reasons: [fail('signature.threshold')] }) }),
    'policy.threshold',
    R
  ],
  ['review-trust signer', input({ signerTrust: { [KEY]: 'review' } }), 'policy.signer-review', Q],
  ['signer missing from the trust table', input({ signerTrust: {} }), 'policy.signer-review', Q],
  [
    'review-trust signer, pinned hash',
    input({ signerTrust: { [KEY]: 'review' }, policyPatch: { pinnedHashes: [SHA] } }),
    'policy.pinned',
    A
  ],
  [
    'one of two signers at review',
    input({
      verdict: verdictWith({ signers: [KEY, KEY2] }),
      signerTrust: { [KEY]: 'auto', [KEY2]: 'review' }
    }),
    'policy.signer-review',
    Q
  ],
  ['not inspected', input({ inspection: null }), 'policy.not-inspected', Q],
  [
    'inspection failed',
    input({ inspection: inspection({ ok: false, reasons: [fail('wasm.magic')] }) }),
    'policy.inspection',
    R
  ],
  [
    'tenant override tightens',
    input({ tenant: 'acme', policyPatch: { tenants: { acme: { maxModuleBytes: 10 } } } }),
    'policy.too-large',
    R
  ],
  [
    // Tenant names are not signed: a looser override is inert (core/policy/stricter.ts).
    'tenant override cannot loosen unsigned',
    input({
      tenant: 'lab',
      verdict: unsignedVerdict,
      policyPatch: { tenants: { lab: { unsigned: 'review' } } }
    }),
    'policy.unsigned',
    R
  ],
  [
    'tenant override tightens unsigned',
    input({
      tenant: 'lab',
      verdict: unsignedVerdict,
      policyPatch: { unsigned: 'review', tenants: { lab: { unsigned: 'reject' } } }
    }),
    'policy.unsigned',
    R
  ],
  [
    'tenant cannot lift a block',
    input({
      tenant: 'acme',
      policyPatch: { blockedHashes: [SHA], tenants: { acme: { blockedHashes: [] } } }
    }),
    'policy.blocked',
    R
  ]
];

describe('evaluatePolicy: every rule in every mode', () => {
  const rows = CASES.flatMap(([label, base, code, outcomes]) =>
    MODES.map((mode, i) => [`${label} [${mode}]`, { ...base, mode }, code, outcomes[i]!] as const)
  );
  it.each(rows)('%s', (_label, inp, code, outcome) => {
    const decision = evaluatePolicy(inp);
    expect(decision.outcome).toBe(outcome);
    if (code !== null) expect(decision.reasons.map((r) => r.code)).toContain(code);
    else expect(decision.reasons.filter((r) => r.severity !== 'info')).toEqual([]);
    // Lockdown never runs; review never auto-approves; a denial never runs.
    if (inp.mode === 'lockdown') expect(decision.runnable).toBe(false);
    if (inp.mode !== 'auto') expect(decision.outcome).not.toBe('auto-approve');
    if (decision.reasons.some((r) => r.severity === 'deny')) {
      expect(decision.outcome).toBe('reject');
      expect(decision.runnable).toBe(false);
      expect(decision.granted.capabilities).toEqual([]);
    }
    for (const r of decision.reasons) {
      expect(r.rule).not.toBe('');
      expect(r.code.startsWith('policy.')).toBe(true);
    }
    // The factors explain the score.
    const sum = decision.risk.factors.reduce((s, f) => s + f.points, 0);
    expect(decision.risk.score).toBe(Math.min(100, sum));
    for (const f of decision.risk.factors) expect(f.why).not.toBe('');
  });
});

describe('evaluatePolicy: limits and capabilities granted', () => {
  const { defaults, maximum } = DEFAULT_POLICY.limits;
  it('absent limits get the defaults', () => {
    expect(evaluatePolicy(input()).granted.limits).toEqual(defaults);
  });
  it('requested limits within the maximum are granted as asked', () => {
    const limits = { timeoutMs: 100, memoryMiB: 8 };
    const d = evaluatePolicy(input({ verdict: verdictWith({ manifest: manifest({ limits }) }) }));
    expect(d.granted.limits).toEqual({ ...defaults, ...limits });
    expect(d.reasons.filter((r) => r.rule === 'limits')).toEqual([]);
  });
  it('requested limits over the maximum are clamped, with a note each', () => {
    const limits = { timeoutMs: 10_000_000, memoryMiB: 4096, outputBytes: 10, fsBytes: 1e12 };
    const d = evaluatePolicy(input({ verdict: verdictWith({ manifest: manifest({ limits }) }) }));
    expect(d.granted.limits).toEqual({ ...maximum, outputBytes: 10 });
    expect(
      d.reasons.filter((r) => r.code === 'policy.limit-clamped').map((r) => r.severity)
    ).toEqual(['info', 'info', 'info']);
    expect(d.outcome).toBe('auto-approve');
    expect(d.risk.factors.map((f) => f.factor)).toContain('near-maximum-limits');
  });
  it('granted limits never exceed the maximum, even with a nonsense request', () => {
    for (const v of [-1, 0, 1.5, Number.NaN, Infinity, 2 ** 60]) {
      const limits = { timeoutMs: v, memoryMiB: v, outputBytes: v, fsBytes: v };
      const d = evaluatePolicy(input({ verdict: verdictWith({ manifest: manifest({ limits }) }) }));
      for (const [k, n] of Object.entries(d.granted.limits)) {
        expect(n).toBeLessThanOrEqual(maximum[k as keyof typeof maximum]);
        expect(n).toBeGreaterThanOrEqual(1);
      }
    }
  });
  it('grants the requested allowed capabilities only', () => {
    const d = evaluatePolicy(
      input({ verdict: verdictWith({ manifest: manifest({ capabilities: ['random', 'args'] }) }) })
    );
    expect(d.granted.capabilities).toEqual(['args', 'random']);
  });
  it('names every forbidden capability', () => {
    const policy = { ...DEFAULT_POLICY, allowedCapabilities: [] };
    const d = evaluatePolicy(
      input({
        policy,
        verdict: verdictWith({ manifest: manifest({ capabilities: ['env', 'fs-read'] }) })
      })
    );
    const messages = d.reasons.filter((r) => r.code === 'policy.capability').map((r) => r.message);
    expect(messages).toEqual([
      'The capability "env" is not allowed by policy.',
      'The capability "fs-read" is not allowed by policy.'
    ]);
  });
  it('notes imports of capabilities the manifest did not request', () => {
    const d = evaluatePolicy(
      input({ inspection: inspection({ imports: [wasi('random_get', 'random')] }) })
    );
    expect(d.reasons.find((r) => r.code === 'policy.ungranted-import')?.severity).toBe('info');
    expect(d.granted.capabilities).toEqual([]);
  });
});

describe('evaluatePolicy: risk score', () => {
  const factorsOf = (inp: PolicyInput) =>
    Object.fromEntries(evaluatePolicy(inp).risk.factors.map((f) => [f.factor, f.points]));
  it.each<[string, PolicyInput, Record<string, number>, number]>([
    ['clean, seen before', input(), {}, 0],
    ['first version of the name', input({ history: [] }), { 'first-version': 10 }, 10],
    [
      'unsigned, first version, fs imports',
      input({
        verdict: unsignedVerdict,
        history: [],
        inspection: inspection({ imports: [wasi('path_open', 'fs-read')] })
      }),
      { unsigned: 50, capability: 5 },
      55
    ],
    ['unknown signer', input({ verdict: untrustedVerdict }), { 'unknown-signer': 40 }, 40],
    [
      'two capabilities and fs-write',
      input({
        verdict: verdictWith({ manifest: manifest({ capabilities: ['args', 'env', 'fs-write'] }) })
      }),
      { capability: 5, 'capability-fs-write': 15 },
      25
    ],
    [
      'foreign import',
      input({ inspection: inspection({ foreignImports: ['env.x', 'env.y'] }) }),
      { 'foreign-import': 30 },
      30
    ],
    [
      'no memory maximum',
      input({
        inspection: inspection({
          memories: [
            { index: 0, imported: false, min: 1, max: null, shared: false, memory64: false }
          ]
        })
      }),
      { 'no-memory-maximum': 10 },
      10
    ],
    [
      'large module',
      input({ verdict: verdictWith({ module: { sha256: SHA, size: 9 * 1024 * 1024 } }) }),
      { 'large-module': 5 },
      5
    ],
    [
      'drift',
      input({
        history: [{ name: 'hello', version: '1.2.0', moduleSha256: OTHER, signers: [KEY] }]
      }),
      { drift: 40 },
      40
    ],
    [
      'rollback',
      input({ verdict: verdictWith({ manifest: manifest({ version: '0.9.0' }) }) }),
      { rollback: 40 },
      40
    ],
    [
      'review-trust signer',
      input({ signerTrust: { [KEY]: 'review' as SignerTrust } }),
      { 'review-signer': 10 },
      10
    ],
    [
      'capped at 100',
      input({
        verdict: untrustedVerdict,
        history: [{ name: 'hello', version: '1.2.0', moduleSha256: OTHER, signers: [KEY] }],
        inspection: inspection({ foreignImports: ['env.x'] })
      }),
      { 'unknown-signer': 40, drift: 40, 'foreign-import': 30 },
      100
    ]
  ])('%s', (_label, inp, expected, score) => {
    const decision = evaluatePolicy(inp);
    const got = factorsOf(inp);
    for (const [factor, points] of Object.entries(expected)) expect(got[factor]).toBe(points);
    expect(decision.risk.score).toBe(score);
    expect(decision.risk.score).toBe(
      Math.min(
        100,
        decision.risk.factors.reduce((s, f) => s + f.points, 0)
      )
    );
  });
  it('each capability counts', () => {
    const d = evaluatePolicy(
      input({
        verdict: verdictWith({ manifest: manifest({ capabilities: ['args', 'env', 'clock'] }) })
      })
    );
    expect(d.risk.factors.filter((f) => f.factor === 'capability').length).toBe(3);
    expect(d.risk.score).toBe(3 * RISK_POINTS.capability);
  });
});

describe('evaluatePolicy: never throws', () => {
  it('a broken input becomes a policy.internal denial', () => {
    const d = evaluatePolicy({ ...input(), verdict: null as unknown as PolicyInput['verdict'] });
    expect(d.outcome).toBe('reject');
    expect(d.runnable).toBe(false);
    expect(d.reasons[0]!.code).toBe('policy.internal');
  });
});
