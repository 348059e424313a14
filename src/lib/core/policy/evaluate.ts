/**
 * Policy evaluation (docs/policy.md): a verdict, the module's inspection, the signers' trust and
 * the approval history, judged against the policy in the current run mode. Every rule that fires
 * becomes a PolicyReason naming its rule; the risk score is a sum of explained factors.
 *
 * Deny rules hold in every mode and nothing overrides them: not a pinned hash, not a mode. A pin
 * only stands in for signer trust in `auto` mode. evaluatePolicy never throws: an unexpected
 * exception becomes a `policy.internal` deny.
 */
import { compareSemver } from '../semver';
import type { Verdict } from '../verify';
import type { WasmInspection } from '../wasm/inspect';
import { CAPABILITY_GROUPS, type CapabilityGroup } from '../wasm/capabilities';
import {
  POLICY_LIMIT_NAMES,
  rulesFor,
  type Policy,
  type PolicyLimits,
  type PolicyRules
} from './document';
import { scopeProblems, type SignerScope } from './scope';

export type RunMode = 'lockdown' | 'review' | 'auto';
export type SignerTrust = 'auto' | 'review' | 'revoked';
export type Severity = 'deny' | 'review' | 'info';
export type Outcome = 'auto-approve' | 'review' | 'reject';

/** Why policy decided as it did: `rule` is the policy field (or check) behind it. */
export interface PolicyReason {
  rule: string;
  code: `policy.${string}`;
  message: string;
  severity: Severity;
}

export interface ApprovedRecord {
  name: string;
  version: string;
  moduleSha256: string;
  /** Every key that signed the approved version (not only the first): a co-signer's older
   * version is a rollback too. Empty for an unsigned or unknown-signer approval. */
  signers: string[];
}

export interface PolicyInput {
  verdict: Pick<Verdict, 'ok' | 'reasons' | 'signers' | 'format' | 'manifest' | 'module'>;
  inspection: WasmInspection | null;
  /** Trust by canonical key id; a signer missing here counts as `review`. */
  signerTrust: Record<string, SignerTrust>;
  /** Name and capability scope by canonical key id; a signer missing here has no restriction. */
  signerScope?: Record<string, SignerScope>;
  /** Previously approved modules (approved or auto-approved, and those that ran since). */
  history: ApprovedRecord[];
  policy: Policy;
  mode: RunMode;
  tenant?: string;
}

export interface RiskFactor {
  factor: string;
  points: number;
  why: string;
}

export interface PolicyDecision {
  outcome: Outcome;
  /** May this run at all in this mode (now, or once a human approves)? Always false in lockdown. */
  runnable: boolean;
  reasons: PolicyReason[];
  risk: { score: number; factors: RiskFactor[] };
  granted: { limits: PolicyLimits; capabilities: CapabilityGroup[] };
}

/** Risk points by factor (docs/policy.md, "Risk factors"). */
export const RISK_POINTS = {
  unsigned: 50,
  'unknown-signer': 40,
  'review-signer': 10,
  capability: 5,
  'capability-fs-write': 15,
  'foreign-import': 30,
  'no-memory-maximum': 10,
  'large-module': 5,
  'near-maximum-limits': 5,
  'first-version': 10,
  drift: 40,
  rollback: 40
} as const;
export type RiskFactorName = keyof typeof RISK_POINTS;

/** A module at least this large scores the `large-module` factor. */
export const LARGE_MODULE_BYTES = 8 * 1024 * 1024;
/** A granted limit at or above this share of its maximum scores `near-maximum-limits`. */
export const NEAR_MAXIMUM = 0.8;

