import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBundle } from '../../src/lib/core/bundle-write';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import { verdictKind } from '../../src/lib/core/intake';
import { DEFAULT_POLICY, type Policy } from '../../src/lib/core/policy/document';
import { dryRun, rebuildInput, type DryRunRequest } from '../../src/lib/core/policy/dry-run';
import { evaluatePolicy, type RunMode, type SignerTrust } from '../../src/lib/core/policy/evaluate';
import { verify } from '../../src/lib/core/verify';
import { inspectWasm, type WasmInspection } from '../../src/lib/core/wasm/inspect';

/**
 * Requests are made the way the Inbox makes them: a real bundle, verified against pinned keys,
 * inspected, judged at intake, and stored minus what a RequestRow does not keep.
 */
const HELLO = new Uint8Array(readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url)));
const HELLO_SHA = await sha256Hex(HELLO);
const SEED = { alice: new Uint8Array(32).fill(1), mallory: new Uint8Array(32).fill(2) };
const ALICE = await sha256Hex(publicKeyFromSecret(SEED.alice));
const KEYS = [{ id: ALICE, publicKey: publicKeyFromSecret(SEED.alice), label: 'alice' }];
const NOW = Date.UTC(2026, 0, 1);
let clock = 0;

async function intake(
  signer: 'alice' | 'mallory',
  version: string,
  capabilities: string[],
  trust: Record<string, SignerTrust>,
  policy: Policy,
  mode: RunMode = 'review'
): Promise<DryRunRequest> {
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      name: 'hello',
      version,
      module: { sha256: HELLO_SHA, size: HELLO.length },
      capabilities
    })
  );
  const bytes = await createBundle({ module: HELLO, manifest, signers: [{ seed: SEED[signer] }] });
  const verdict = await verify({ kind: 'bundle', bytes }, KEYS, { now: NOW });
  const decision = evaluatePolicy({
    verdict,
    inspection: inspectWasm(HELLO),
    signerTrust: trust,
    history: [],
    policy,
    mode
  });
  const state = { 'auto-approve': 'auto-approved', review: 'pending', reject: 'rejected' };
  return {
    id: `${signer}-${version}-${clock}`,
    state: state[decision.outcome],
    createdAt: ++clock,
    fileName: 'hello.ncb',
    name: verdict.manifest?.name ?? verdict.name,
    version: verdict.manifest?.version ?? null,
    format: verdict.format,
    moduleSha256: verdict.module?.sha256 ?? '',
    size: verdict.module?.size ?? null,
    verdict: {
      ok: verdict.ok,
      reasons: verdict.reasons,
      signers: verdict.signers
    },
    policy: decision
  };
}

const inspections = new Map<string, WasmInspection | null>([[HELLO_SHA, inspectWasm(HELLO)]]);
const TRUST: Record<string, SignerTrust> = { [ALICE]: 'review' };
const run = (requests: DryRunRequest[], draft: Policy, mode: RunMode = 'review') =>
  dryRun({ requests, inspections, signerTrust: TRUST, mode, current: DEFAULT_POLICY, draft });

