// Replays and revoked co-signers through the real functions: bundles signed by real keys,
// verified the way the Inbox verifies them (verifyAgainst), judged by evaluatePolicy with the
// history the Inbox, the approval re-check and the dry run build (approvedHistory).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBundle } from '../../src/lib/core/bundle-write';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import { DEFAULT_POLICY } from '../../src/lib/core/policy/document';
import {
  approvedHistory,
  dryRun,
  rebuildInput,
  type DryRunRequest
} from '../../src/lib/core/policy/dry-run';
import { evaluatePolicy, type RunMode, type SignerTrust } from '../../src/lib/core/policy/evaluate';
import type { Verdict } from '../../src/lib/core/verify';
import { inspectWasm } from '../../src/lib/core/wasm/inspect';
import {
  approvedHistory as inboxHistory,
  storedVerdict,
  verifyAgainst
} from '../../src/lib/state/intake-judging';
import type { KeyRow, RequestRow } from '../../src/lib/storage/records';

const HELLO = new Uint8Array(readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url)));
const HELLO_SHA = await sha256Hex(HELLO);
const INSPECTION = inspectWasm(HELLO);
type Who = 'a' | 'b' | 'r';
const SEED: Record<Who, Uint8Array> = {
  a: new Uint8Array(32).fill(11),
  b: new Uint8Array(32).fill(12),
  r: new Uint8Array(32).fill(13)
};
const ID: Record<Who, string> = {
  a: await sha256Hex(publicKeyFromSecret(SEED.a)),
  b: await sha256Hex(publicKeyFromSecret(SEED.b)),
  r: await sha256Hex(publicKeyFromSecret(SEED.r))
};

function keyRow(who: Who, trust: KeyRow['trust']): KeyRow {
  return {
    id: ID[who],
    publicKey: publicKeyFromSecret(SEED[who]),
    label: `key ${who}`,
    trust,
    format: 'raw',
    nativeId: ID[who],
    scope: [],
    addedAt: 0
  };
}

async function bundle(version: string, signers: Who[]): Promise<Uint8Array> {
  const manifest = new TextEncoder().encode(
    JSON.stringify({ name: 'hello', version, module: { sha256: HELLO_SHA, size: HELLO.length } })
  );
  return createBundle({
    module: HELLO,
    manifest,
    signers: signers.map((w) => ({ seed: SEED[w] }))
  });
}

let clock = 0;
/** A request row as the Inbox stores it: the real verdict of a real bundle, in `state`. */
async function request(
  version: string,
  signers: Who[],
  state: RequestRow['state'],
  keys: KeyRow[]
): Promise<{ row: RequestRow; verdict: Verdict }> {
  const verdict = await verifyAgainst(
    { fileName: 'hello.ncb', input: { kind: 'bundle', bytes: await bundle(version, signers) } },
    keys
  );
  const row = {
    id: `${version}-${signers.join('')}-${++clock}`,
    state,
    createdAt: clock,
    channel: 'paste',
    moduleSha256: verdict.module?.sha256 ?? '',
    manifestSha256: verdict.manifestSha256,
    fileName: 'hello.ncb',
    name: verdict.manifest?.name ?? null,
    version: verdict.manifest?.version ?? null,
    format: verdict.format,
    size: verdict.module?.size ?? null,
    manifest: verdict.manifest,
    verdict: storedVerdict(verdict)
  } as RequestRow;
  return { row, verdict };
}

const trustOf = (keys: KeyRow[]): Record<string, SignerTrust> =>
  Object.fromEntries(keys.map((k) => [k.id, k.trust]));

function judge(verdict: Verdict, keys: KeyRow[], history: RequestRow[], mode: RunMode = 'auto') {
  return evaluatePolicy({
    verdict,
    inspection: INSPECTION,
    signerTrust: trustOf(keys),
    history: inboxHistory(history),
    policy: { ...DEFAULT_POLICY, rollback: 'review' },
    mode
  });
}
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('rollback compares every signer of an approved version', () => {
  const keys = [keyRow('a', 'auto'), keyRow('b', 'auto')];

  it('v2 signed by A and B approved: v1 signed by B alone is a rollback, not an auto-approval', async () => {
    const v2 = await request('2.0.0', ['a', 'b'], 'approved', keys);
    expect(v2.row.verdict.signers.slice().sort()).toEqual([ID.a, ID.b].sort());
    const v1 = await request('1.0.0', ['b'], 'pending', keys);
    const decision = judge(v1.verdict, keys, [v2.row]);
    expect(codes(decision)).toContain('policy.rollback');
    expect(decision.outcome).toBe('review');
    // The order of signatures in the approved bundle does not matter either.
    const v2ba = await request('2.0.0', ['b', 'a'], 'approved', keys);
    const v1a = await request('1.0.0', ['a'], 'pending', keys);
    expect(codes(judge(v1a.verdict, keys, [v2ba.row]))).toContain('policy.rollback');
  });

  it('history records carry every signer (Inbox and dry-run histories agree)', async () => {
    const v2 = await request('2.0.0', ['a', 'b'], 'approved', keys);
    const records = inboxHistory([v2.row]);
    expect(records).toEqual(approvedHistory([v2.row]));
    expect(records[0]?.signers.slice().sort()).toEqual([ID.a, ID.b].slice().sort());
  });

  it('an older version by a key that never signed an approved one is not a rollback', async () => {
    const v2 = await request('2.0.0', ['a'], 'approved', keys);
    const v1 = await request('1.0.0', ['b'], 'pending', keys);
    const decision = judge(v1.verdict, keys, [v2.row]);
    expect(codes(decision)).not.toContain('policy.rollback');
    expect(decision.outcome).toBe('auto-approve');
  });

  it('a rollback with rollback "reject" is a denial whichever co-signer signed it', async () => {
    const v2 = await request('2.0.0', ['a', 'b'], 'done', keys);
    const v1 = await request('1.0.0', ['b'], 'pending', keys);
    const decision = evaluatePolicy({
      verdict: v1.verdict,
      inspection: INSPECTION,
      signerTrust: trustOf(keys),
      history: inboxHistory([v2.row]),
      policy: DEFAULT_POLICY,
      mode: 'review'
    });
    expect(decision.outcome).toBe('reject');
    expect(decision.reasons.find((r) => r.code === 'policy.rollback')?.severity).toBe('deny');
  });
});

