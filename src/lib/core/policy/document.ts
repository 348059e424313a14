/**
 * The policy document (DESIGN.md, "Trust, policy, approval"; docs/policy.md): how unsigned and
 * unknown-signer input is handled, the signature threshold, the size cap, default and maximum
 * limits, allowed capabilities, blocked and pinned hashes, rollback, drift, expiry and foreign
 * import rules, and per-tenant overrides (which only tighten: stricter.ts).
 *
 * parsePolicy reads JSON text with the strict parser (duplicate keys refused), checks every field,
 * refuses unknown fields, and reports every problem as `{field, message}` with a dotted path
 * (`limits.maximum.memoryMiB`, `tenants.acme.threshold`). It never throws.
 */
import { isJsonArray, isJsonObject, jsonKindOf, parseJson, type JsonValue } from '../json';
import { CAPABILITY_GROUPS, type CapabilityGroup } from '../wasm/capabilities';
import { mergeRules } from './stricter';

export { inertNote, looserOverrides, type PolicyWarning } from './stricter';

export type RejectOrReview = 'reject' | 'review';

export const POLICY_LIMIT_NAMES = ['timeoutMs', 'memoryMiB', 'outputBytes', 'fsBytes'] as const;
export type PolicyLimitName = (typeof POLICY_LIMIT_NAMES)[number];
export type PolicyLimits = Record<PolicyLimitName, number>;

/** The fields a tenant may override (everything but `version`, `name` and `tenants`). */
export interface PolicyRules {
  unsigned: RejectOrReview;
  unknownSigner: RejectOrReview;
  /** Distinct trusted signers required. */
  threshold: number;
  maxModuleBytes: number;
  limits: { defaults: PolicyLimits; maximum: PolicyLimits };
  allowedCapabilities: CapabilityGroup[];
  /** Lowercase hex SHA-256 of modules that never run (deny, every mode). */
  blockedHashes: string[];
  /** Lowercase hex SHA-256 of modules that may run in `auto` mode without a trusted signer. */
  pinnedHashes: string[];
  rollback: RejectOrReview;
  drift: RejectOrReview;
  expiredBundles: 'reject';
  foreignImports: RejectOrReview;
}

/** A tenant override: any rule; `limits` may give only some defaults or maximums. */
export type TenantOverride = Partial<Omit<PolicyRules, 'limits'>> & {
  limits?: { defaults?: Partial<PolicyLimits>; maximum?: Partial<PolicyLimits> };
};

export interface Policy extends PolicyRules {
  /** The document's version number (each change is a new version). */
  version: number;
  name: string;
  /** Runs at once; the rest wait in the queue. Optional (documents before it: the default). */
  maxConcurrentRuns?: number;
  tenants?: Record<string, TenantOverride>;
}

export interface PolicyFieldError {
  field: string;
  message: string;
}

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyFieldError[] };

const MiB = 1024 * 1024;