describe('dryRun', () => {
  it('under an unchanged policy, every request gets the outcome it got at intake', async () => {
    const requests = [
      await intake('alice', '1.0.0', [], TRUST, DEFAULT_POLICY),
      await intake('mallory', '1.0.0', [], TRUST, DEFAULT_POLICY),
      await intake('alice', '1.0.1', ['fs-write'], TRUST, DEFAULT_POLICY)
    ];
    expect(requests.map((r) => r.state)).toEqual(['pending', 'pending', 'rejected']);
    const rows = run(requests, DEFAULT_POLICY);
    for (const row of rows) {
      const request = requests.find((r) => r.id === row.id)!;
      expect(row.current, row.id).toBe(request.policy!.outcome);
      expect(row, row.id).toMatchObject({ changed: false, added: [], removed: [] });
    }
  });

  // One row per case: what the draft changes, and what the rows must then say.
  const CASES: {
    name: string;
    draft: (p: Policy) => void;
    signer: 'alice' | 'mallory';
    caps: string[];
    current: string;
    draftOutcome: string;
    addedCode?: string;
    removedCode?: string;
  }[] = [
    {
      name: 'unknownSigner "reject" flips a stranger from review to reject',
      draft: (p) => (p.unknownSigner = 'reject'),
      signer: 'mallory',
      caps: [],
      current: 'review',
      draftOutcome: 'reject',
      addedCode: 'policy.unknown-signer',
      removedCode: 'policy.unknown-signer' // the same rule, now a deny instead of a review
    },
    {
      name: 'blocking the hash rejects it',
      draft: (p) => (p.blockedHashes = [HELLO_SHA]),
      signer: 'alice',
      caps: [],
      current: 'review',
      draftOutcome: 'reject',
      addedCode: 'policy.blocked'
    },
    {
      name: 'a threshold of 2 rejects a single signer',
      draft: (p) => (p.threshold = 2),
      signer: 'alice',
      caps: [],
      current: 'review',
      draftOutcome: 'reject',
      addedCode: 'policy.threshold'
    },
    {
      name: 'withdrawing a granted capability rejects it',
      draft: (p) => (p.allowedCapabilities = ['args']),
      signer: 'alice',
      caps: ['clock'],
      current: 'review',
      draftOutcome: 'reject',
      addedCode: 'policy.capability'
    },
    {
      name: 'a smaller size cap rejects it',
      draft: (p) => (p.maxModuleBytes = 16),
      signer: 'alice',
      caps: [],
      current: 'review',
      draftOutcome: 'reject',
      addedCode: 'policy.too-large'
    },
    {
      name: 'a lower maximum changes a reason but not the outcome',
      draft: (p) => (p.limits.maximum.memoryMiB = 32),
      signer: 'alice',
      caps: [],
      current: 'review',
      draftOutcome: 'review',
      addedCode: 'policy.limit-clamped'
    }
  ];

  for (const c of CASES) {
    it(c.name, async () => {
      const request = await intake(c.signer, '2.0.0', c.caps, TRUST, DEFAULT_POLICY);
      const draft = structuredClone(DEFAULT_POLICY);
      c.draft(draft);
      if (draft.limits.defaults.memoryMiB > draft.limits.maximum.memoryMiB) {
        draft.limits.defaults.memoryMiB = draft.limits.maximum.memoryMiB;
      }
      const [row] = run([request], draft);
      expect(row).toMatchObject({ id: request.id, current: c.current, draft: c.draftOutcome });
      expect(row!.changed).toBe(c.current !== c.draftOutcome);
      if (c.addedCode) expect(row!.added.map((r) => r.code)).toContain(c.addedCode);
      if (c.removedCode) expect(row!.removed.map((r) => r.code)).toContain(c.removedCode);
      else expect(row!.removed.filter((r) => r.severity !== 'info')).toEqual([]);
    });
  }

  it('uses the stored manifest when the request has one: nothing rebuilt, nothing noted', async () => {
    const stored = await intake('alice', '1.0.0', ['fs-read'], TRUST, DEFAULT_POLICY);
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        name: 'hello',
        version: '1.0.0',
        module: { sha256: HELLO_SHA, size: HELLO.length },
        capabilities: ['fs-read']
      })
    );
    const verdict = await verify(
      {
        kind: 'bundle',
        bytes: await createBundle({
          module: HELLO,
          manifest: bytes,
          signers: [{ seed: SEED.alice }]
        })
      },
      KEYS,
      { now: NOW }
    );
    const withManifest = { ...stored, manifest: verdict.manifest };
    // Rejected at intake, so nothing was granted and hello does not import fs-read: without the
    // manifest the request for fs-read would be lost.
    expect(stored.state).toBe('rejected');
    const allowFsRead = {
      ...DEFAULT_POLICY,
      allowedCapabilities: [...DEFAULT_POLICY.allowedCapabilities, 'fs-read' as const]
    };
    const [row] = run([withManifest], allowFsRead);
    expect(row).toMatchObject({ current: 'reject', draft: 'review', changed: true, notes: [] });
    const scoped = dryRun({
      requests: [withManifest],
      inspections,
      signerTrust: TRUST,
      signerScope: { [ALICE]: { names: ['other-*'], capabilities: null } },
      mode: 'review',
      current: DEFAULT_POLICY,
      draft: allowFsRead
    });
    // The key's scope holds under both policies: the draft that allowed fs-read still rejects.
    expect(scoped[0]).toMatchObject({ current: 'reject', draft: 'reject', changed: false });
  });

  it('a pinned hash auto-approves in auto mode only', async () => {
    const trustAuto: Record<string, SignerTrust> = {};
    const request = await intake('mallory', '1.0.0', [], trustAuto, DEFAULT_POLICY);
    const draft = {
      ...DEFAULT_POLICY,
      unknownSigner: 'review' as const,
      pinnedHashes: [HELLO_SHA]
    };
    // A pin does not clear the unknown-signer flag (docs/policy.md): still review, in every mode.
    for (const mode of ['review', 'auto'] as const) {
      const [row] = dryRun({
        requests: [request],
        inspections,
        signerTrust: trustAuto,
        mode,
        current: DEFAULT_POLICY,
        draft
      });
      expect(row!.draft, mode).toBe('review');
      expect(
        row!.added.map((r) => r.code),
        mode
      ).toContain('policy.pinned');
    }
  });

  it('lists pending requests first, then the rest, newest first', async () => {
    const a = await intake('alice', '1.0.0', [], TRUST, DEFAULT_POLICY); // pending
    const b = await intake('alice', '1.0.1', ['fs-write'], TRUST, DEFAULT_POLICY); // rejected
    const c = await intake('mallory', '1.0.2', [], TRUST, DEFAULT_POLICY); // pending
    const d = { ...(await intake('alice', '1.0.3', [], TRUST, DEFAULT_POLICY)), state: 'approved' };
    const rows = run([a, b, c, d], DEFAULT_POLICY);
    expect(rows.map((r) => r.id)).toEqual([c.id, a.id, d.id, b.id]);
  });

  it('uses approved requests (not the request itself) as history: drift shows', async () => {
    const approved = {
      ...(await intake('alice', '3.0.0', [], TRUST, DEFAULT_POLICY)),
      state: 'approved',
      moduleSha256: 'ee'.repeat(32)
    };
    const again = await intake('alice', '3.0.0', [], TRUST, DEFAULT_POLICY);
    const draft = { ...DEFAULT_POLICY, drift: 'review' as const };
    const row = run([approved, again], draft).find((r) => r.id === again.id)!;
    expect(row).toMatchObject({ current: 'reject', draft: 'review', changed: true });
    expect(row.removed.map((r) => r.code)).toContain('policy.drift');
  });

  it('names what it could not rebuild', async () => {
    const tooBig = await intake('alice', '1.0.0', ['clock'], TRUST, {
      ...DEFAULT_POLICY,
      maxModuleBytes: 16
    });
    const noBytes = await intake('alice', '1.0.1', [], TRUST, DEFAULT_POLICY);
    expect(tooBig.state).toBe('rejected');
    const rebuilt = rebuildInput(tooBig, inspectWasm(HELLO), []);
    expect(rebuilt.notes.join(' ')).toMatch(/Rejected at intake: nothing was granted/);
    expect(rebuilt.base.verdict.manifest?.capabilities).not.toContain('clock');
    const [row] = dryRun({
      requests: [noBytes],
      inspections: new Map(),
      signerTrust: TRUST,
      mode: 'review',
      current: DEFAULT_POLICY,
      draft: DEFAULT_POLICY
    });
    expect(row!.notes.join(' ')).toMatch(/not stored, so it was not inspected/);
    expect(row!.current).toBe('review'); // policy.not-inspected is a review reason
  });

  it('recovers capabilities refused at intake from the reasons that name them', async () => {
    const refused = await intake(
      'alice',
      '1.0.0',
      ['clock', 'fs-read', 'fs-write'],
      TRUST,
      DEFAULT_POLICY
    );
    const { base, notes } = rebuildInput(refused, inspectWasm(HELLO), []);
    // "clock" was allowed, but a rejection grants nothing, so it is not stored anywhere.
    expect(base.verdict.manifest?.capabilities).toEqual(['fs-read', 'fs-write']);
    expect(notes.join(' ')).toMatch(/only the refused and the imported ones are known/);
    // Allowing them in a draft lifts the rejection.
    const draft = structuredClone(DEFAULT_POLICY);
    draft.allowedCapabilities.push('fs-read', 'fs-write');
    const [row] = run([refused], draft);
    expect(row).toMatchObject({ current: 'reject', draft: 'review', changed: true });
    expect(row!.removed.filter((r) => r.code === 'policy.capability')).toHaveLength(2);
  });

  it('rebuilds the manifest fields evaluation reads from the stored request', async () => {
    const request = await intake('alice', '1.2.3', ['clock'], TRUST, DEFAULT_POLICY);
    const { base } = rebuildInput(request, inspectWasm(HELLO), []);
    expect(base.verdict.manifest).toMatchObject({
      name: 'hello',
      version: '1.2.3',
      module: { sha256: HELLO_SHA, size: HELLO.length },
      capabilities: ['clock'],
      limits: DEFAULT_POLICY.limits.defaults
    });
    expect(base.verdict.signers).toEqual([ALICE]);
    expect(kindOf(request)).toBe('verified');
  });
});

function kindOf(request: DryRunRequest) {
  return verdictKind({
    ok: request.verdict.ok,
    format: request.format as 'bundle',
    reasons: request.verdict.reasons,
    signers: request.verdict.signers
  } as Parameters<typeof verdictKind>[0]);
}