/** Evaluates policy. Never throws. */
export function evaluatePolicy(input: PolicyInput): PolicyDecision {
  try {
    return evaluate(input);
  } catch (error) {
    let detail = 'an unprintable error';
    try {
      detail = error instanceof Error ? error.message : String(error);
    } catch {
      // keep the placeholder
    }
    return {
      outcome: 'reject',
      runnable: false,
      reasons: [
        {
          rule: 'internal',
          code: 'policy.internal',
          message: `Policy evaluation failed unexpectedly (${detail}); treated as a denial.`,
          severity: 'deny'
        }
      ],
      risk: { score: 100, factors: [{ factor: 'internal', points: 100, why: detail }] },
      granted: {
        limits: { timeoutMs: 0, memoryMiB: 0, outputBytes: 0, fsBytes: 0 },
        capabilities: []
      }
    };
  }
}

function evaluate(input: PolicyInput): PolicyDecision {
  const { verdict, inspection, mode } = input;
  const rules = rulesFor(input.policy, input.tenant);
  const reasons: PolicyReason[] = [];
  const factors: RiskFactor[] = [];
  const add = (rule: string, code: string, severity: Severity, message: string) =>
    reasons.push({ rule, code: `policy.${code}`, message, severity });
  const choice = (setting: 'reject' | 'review'): Severity =>
    setting === 'reject' ? 'deny' : 'review';
  const risk = (factor: RiskFactorName, why: string, times = 1) =>
    factors.push({ factor, points: RISK_POINTS[factor] * times, why });
  const trustOf = (id: string): SignerTrust =>
    Object.hasOwn(input.signerTrust, id) ? (input.signerTrust[id] ?? 'review') : 'review';

  if (input.tenant !== undefined && !Object.hasOwn(input.policy.tenants ?? {}, input.tenant)) {
    add(
      'tenants',
      'tenant-unknown',
      'info',
      `No override for tenant "${input.tenant}"; the base policy applies.`
    );
  }
  const sha = verdict.module?.sha256 ?? null;
  const manifest = verdict.manifest;
  const name = manifest?.name ?? null;

  // 1. Blocked hash.
  if (sha !== null && rules.blockedHashes.includes(sha)) {
    add('blockedHashes', 'blocked', 'deny', `The module ${sha} is blocked.`);
  }

  // 2. Verification, with its special cases.
  const codes = verdict.reasons.map((r) => r.code);
  const unsigned = verdict.format === 'unsigned' || codes.includes('signature.missing');
  const onlyUntrusted =
    !unsigned && codes.length > 0 && codes.every((c) => c === 'signature.untrusted');
  if (unsigned) {
    add('unsigned', 'unsigned', choice(rules.unsigned), 'The module is not signed.');
    risk('unsigned', 'No signature vouches for the module.');
  } else if (onlyUntrusted) {
    add(
      'unknownSigner',
      'unknown-signer',
      choice(rules.unknownSigner),
      'No signature is by a pinned key.'
    );
    risk('unknown-signer', 'The signer is not a pinned key.');
  }
  for (const r of verdict.reasons) {
    if (r.code === 'signature.missing' || (onlyUntrusted && r.code === 'signature.untrusted'))
      continue;
    if (r.code === 'manifest.expired') add('expiredBundles', 'expired', 'deny', r.message);
    else if (r.code === 'module.too-large') add('maxModuleBytes', 'too-large', 'deny', r.message);
    else if (r.code === 'signature.threshold') add('threshold', 'threshold', 'deny', r.message);
    else
      add('verification', 'verification', 'deny', `Verification failed (${r.code}): ${r.message}`);
  }
  if (!verdict.ok && verdict.reasons.length === 0) {
    add('verification', 'verification', 'deny', 'Verification failed without a reason.');
  }

  // 3. Signer trust.
  const signers = [...new Set(verdict.signers)];
  const revoked = signers.filter((id) => trustOf(id) === 'revoked');
  for (const id of revoked) add('signerTrust', 'revoked', 'deny', `The signer ${id} is revoked.`);
  const pinned = sha !== null && rules.pinnedHashes.includes(sha);
  const reviewSigners = signers.filter((id) => trustOf(id) === 'review');
  if (reviewSigners.length > 0) {
    // A pin stands in for signer trust (and only for it).
    add(
      'signerTrust',
      'signer-review',
      pinned ? 'info' : 'review',
      `Signer(s) at trust "review": ${reviewSigners.join(', ')}${pinned ? ' (the hash is pinned)' : ''}.`
    );
    risk('review-signer', `${reviewSigners.length} signer(s) at trust "review".`);
  }

  // 4. Threshold (signed input only: unsigned and unknown-signer have their own rules).
  const live = signers.length - revoked.length;
  if (
    !unsigned &&
    !onlyUntrusted &&
    live < rules.threshold &&
    !codes.includes('signature.threshold')
  ) {
    add(
      'threshold',
      'threshold',
      'deny',
      `${live} usable signer(s); the policy requires ${rules.threshold}.`
    );
  }

  // 5. Size cap (expiry is reported by verify and mapped above).
  if (verdict.module !== null && verdict.module.size > rules.maxModuleBytes) {
    add(
      'maxModuleBytes',
      'too-large',
      'deny',
      `The module is ${verdict.module.size} bytes, over the policy cap of ${rules.maxModuleBytes}.`
    );
  }
  if (verdict.module !== null && verdict.module.size >= LARGE_MODULE_BYTES) {
    risk('large-module', `The module is ${verdict.module.size} bytes.`);
  }

  // 7. Capabilities: requested by the manifest (or, unsigned, implied by the imports).
  const imported = CAPABILITY_GROUPS.filter((c) =>
    inspection?.imports.some((i) => i.capability === c)
  );
  const requested =
    manifest !== null
      ? CAPABILITY_GROUPS.filter((c) => manifest.capabilities.includes(c))
      : imported;
  const forbidden = requested.filter((c) => !rules.allowedCapabilities.includes(c));
  for (const c of forbidden)
    add(
      'allowedCapabilities',
      'capability',
      'deny',
      `The capability "${c}" is not allowed by policy.`
    );
  const granted = requested.filter((c) => rules.allowedCapabilities.includes(c));
  // 7b. Each signer's own scope: names it may sign for, capabilities it may vouch for.
  for (const id of signers.filter((s) => trustOf(s) !== 'revoked')) {
    const scope = Object.hasOwn(input.signerScope ?? {}, id) ? input.signerScope?.[id] : undefined;
    if (scope === undefined) continue;
    for (const p of scopeProblems(id, scope, name, requested)) {
      add('signerScope', p.code, 'deny', p.message);
    }
  }
  for (const c of requested) {
    risk(c === 'fs-write' ? 'capability-fs-write' : 'capability', `Requests "${c}".`);
  }
  for (const c of imported.filter((c) => !granted.includes(c) && !forbidden.includes(c))) {
    add(
      'allowedCapabilities',
      'ungranted-import',
      'info',
      `The module imports "${c}" functions that are not granted; calls to them are refused.`
    );
  }

  // 8. Inspection: foreign or refused imports, memory maximum.
  if (inspection === null) {
    if (verdict.module !== null)
      add('inspection', 'not-inspected', 'review', 'The module was not inspected.');
  } else {
    if (!inspection.ok) {
      add(
        'inspection',
        'inspection',
        'deny',
        `The module does not inspect cleanly: ${inspection.reasons.map((r) => r.code).join(', ') || 'invalid'}.`
      );
    }
    const odd = [...inspection.foreignImports, ...inspection.refusedImports];
    if (odd.length > 0) {
      add(
        'foreignImports',
        'foreign-imports',
        choice(rules.foreignImports),
        `Imports Night Core does not provide: ${odd.slice(0, 10).join(', ')}.`
      );
      risk('foreign-import', `${odd.length} import(s) outside the provided WASI functions.`);
    }
    if (inspection.memories.some((m) => m.max === null)) {
      risk('no-memory-maximum', 'A memory declares no maximum (the runtime imposes one).');
    }
  }

  // 9. History: rollback, drift, first version.
  if (manifest !== null && name !== null) {
    const same = input.history.filter((h) => h.name === name);
    // Rollback is per publisher key: any key that signed both the approved version and this one.
    const lower = same.filter(
      (h) =>
        h.signers.some((id) => signers.includes(id)) &&
        compareSemver(manifest.version, h.version) === -1
    );
    if (lower.length > 0) {
      const top = lower.map((h) => h.version).sort((a, b) => compareSemver(b, a) ?? 0)[0];
      add(
        'rollback',
        'rollback',
        choice(rules.rollback),
        `Version ${manifest.version} is older than the approved ${top}.`
      );
      risk('rollback', `Older than approved version ${top}.`);
    }
    if (
      sha !== null &&
      same.some((h) => h.version === manifest.version && h.moduleSha256 !== sha)
    ) {
      add(
        'drift',
        'drift',
        choice(rules.drift),
        `${name} ${manifest.version} was approved with a different module hash.`
      );
      risk('drift', 'Same name and version, different module.');
    }
    if (same.length === 0) risk('first-version', `No approved version of ${name} yet.`);
  }

  // 10. Limits: requested values clamped to the maximum; absent ones get the defaults.
  const limits = grantLimits(rules, manifest?.limits ?? {}, add);
  if (POLICY_LIMIT_NAMES.some((n) => limits[n] >= rules.limits.maximum[n] * NEAR_MAXIMUM)) {
    risk('near-maximum-limits', 'A granted limit is at least 80% of its maximum.');
  }

  // Decision.
  const denied = reasons.some((r) => r.severity === 'deny');
  const flagged = reasons.some((r) => r.severity === 'review');
  const trusted = signers.length > 0 && signers.every((id) => trustOf(id) === 'auto');
  let outcome: Outcome;
  if (denied) outcome = 'reject';
  else if (mode === 'auto' && !flagged && (trusted || pinned)) outcome = 'auto-approve';
  else outcome = 'review';
  if (!denied && pinned) add('pinnedHashes', 'pinned', 'info', 'The module hash is pinned.');
  if (!denied && mode === 'auto' && !flagged && !trusted && !pinned) {
    add(
      'mode',
      'no-trusted-signer',
      'review',
      'No signer is at trust "auto" and the hash is not pinned.'
    );
  }
  if (mode === 'review' && !denied)
    add('mode', 'mode-review', 'info', 'Review mode: every run needs a human.');
  if (mode === 'lockdown')
    add('mode', 'lockdown', 'info', 'Lockdown: nothing runs; the request is queued.');
  const sum = factors.reduce((s, f) => s + f.points, 0);
  return {
    outcome,
    runnable: mode !== 'lockdown' && outcome !== 'reject',
    reasons,
    risk: { score: Math.min(100, sum), factors },
    granted: { limits, capabilities: denied ? [] : granted }
  };
}

function grantLimits(
  rules: PolicyRules,
  requested: Partial<Record<string, number>>,
  add: (rule: string, code: string, severity: Severity, message: string) => void
): PolicyLimits {
  const out = { ...rules.limits.defaults };
  for (const name of POLICY_LIMIT_NAMES) {
    const max = rules.limits.maximum[name];
    const asked = Object.hasOwn(requested, name) ? requested[name] : undefined;
    if (asked === undefined) {
      out[name] = Math.min(rules.limits.defaults[name], max);
    } else if (!Number.isSafeInteger(asked) || asked < 1) {
      out[name] = Math.min(rules.limits.defaults[name], max);
      add(
        'limits',
        'limit-invalid',
        'info',
        `The requested ${name} is not a positive whole number; the default applies.`
      );
    } else if (asked > max) {
      out[name] = max;
      add(
        'limits',
        'limit-clamped',
        'info',
        `The requested ${name} ${asked} is lowered to the maximum ${max}.`
      );
    } else out[name] = asked;
  }
  return out;
}
