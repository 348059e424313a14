/**
 * Tenant overrides can only make the policy stricter (docs/policy.md, "Tenants").
 *
 * The tenant name is the tenant zip's top-level folder and is not signed (module.sig covers
 * module.wasm only): anyone can claim any tenant. So an override is merged field by field with the
 * stricter value winning, and a looser value is inert: `looserOverrides` names each one so the
 * Policy page can say so instead of silently ignoring it.
 */
import {
  POLICY_LIMIT_NAMES,
  type Policy,
  type PolicyFieldError,
  type PolicyLimits,
  type PolicyRules,
  type RejectOrReview,
  type TenantOverride
} from './document';

/** A tenant value that is looser than the base and therefore does not apply. */
export type PolicyWarning = PolicyFieldError;

const CHOICES = ['unsigned', 'unknownSigner', 'rollback', 'drift', 'foreignImports'] as const;

const stricterChoice = (base: RejectOrReview, o: RejectOrReview | undefined): RejectOrReview =>
  base === 'reject' || o === 'reject' ? 'reject' : 'review';

function lowerLimits(base: PolicyLimits, o: Partial<PolicyLimits> | undefined): PolicyLimits {
  const out = { ...base };
  for (const name of POLICY_LIMIT_NAMES) out[name] = Math.min(base[name], o?.[name] ?? base[name]);
  return out;
}

/** The base rules with a tenant override merged over them; on every field the stricter wins. */
export function mergeRules(base: PolicyRules, o: TenantOverride): PolicyRules {
  const blocked = [...new Set([...base.blockedHashes, ...(o.blockedHashes ?? [])])];
  const blockedSet = new Set(blocked);
  const tenantPins = o.pinnedHashes === undefined ? null : new Set(o.pinnedHashes);
  const caps = o.allowedCapabilities;
  return {
    unsigned: stricterChoice(base.unsigned, o.unsigned),
    unknownSigner: stricterChoice(base.unknownSigner, o.unknownSigner),
    threshold: Math.max(base.threshold, o.threshold ?? base.threshold),
    maxModuleBytes: Math.min(base.maxModuleBytes, o.maxModuleBytes ?? base.maxModuleBytes),
    limits: {
      defaults: lowerLimits(base.limits.defaults, o.limits?.defaults),
      maximum: lowerLimits(base.limits.maximum, o.limits?.maximum)
    },
    // Only what both allow; the base's canonical order is kept.
    allowedCapabilities: base.allowedCapabilities.filter(
      (c) => caps === undefined || caps.includes(c)
    ),
    // A tenant can add blocks but never lift one the base policy set.
    blockedHashes: blocked,
    // A pin skips the trusted-signer need in auto mode: a tenant may pin fewer, never more, and a
    // hash the tenant blocks is no longer pinned for it.
    pinnedHashes: base.pinnedHashes.filter(
      (h) => (tenantPins === null || tenantPins.has(h)) && !blockedSet.has(h)
    ),
    rollback: stricterChoice(base.rollback, o.rollback),
    drift: stricterChoice(base.drift, o.drift),
    expiredBundles: 'reject',
    foreignImports: stricterChoice(base.foreignImports, o.foreignImports)
  };
}

/**
 * Every tenant value that is looser than the base, with its field path
 * (`tenants.acme.unsigned`). Equal or stricter values are not listed. Pure; never throws.
 */
export function looserOverrides(policy: Policy): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  for (const [tenant, o] of Object.entries(policy.tenants ?? {})) {
    const p = `tenants.${tenant}.`;
    const inert = (field: string, message: string) =>
      out.push({ field: p + field, message: `${message}; the base value applies` });
    for (const key of CHOICES) {
      if (o[key] === 'review' && policy[key] === 'reject') {
        inert(key, `"review" is looser than the base "reject"`);
      }
    }
    if (o.threshold !== undefined && o.threshold < policy.threshold) {
      inert('threshold', `${o.threshold} is lower than the base ${policy.threshold}`);
    }
    if (o.maxModuleBytes !== undefined && o.maxModuleBytes > policy.maxModuleBytes) {
      inert(
        'maxModuleBytes',
        `${o.maxModuleBytes} is higher than the base ${policy.maxModuleBytes}`
      );
    }
    for (const group of ['defaults', 'maximum'] as const) {
      for (const name of POLICY_LIMIT_NAMES) {
        const v = o.limits?.[group]?.[name];
        const b = policy.limits[group][name];
        if (v !== undefined && v > b) {
          inert(`limits.${group}.${name}`, `${v} is higher than the base ${b}`);
        }
      }
    }
    const extraCaps = (o.allowedCapabilities ?? []).filter(
      (c) => !policy.allowedCapabilities.includes(c)
    );
    if (extraCaps.length > 0) {
      inert('allowedCapabilities', `allows ${extraCaps.join(', ')}, which the base does not`);
    }
    const basePins = new Set(policy.pinnedHashes);
    const extraPins = (o.pinnedHashes ?? []).filter((h) => !basePins.has(h));
    if (extraPins.length > 0) {
      const shown = extraPins.slice(0, 3).join(', ') + (extraPins.length > 3 ? ', …' : '');
      inert('pinnedHashes', `pins ${extraPins.length} hash(es) the base does not pin (${shown})`);
    }
  }
  return out;
}

/** One sentence for a message about inert tenant values (empty when there are none). */
export function inertNote(warnings: readonly PolicyWarning[]): string {
  const n = warnings.length;
  if (n === 0) return '';
  const shown = warnings.slice(0, 10).map((w) => w.field);
  const more = n > shown.length ? ` and ${n - shown.length} more` : '';
  const verb =
    n === 1 ? 'value is looser than the base and does' : 'values are looser than the base and do';
  return ` ${n} tenant ${verb} not apply: ${shown.join(', ')}${more}.`;
}
