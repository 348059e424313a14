// A tenant folder or zip names its tenant (the one top-level folder, when a valid tenant name);
// the request keeps it and every evaluation (intake, approval re-check, dry run) applies that
// tenant's override, and no other tenant's. Real zips, real raw Ed25519 signatures, real verify.
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toBase64, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import { signRaw } from '../../src/lib/core/formats/raw';
import { DEFAULT_POLICY, parsePolicy, type Policy } from '../../src/lib/core/policy/document';
import { dryRun, rebuildInput, type DryRunRequest } from '../../src/lib/core/policy/dry-run';
import { evaluatePolicy, type SignerTrust } from '../../src/lib/core/policy/evaluate';
import { verify, type Verdict } from '../../src/lib/core/verify';
import { inspectWasm } from '../../src/lib/core/wasm/inspect';
import { toRequest } from '../../src/lib/state/intake-judging';

const HELLO = new Uint8Array(readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url)));
const HELLO_SHA = await sha256Hex(HELLO);
const INSPECTION = inspectWasm(HELLO);
const SEED = new Uint8Array(32).fill(21);
const PUBLIC = publicKeyFromSecret(SEED);
const KEY = { id: await sha256Hex(PUBLIC), publicKey: PUBLIC, label: 'acme' };
const TRUST: Record<string, SignerTrust> = { [KEY.id]: 'review' };
const SIG = await signRaw(HELLO, SEED);

const checked = parsePolicy(
  JSON.stringify({
    ...DEFAULT_POLICY,
    version: 3,
    tenants: { acme: { blockedHashes: [HELLO_SHA] }, beta: {} }
  })
);
if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
const POLICY: Policy = checked.policy;

async function zipIn(folder: string | null): Promise<Verdict> {
  const files = {
    'module.wasm': HELLO,
    'module.sig': utf8(`${toBase64(SIG)}\n`),
    'pubkey.b64': utf8(`${toBase64(PUBLIC)}\n`)
  };
  const entries =
    folder === null
      ? files
      : Object.fromEntries(Object.entries(files).map(([n, d]) => [`${folder}/${n}`, d]));
  return verify({ kind: 'tenant-zip', bytes: zipSync(entries) }, [KEY]);
}

const judge = (verdict: Verdict) =>
  evaluatePolicy({
    verdict,
    inspection: INSPECTION,
    signerTrust: TRUST,
    history: [],
    policy: POLICY,
    mode: 'review',
    ...(verdict.tenant !== undefined ? { tenant: verdict.tenant } : {})
  });

describe('the tenant a folder names', () => {
  it('is the zip’s top-level folder, and its override (a blocked hash) applies to it', async () => {
    const verdict = await zipIn('acme');
    expect(verdict.ok).toBe(true);
    expect(verdict.tenant).toBe('acme');
    const decision = judge(verdict);
    expect(decision.outcome).toBe('reject');
    expect(decision.reasons.map((r) => r.code)).toContain('policy.blocked');
  });

  it('does not apply to another tenant, nor to a zip without a folder', async () => {
    for (const folder of ['beta', null]) {
      const verdict = await zipIn(folder);
      expect(verdict.tenant).toBe(folder ?? undefined);
      const decision = judge(verdict);
      expect(decision.outcome).toBe('review');
      expect(decision.reasons.map((r) => r.code)).not.toContain('policy.blocked');
    }
  });

  it('a folder that is no tenant name gives no tenant, and a note says why', async () => {
    for (const folder of ['-acme', 'acme corp', 'a'.repeat(65), 'acmé']) {
      const verdict = await zipIn(folder);
      expect(verdict.ok).toBe(true);
      expect(verdict.tenant).toBeUndefined();
      expect(verdict.notes.map((n) => n.code)).toContain('tenant.name');
      expect(judge(verdict).outcome).toBe('review');
    }
  });

  it('a tenant folder given as files names its tenant too', async () => {
    const verdict = await verify(
      {
        kind: 'tenant',
        files: new Map([
          ['acme/module.wasm', HELLO],
          ['acme/module.sig', SIG]
        ])
      },
      [KEY]
    );
    expect(verdict.tenant).toBe('acme');
  });
});

describe('the stored request keeps its tenant for every later evaluation', () => {
  async function stored(folder: string): Promise<DryRunRequest> {
    const verdict = await zipIn(folder);
    const row = toRequest(
      { fileName: `${folder}.zip`, input: { kind: 'tenant-zip', bytes: new Uint8Array() } },
      verdict,
      'file',
      judge(verdict)
    );
    expect(row.tenant).toBe(folder);
    // Pending as if the block came after intake: the re-check must apply the override now.
    return { ...row, state: 'pending' };
  }

  it('rebuildInput carries it, so the approval re-check and the dry run apply the override', async () => {
    const acme = await stored('acme');
    const beta = await stored('beta');
    const { base } = rebuildInput(acme, INSPECTION, [acme, beta]);
    expect(base.tenant).toBe('acme');
    const now = evaluatePolicy({ ...base, signerTrust: TRUST, policy: POLICY, mode: 'review' });
    expect(now.outcome).toBe('reject');
    const rows = dryRun({
      requests: [acme, beta],
      inspections: new Map([[HELLO_SHA, INSPECTION]]),
      signerTrust: TRUST,
      mode: 'review',
      current: POLICY,
      draft: { ...POLICY, tenants: {} }
    });
    const row = (id: string) => rows.find((r) => r.id === id);
    expect([row(acme.id)?.current, row(acme.id)?.draft]).toEqual(['reject', 'review']);
    expect([row(beta.id)?.current, row(beta.id)?.draft]).toEqual(['review', 'review']);
  });

  it('a stored tenant that is no tenant name (a crafted backup) selects no override', async () => {
    const forged = { ...(await stored('acme')), tenant: 'acme\u0000' };
    const { base } = rebuildInput(forged, INSPECTION, [forged]);
    expect(base.tenant).toBeUndefined();
  });
});
