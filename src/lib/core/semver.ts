/**
 * Semantic versions (semver 2.0.0): the strict parser a manifest's `version` must pass, and
 * semver precedence.
 */

/** Versions longer than this are refused before the regular expression runs. */
export const MAX_VERSION_LENGTH = 128;

const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface SemVer {
  /** Major, minor, patch as digit strings (any length; no leading zeros). */
  core: [string, string, string];
  prerelease: string[];
  build: string[];
}

/** Parses a semver 2.0.0 version strictly (no `v` prefix, no leading zeros), or null. */
export function parseSemver(text: string): SemVer | null {
  if (typeof text !== 'string' || text.length > MAX_VERSION_LENGTH) return null;
  const match = SEMVER_RE.exec(text);
  if (match === null) return null;
  return {
    core: [match[1]!, match[2]!, match[3]!],
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
    build: match[5] === undefined ? [] : match[5].split('.')
  };
}

/**
 * Semver precedence: -1, 0 or 1 as `a` is lower than, equal to or higher than `b` (build
 * metadata ignored, as semver says), or null when either is not a valid version.
 */
export function compareSemver(a: string, b: string): -1 | 0 | 1 | null {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (x === null || y === null) return null;
  for (let i = 0; i < 3; i++) {
    const order = compareDigits(x.core[i]!, y.core[i]!);
    if (order !== 0) return order;
  }
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    return x.prerelease.length === y.prerelease.length ? 0 : x.prerelease.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const p = x.prerelease[i];
    const q = y.prerelease[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pNum = /^\d+$/.test(p);
    const qNum = /^\d+$/.test(q);
    const order =
      pNum && qNum ? compareDigits(p, q) : pNum ? -1 : qNum ? 1 : p < q ? -1 : p > q ? 1 : 0;
    if (order !== 0) return order;
  }
  return 0;
}

function compareDigits(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
