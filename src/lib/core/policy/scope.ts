/**
 * A pinned key's scope: which module names it may sign for and which capabilities its modules may
 * ask for. A key for "acme-*" that signs "payroll" is refused, whatever its trust: a leaked CI key
 * should not be able to vouch for everything.
 *
 * Name patterns are manifest names (A-Z a-z 0-9 . _ + - /), optionally ending in one `*` that
 * matches any rest, including nothing. Matching is exact and case-sensitive, as names are.
 */
import { CAPABILITY_GROUPS, type CapabilityGroup } from '../wasm/capabilities';

export interface SignerScope {
  /** Name patterns; empty means any name. */
  names: string[];
  /** Capabilities its modules may request; null means no restriction beyond the policy. */
  capabilities: CapabilityGroup[] | null;
}

export const MAX_SCOPE_PATTERNS = 64;
const PATTERN_RE = /^(?:[A-Za-z0-9][A-Za-z0-9._+/-]{0,127}\*?|\*)$/;

export type ScopeParse = { ok: true; names: string[] } | { ok: false; message: string };

/** Reads name patterns from text: separated by commas, spaces or new lines. */
export function parseNamePatterns(text: string): ScopeParse {
  const names = [...new Set(text.split(/[\s,]+/).filter((p) => p !== ''))];
  if (names.length > MAX_SCOPE_PATTERNS) {
    return { ok: false, message: `At most ${MAX_SCOPE_PATTERNS} name patterns.` };
  }
  const bad = names.find((p) => !PATTERN_RE.test(p));
  if (bad !== undefined) {
    const shown = bad.length > 40 ? `${bad.slice(0, 40)}…` : bad;
    return {
      ok: false,
      message: `"${shown}" is not a name pattern: use module names (A-Z a-z 0-9 . _ + - /, starting with a letter or digit), optionally ending in *.`
    };
  }
  return { ok: true, names };
}

/** Whether `name` is one the patterns allow (no patterns: every name). */
export function nameInScope(name: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/** Capability groups from a list, in canonical order, ignoring unknown names. */
export function capabilityList(values: readonly string[]): CapabilityGroup[] {
  return CAPABILITY_GROUPS.filter((c) => values.includes(c));
}

/**
 * Why one signer may not vouch for this input, if it may not: `signer-scope` (a name outside its
 * patterns, or no signed name at all: a detached signature signs no name, and the file name is
 * not signed) and `signer-capability` (a requested capability outside its list).
 */
export function scopeProblems(
  signer: string,
  scope: SignerScope,
  name: string | null,
  requested: readonly CapabilityGroup[]
): { code: 'signer-scope' | 'signer-capability'; message: string }[] {
  const problems: { code: 'signer-scope' | 'signer-capability'; message: string }[] = [];
  if (scope.names.length > 0 && (name === null || !nameInScope(name, scope.names))) {
    const may = `The signer ${signer} may only sign ${scope.names.join(', ')}`;
    problems.push({
      code: 'signer-scope',
      message:
        name === null
          ? `${may}; this input has no signed name.`
          : `${may}; this module is "${name}".`
    });
  }
  const outside = scope.capabilities
    ? requested.filter((c) => !scope.capabilities!.includes(c))
    : [];
  if (outside.length > 0) {
    problems.push({
      code: 'signer-capability',
      message: `The signer ${signer} may not vouch for ${outside.map((c) => `"${c}"`).join(', ')}.`
    });
  }
  return problems;
}