describe('versions that ran count as approved history; refused ones never do', () => {
  const keys = [keyRow('a', 'review')];

  it.each(['approved', 'auto-approved', 'running', 'done'] as const)(
    'v2 in state %s: approving a pending v1 is a rollback (approval re-check and dry run)',
    async (state) => {
      const v2 = await request('2.0.0', ['a'], state, keys);
      const v1 = await request('1.0.0', ['a'], 'pending', keys);
      expect(approvedHistory([v2.row, v1.row], v1.row.id)).toHaveLength(1);
      // What decisions.ts judges an approval with: rebuildInput over the stored rows.
      const { base } = rebuildInput(v1.row as DryRunRequest, INSPECTION, [v2.row, v1.row]);
      const now = evaluatePolicy({
        ...base,
        signerTrust: trustOf(keys),
        policy: DEFAULT_POLICY,
        mode: 'review'
      });
      expect(codes(now)).toContain('policy.rollback');
      expect(now.outcome).toBe('reject');
      // The Policy page's dry run sees it too.
      const rows = dryRun({
        requests: [v2.row, v1.row],
        inspections: new Map([[HELLO_SHA, INSPECTION]]),
        signerTrust: trustOf(keys),
        mode: 'review',
        current: DEFAULT_POLICY,
        draft: DEFAULT_POLICY
      });
      expect(rows.find((r) => r.id === v1.row.id)?.current).toBe('reject');
    }
  );

  it.each(['pending', 'rejected', 'denied'] as const)(
    'v2 in state %s is no history: v1 is judged without it',
    async (state) => {
      const v2 = await request('2.0.0', ['a'], state, keys);
      const v1 = await request('1.0.0', ['a'], 'pending', keys);
      expect(approvedHistory([v2.row, v1.row])).toEqual([]);
      expect(inboxHistory([v2.row, v1.row])).toEqual([]);
      const { base } = rebuildInput(v1.row as DryRunRequest, INSPECTION, [v2.row, v1.row]);
      const now = evaluatePolicy({
        ...base,
        signerTrust: trustOf(keys),
        policy: DEFAULT_POLICY,
        mode: 'review'
      });
      expect(codes(now)).not.toContain('policy.rollback');
      expect(now.outcome).toBe('review');
    }
  );
});

describe('a revoked co-signer is seen at intake', () => {
  it('a bundle signed by a revoked key and an auto key is denied, in every mode', async () => {
    const keys = [keyRow('a', 'auto'), keyRow('r', 'revoked')];
    const { verdict, row } = await request('1.0.0', ['r', 'a'], 'pending', keys);
    expect(verdict.signers).toContain(ID.r);
    expect(row.verdict.signers).toContain(ID.r);
    for (const mode of ['lockdown', 'review', 'auto'] as const) {
      const decision = judge(verdict, keys, [], mode);
      expect(decision.outcome).toBe('reject');
      expect(decision.runnable).toBe(false);
      expect(decision.reasons).toContainEqual(
        expect.objectContaining({ code: 'policy.revoked', severity: 'deny' })
      );
    }
  });

  it('the revoked signature is found whichever order the signatures are in', async () => {
    const keys = [keyRow('a', 'auto'), keyRow('r', 'revoked')];
    const { verdict } = await request('1.0.0', ['a', 'r'], 'pending', keys);
    expect(verdict.signers.slice().sort()).toEqual([ID.a, ID.r].slice().sort());
    expect(judge(verdict, keys, []).outcome).toBe('reject');
  });

  it('a bundle by a revoked key alone is still named as revoked (signature.revoked)', async () => {
    const keys = [keyRow('a', 'auto'), keyRow('r', 'revoked')];
    const { verdict } = await request('1.0.0', ['r'], 'pending', keys);
    expect(verdict.ok).toBe(false);
    expect(verdict.reasons.map((r) => r.code)).toEqual(['signature.revoked']);
    expect(judge(verdict, keys, []).outcome).toBe('reject');
  });

  it('without a revoked signature nothing changes: A alone still auto-approves', async () => {
    const keys = [keyRow('a', 'auto'), keyRow('r', 'revoked')];
    const { verdict } = await request('1.0.0', ['a'], 'pending', keys);
    expect(verdict.signers).toEqual([ID.a]);
    expect(judge(verdict, keys, []).outcome).toBe('auto-approve');
  });
});