/** Bounds of each limit (inclusive), and its unit for messages. */
export const LIMIT_BOUNDS: Readonly<Record<PolicyLimitName, { max: number; unit: string }>> = {
  timeoutMs: { max: 3_600_000, unit: 'milliseconds' },
  memoryMiB: { max: 4096, unit: 'MiB' },
  outputBytes: { max: 1024 * MiB, unit: 'bytes' },
  fsBytes: { max: 4096 * MiB, unit: 'bytes' }
};
export const MAX_THRESHOLD = 16;
export const MAX_CONCURRENT_RUNS = 16;
/** Runs at once when the policy does not say. */
export const DEFAULT_CONCURRENT_RUNS = 2;
export const MAX_MODULE_BYTES_CAP = 1024 * MiB;
export const MAX_POLICY_CHARS = 1024 * 1024;
export const MAX_HASHES = 10_000;
export const MAX_NAME_LENGTH = 128;
const TENANT_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** A tenant name: 1 to 64 characters from A-Z a-z 0-9 . _ - starting with a letter or digit. */
export function isTenantName(value: unknown): boolean {
  return typeof value === 'string' && TENANT_RE.test(value);
}
const SHA256_RE = /^[0-9a-f]{64}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Safe defaults: unsigned rejected, unknown signers reviewed, nothing beyond pure computation. */
export const DEFAULT_POLICY: Policy = {
  version: 1,
  name: 'default',
  maxConcurrentRuns: DEFAULT_CONCURRENT_RUNS,
  unsigned: 'reject',
  unknownSigner: 'review',
  threshold: 1,
  maxModuleBytes: 64 * MiB,
  limits: {
    defaults: { timeoutMs: 5000, memoryMiB: 64, outputBytes: 1 * MiB, fsBytes: 16 * MiB },
    maximum: { timeoutMs: 60_000, memoryMiB: 512, outputBytes: 64 * MiB, fsBytes: 256 * MiB }
  },
  allowedCapabilities: ['args', 'env', 'clock', 'random', 'stdin'],
  blockedHashes: [],
  pinnedHashes: [],
  rollback: 'reject',
  drift: 'reject',
  expiredBundles: 'reject',
  foreignImports: 'reject'
};

const CHOICE_FIELDS = ['unsigned', 'unknownSigner', 'rollback', 'drift', 'foreignImports'] as const;
const RULE_FIELDS = [
  ...CHOICE_FIELDS,
  'threshold',
  'maxModuleBytes',
  'limits',
  'allowedCapabilities',
  'blockedHashes',
  'pinnedHashes',
  'expiredBundles'
] as const;
const TOP_FIELDS = new Set<string>([
  'version',
  'name',
  'tenants',
  'maxConcurrentRuns',
  ...RULE_FIELDS
]);
const TENANT_FIELDS = new Set<string>(RULE_FIELDS);

/** Parses and checks a policy document; never throws. */
export function parsePolicy(text: string): PolicyResult {
  const parsed = parseJson(text, { maxSize: MAX_POLICY_CHARS });
  if (!parsed.ok) {
    return fail('(document)', `not valid JSON: ${parsed.message} (at offset ${parsed.offset})`);
  }
  return checkPolicy(parsed.value);
}

/** Checks an already parsed JSON value as a policy document; never throws. */
export function checkPolicy(value: JsonValue): PolicyResult {
  const c = new Checker();
  if (!isJsonObject(value))
    return fail('(document)', `must be an object, not ${jsonKindOf(value)}`);
  for (const key of Object.keys(value)) {
    if (!TOP_FIELDS.has(key)) c.err(key, 'is not a policy field');
  }
  const version = c.whole(value, 'version', '', 1, Number.MAX_SAFE_INTEGER, true);
  const name = c.name(value);
  const concurrency = c.whole(value, 'maxConcurrentRuns', '', 1, MAX_CONCURRENT_RUNS, false);
  const rules = c.rules(value, '', true);
  if (rules !== null) c.ordered(rules as PolicyRules, '');
  const tenants = c.tenants(value, rules);
  if (c.errors.length > 0 || version === undefined || name === undefined || rules === null) {
    return { ok: false, errors: c.errors };
  }
  const policy: Policy = { version, name, ...(rules as PolicyRules) };
  if (concurrency !== undefined) policy.maxConcurrentRuns = concurrency;
  if (tenants !== undefined) policy.tenants = tenants;
  return { ok: true, policy };
}

/**
 * The rules in force for a tenant: its override merged over the base, the stricter value winning on
 * every field (tenant names are not signed, so an override may tighten but never loosen).
 */
export function rulesFor(policy: Policy, tenant?: string): PolicyRules {
  const override =
    tenant !== undefined && policy.tenants !== undefined && Object.hasOwn(policy.tenants, tenant)
      ? policy.tenants[tenant]
      : undefined;
  return mergeRules(policy, override ?? {});
}

