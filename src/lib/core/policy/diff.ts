/**
 * A structural diff of two policy documents: what a new version changed, field by field, for the
 * Policy page's history and for the `policy.version` audit record.
 *
 * - A scalar that differs is `changed` with `before` and `after`.
 * - A list (hashes, capabilities) is compared as a set: each entry only in `after` is `added`,
 *   each entry only in `before` is `removed`, both under the list's path. Order is not a change
 *   (parsePolicy already puts capabilities in a fixed order; hashes have no meaning in order).
 * - An object key present on one side only (a tenant, or a field a tenant overrides) is `added`
 *   or `removed` with its whole value.
 * `version` is not compared: storage assigns it, so it differs between any two versions.
 * Plain data in, plain data out; never throws.
 */
import type { JsonValue } from '../json';
import type { Policy } from './document';

export type PolicyChangeKind = 'changed' | 'added' | 'removed';

export interface PolicyChange {
  /** Dotted path of the field (`limits.maximum.memoryMiB`, `tenants.acme.threshold`). */
  field: string;
  kind: PolicyChangeKind;
  /** Absent for `added`. */
  before?: JsonValue;
  /** Absent for `removed`. */
  after?: JsonValue;
  /** True for an entry added to or removed from a list (`field` is the list's path). */
  entry?: true;
}

/** Every difference from `before` to `after`, in document order. */
export function diffPolicies(before: Policy, after: Policy): PolicyChange[] {
  const out: PolicyChange[] = [];
  const a = toJson(before);
  const b = toJson(after);
  delete a.version;
  delete b.version;
  walk(a, b, '', out);
  return out;
}

/** One line for an audit record or a status message: "threshold 1 → 2; blockedHashes +1". */
export function summarizeChanges(changes: readonly PolicyChange[]): string {
  if (changes.length === 0) return 'no change';
  const lists = new Map<string, { added: number; removed: number }>();
  const parts: string[] = [];
  for (const c of changes) {
    if (c.entry) {
      const n = lists.get(c.field) ?? { added: 0, removed: 0 };
      if (c.kind === 'added') n.added++;
      else n.removed++;
      if (!lists.has(c.field)) {
        lists.set(c.field, n);
        parts.push(c.field); // a placeholder, filled in below, keeps document order
      }
    } else if (c.kind === 'changed') {
      parts.push(`${c.field} ${short(c.before)} → ${short(c.after)}`);
    } else {
      parts.push(`${c.field} ${c.kind}`);
    }
  }
  return parts
    .map((p) => {
      const n = lists.get(p);
      if (n === undefined) return p;
      return [n.added ? `${p} +${n.added}` : '', n.removed ? `${p} −${n.removed}` : '']
        .filter(Boolean)
        .join(', ');
    })
    .join('; ');
}

type Obj = { [key: string]: JsonValue };

function toJson(policy: Policy): Obj {
  // Policies are plain data (no undefined inside lists); a round trip drops an absent `tenants`.
  return JSON.parse(JSON.stringify(policy)) as Obj;
}

function walk(a: JsonValue, b: JsonValue, path: string, out: PolicyChange[]): void {
  if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
    for (const key of keys) {
      const p = path ? `${path}.${key}` : key;
      const inA = Object.hasOwn(a, key);
      const inB = Object.hasOwn(b, key);
      if (inA && inB) walk(a[key]!, b[key]!, p, out);
      else if (inA) out.push({ field: p, kind: 'removed', before: a[key]! });
      else out.push({ field: p, kind: 'added', after: b[key]! });
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const keyOf = (v: JsonValue) => JSON.stringify(v);
    const inA = new Set(a.map(keyOf));
    const inB = new Set(b.map(keyOf));
    for (const v of a) {
      if (!inB.has(keyOf(v))) out.push({ field: path, kind: 'removed', before: v, entry: true });
    }
    for (const v of b) {
      if (!inA.has(keyOf(v))) out.push({ field: path, kind: 'added', after: v, entry: true });
    }
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push({ field: path, kind: 'changed', before: a, after: b });
  }
}

function isObject(v: JsonValue): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function short(v: JsonValue | undefined): string {
  const text = JSON.stringify(v) ?? '';
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