function fail(field: string, message: string): PolicyResult {
  return { ok: false, errors: [{ field, message }] };
}

type Obj = { [key: string]: JsonValue };
type PartialRules = TenantOverride;

class Checker {
  errors: PolicyFieldError[] = [];

  err(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  /** Reads `obj[key]`; reports a missing required field. */
  get(obj: Obj, key: string, path: string, required: boolean): JsonValue | undefined {
    if (Object.hasOwn(obj, key)) return obj[key];
    if (required) this.err(path + key, 'is required');
    return undefined;
  }

  whole(obj: Obj, key: string, prefix: string, min: number, max: number, required: boolean) {
    const v = this.get(obj, key, prefix, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      this.err(prefix + key, `must be a whole number between ${min} and ${max}`);
      return undefined;
    }
    return v;
  }

  name(obj: Obj): string | undefined {
    const v = this.get(obj, 'name', '', true);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length < 1 || v.length > MAX_NAME_LENGTH || CONTROL.test(v)) {
      this.err(
        'name',
        `must be text of 1 to ${MAX_NAME_LENGTH} characters without control characters`
      );
      return undefined;
    }
    return v;
  }

  /** The rule fields; `required` for the base policy, optional in a tenant override. */
  rules(obj: Obj, p: string, required: boolean): PartialRules | null {
    const out: PartialRules = {};
    const before = this.errors.length;
    for (const key of CHOICE_FIELDS) {
      const v = this.get(obj, key, p, required);
      if (v === undefined) continue;
      if (v !== 'reject' && v !== 'review') this.err(p + key, 'must be "reject" or "review"');
      else out[key] = v;
    }
    const expired = this.get(obj, 'expiredBundles', p, required);
    if (expired !== undefined) {
      if (expired !== 'reject') this.err(`${p}expiredBundles`, 'must be "reject"');
      else out.expiredBundles = 'reject';
    }
    const threshold = this.whole(obj, 'threshold', p, 1, MAX_THRESHOLD, required);
    if (threshold !== undefined) out.threshold = threshold;
    const size = this.whole(obj, 'maxModuleBytes', p, 1, MAX_MODULE_BYTES_CAP, required);
    if (size !== undefined) out.maxModuleBytes = size;
    const limits = this.limits(obj, p, required);
    if (limits !== undefined) out.limits = limits;
    const caps = this.capabilities(obj, p, required);
    if (caps !== undefined) out.allowedCapabilities = caps;
    const blocked = this.hashes(obj, 'blockedHashes', p, required);
    if (blocked !== undefined) out.blockedHashes = blocked;
    const pinned = this.hashes(obj, 'pinnedHashes', p, required);
    if (pinned !== undefined) out.pinnedHashes = pinned;
    if (blocked !== undefined && pinned !== undefined) {
      pinned.forEach((hash, i) => {
        if (blocked.includes(hash)) this.err(`${p}pinnedHashes[${i}]`, 'is also blocked');
      });
    }
    return this.errors.length > before ? null : out;
  }

  limits(obj: Obj, p: string, required: boolean): PartialRules['limits'] {
    const v = this.get(obj, 'limits', p, required);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) {
      this.err(`${p}limits`, `must be an object, not ${jsonKindOf(v)}`);
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (key !== 'defaults' && key !== 'maximum')
        this.err(`${p}limits.${key}`, 'is not a policy field');
    }
    const out: NonNullable<PartialRules['limits']> = {};
    for (const group of ['defaults', 'maximum'] as const) {
      const g = this.get(v, group, `${p}limits.`, required);
      if (g === undefined) continue;
      const gp = `${p}limits.${group}.`;
      if (!isJsonObject(g)) {
        this.err(`${p}limits.${group}`, `must be an object, not ${jsonKindOf(g)}`);
        continue;
      }
      for (const key of Object.keys(g)) {
        if (!(POLICY_LIMIT_NAMES as readonly string[]).includes(key)) {
          this.err(gp + key, 'is not a limit (timeoutMs, memoryMiB, outputBytes, fsBytes)');
        }
      }
      const values: Partial<PolicyLimits> = {};
      for (const name of POLICY_LIMIT_NAMES) {
        const n = this.whole(g, name, gp, 1, LIMIT_BOUNDS[name].max, required);
        if (n !== undefined) values[name] = n;
      }
      out[group] = values;
    }
    return out;
  }

  capabilities(obj: Obj, p: string, required: boolean): CapabilityGroup[] | undefined {
    const v = this.get(obj, 'allowedCapabilities', p, required);
    if (v === undefined) return undefined;
    const field = `${p}allowedCapabilities`;
    if (!isJsonArray(v)) {
      this.err(field, `must be an array, not ${jsonKindOf(v)}`);
      return undefined;
    }
    const out: CapabilityGroup[] = [];
    v.forEach((item, i) => {
      const cap = CAPABILITY_GROUPS.find((c) => c === item);
      if (cap === undefined) {
        this.err(`${field}[${i}]`, `must be one of ${CAPABILITY_GROUPS.join(', ')}`);
      } else if (out.includes(cap)) {
        this.err(`${field}[${i}]`, `repeats "${cap}"`);
      } else out.push(cap);
    });
    return CAPABILITY_GROUPS.filter((c) => out.includes(c));
  }

  hashes(obj: Obj, key: string, p: string, required: boolean): string[] | undefined {
    const v = this.get(obj, key, p, required);
    if (v === undefined) return undefined;
    if (!isJsonArray(v)) {
      this.err(p + key, `must be an array, not ${jsonKindOf(v)}`);
      return undefined;
    }
    if (v.length > MAX_HASHES) {
      this.err(p + key, `must hold at most ${MAX_HASHES} hashes`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string' || !SHA256_RE.test(item)) {
        this.err(`${p}${key}[${i}]`, 'must be a SHA-256 as 64 lowercase hex digits');
      } else if (out.includes(item)) {
        this.err(`${p}${key}[${i}]`, 'repeats an earlier hash');
      } else out.push(item);
    });
    return out;
  }

  tenants(obj: Obj, base: PartialRules | null): Policy['tenants'] {
    const v = this.get(obj, 'tenants', '', false);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) {
      this.err('tenants', `must be an object, not ${jsonKindOf(v)}`);
      return undefined;
    }
    const out: Record<string, TenantOverride> = Object.create(null) as Record<
      string,
      TenantOverride
    >;
    for (const [tenant, value] of Object.entries(v)) {
      const p = `tenants.${tenant}.`;
      if (!TENANT_RE.test(tenant)) {
        this.err(
          `tenants.${JSON.stringify(tenant)}`,
          'tenant names are 1 to 64 characters from A-Z a-z 0-9 . _ - starting with a letter or digit'
        );
        continue;
      }
      if (!isJsonObject(value)) {
        this.err(`tenants.${tenant}`, `must be an object, not ${jsonKindOf(value)}`);
        continue;
      }
      for (const key of Object.keys(value)) {
        if (!TENANT_FIELDS.has(key)) this.err(p + key, 'is not a field a tenant may override');
      }
      const rules = this.rules(value, p, false);
      if (rules === null) continue;
      if (base !== null && this.errors.length === 0)
        this.ordered(mergeRules(base as PolicyRules, rules), p);
      out[tenant] = rules;
    }
    return out;
  }

  /** Defaults may not exceed maximums (run on the base and on every merged tenant). */
  ordered(rules: PolicyRules, p: string): void {
    for (const name of POLICY_LIMIT_NAMES) {
      const d = rules.limits.defaults[name];
      const m = rules.limits.maximum[name];
      if (d > m) {
        this.err(
          `${p}limits.defaults.${name}`,
          `must not exceed limits.maximum.${name} (${d} > ${m})`
        );
      }
    }
  }
}
