/**
 * The Review page's model (docs/review.md): everything a reviewer needs before saying yes, built
 * from one request's data, its module's inspection, the policy rules in force and the last
 * approved version of the same name. Plain data in, plain data out; it never throws for odd input
 * (missing manifest, failed inspection, no previous version all become empty parts).
 *
 * lowerGrant is the one check behind "a grant can only be lowered": the form uses it, and the
 * decision code uses it again on the stored request, so a grant edited around the form is refused.
 */
import { hiddenCharacters } from './hidden-text';
import { memoryRefusal } from './wasm/memory-rewrite';
import type { Manifest } from './manifest';
import { POLICY_LIMIT_NAMES, type PolicyLimitName, type PolicyLimits } from './policy/document';
import type { PolicyRules } from './policy/document';
import type { PolicyReason, SignerTrust } from './policy/evaluate';
import { CAPABILITY_GROUPS, isCapabilityGroup, type CapabilityGroup } from './wasm/capabilities';
import type { ExternKind, WasmInspection } from './wasm/inspect';

/** Import groups in display order: the capability groups, then always-allowed, refused, foreign. */
export const IMPORT_GROUPS = [...CAPABILITY_GROUPS, 'pure', 'refused', 'foreign'] as const;
export type ImportGroup = (typeof IMPORT_GROUPS)[number];

export interface Grant {
  limits: PolicyLimits;
  capabilities: CapabilityGroup[];
}

export interface ReviewSignerInput {
  id: string;
  label: string | null;
  trust: SignerTrust | null;
}

/** One side of a comparison: a module (and its manifest, when it had one). */
export interface ReviewSide {
  name: string | null;
  version: string | null;
  moduleSha256: string;
  size: number | null;
  manifest: Manifest | null;
  inspection: WasmInspection | null;
}

export interface ReviewInput {
  current: ReviewSide;
  /** Signer key ids from the verdict, with the pinned key's label and trust when known. */
  signers: readonly ReviewSignerInput[];
  /** The policy's reasons for this request (intake-time evaluation). */
  reasons: readonly PolicyReason[];
  /** The rules in force (defaults and caps for the limit rows). */
  rules: PolicyRules;
  /** What the policy grants on approval; null when the request has no policy decision. */
  granted: Grant | null;
  /** The last approved version of the same name, or null. */
  previous: ReviewSide | null;
}

export interface ImportGroupView {
  group: ImportGroup;
  /** Would these calls be answered if approved as the policy grants? */
  granted: boolean;
  imports: { module: string; name: string; kind: ExternKind }[];
}

export interface LimitRow {
  name: PolicyLimitName;
  /** From the manifest; null when it asks nothing (the default applies). */
  requested: number | null;
  policyDefault: number;
  policyMaximum: number;
  /** What approval grants as the policy stands (before any lowering). */
  granted: number | null;
  overMaximum: boolean;
}

export interface ReviewFlag {
  /** The policy code without its `policy.` prefix: `drift`, `rollback`, `blocked`, … */
  flag: string;
  severity: PolicyReason['severity'];
  message: string;
}

export interface ReviewDiff {
  previous: { version: string | null; moduleSha256: string; size: number | null };
  sizeChange: number | null;
  importsAdded: string[];
  importsRemoved: string[];
  exportsAdded: string[];
  exportsRemoved: string[];
  capabilitiesAdded: CapabilityGroup[];
  capabilitiesRemoved: CapabilityGroup[];
  limitsChanged: { name: PolicyLimitName; before: number | null; after: number | null }[];
  /** True when nothing above changed. */
  same: boolean;
}

export interface ManifestFieldView {
  field: string;
  value: string;
  /** Entries shown one per line (env), each a text of its own. */
  lines?: string[];
}

export interface ReviewModel {
  signers: ReviewSignerInput[];
  /** Every manifest field as text, in manifest order; empty when there is no manifest. */
  manifestFields: ManifestFieldView[];
  module: { sha256: string; size: number | null };
  inspected: boolean;
  inspectionProblems: string[];
  importGroups: ImportGroupView[];
  exports: { name: string; kind: ExternKind }[];
  memories: {
    index: number;
    imported: boolean;
    initial: string;
    maximum: string;
    notes: string[];
  }[];
  limits: LimitRow[];
  customSections: { name: string; size: number }[];
  /** Deny and review reasons; drift and rollback first (they are what a reviewer must not miss). */
  flags: ReviewFlag[];
  diff: ReviewDiff | null;
}

const FIRST_FLAGS = ['drift', 'rollback'];
/** 64 KiB WebAssembly pages in one MiB. */
const MIB_PAGES = 16;

/** Builds the review model. Never throws for missing parts. */
export function buildReview(input: ReviewInput): ReviewModel {
  const { current, rules, granted } = input;
  const inspection = current.inspection;
  const grantedCaps = new Set<ImportGroup>(granted?.capabilities ?? []);
  grantedCaps.add('pure');
  const groups = new Map<ImportGroup, ImportGroupView>();
  for (const entry of inspection?.imports ?? []) {
    const group: ImportGroup = entry.capability
      ? entry.capability
      : entry.refused
        ? 'refused'
        : entry.wasi
          ? 'pure'
          : 'foreign';
    let view = groups.get(group);
    if (!view) {
      view = { group, granted: grantedCaps.has(group), imports: [] };
      groups.set(group, view);
    }
    view.imports.push({
      module: clipName(entry.module),
      name: clipName(entry.name),
      kind: entry.kind
    });
  }
  const flags = input.reasons
    .filter((r) => r.severity !== 'info')
    .map((r) => ({
      flag: r.code.slice('policy.'.length),
      severity: r.severity,
      message: r.message
    }))
    .concat(hiddenTextFlag(current), memoryFlag(current, granted, rules))
    .concat(entryMismatchFlag(current))
    .sort((a, b) => rank(a.flag) - rank(b.flag));
  return {
    signers: input.signers.map((s) => ({ ...s })),
    manifestFields: current.manifest ? manifestFields(current.manifest) : [],
    module: { sha256: current.moduleSha256, size: current.size },
    inspected: inspection !== null,
    inspectionProblems: inspection
      ? [
          ...inspection.reasons.map((r) => `${r.code}: ${r.message}`),
          ...(inspection.valid ? [] : ['The engine does not validate this module.'])
        ]
      : [],
    importGroups: IMPORT_GROUPS.flatMap((g) => groups.get(g) ?? []),
    exports: (inspection?.exports ?? []).map((e) => ({ name: clipName(e.name), kind: e.kind })),
    memories: (inspection?.memories ?? []).map((m) => ({
      index: m.index,
      imported: m.imported,
      initial: pages(m.min),
      maximum: m.max === null ? 'no maximum' : pages(m.max),
      notes: [...(m.shared ? ['shared'] : []), ...(m.memory64 ? ['64-bit'] : [])]
    })),
    limits: POLICY_LIMIT_NAMES.map((name) => {
      const asked = current.manifest?.limits[name];
      const requested = typeof asked === 'number' ? asked : null;
      return {
        name,
        requested,
        policyDefault: rules.limits.defaults[name],
        policyMaximum: rules.limits.maximum[name],
        granted: granted ? granted.limits[name] : null,
        overMaximum: requested !== null && requested > rules.limits.maximum[name]
      };
    }),
    customSections: (inspection?.sections ?? [])
      .filter((s) => s.name === 'custom')
      .map((s) => ({ name: clipName(s.customName ?? ''), size: s.size })),
    flags,
    diff: input.previous ? diffSides(input.previous, current) : null
  };
}

/**
 * Text from the signer or the module that carries characters that hide or reorder what is shown
 * (bidi overrides, zero-width and other invisible characters). Nothing is refused for it (the text
 * is signed as it is, and the page shows each one as a marker), but a reviewer should know that
 * someone made text look like other text.
 */
function hiddenTextFlag(side: ReviewSide): ReviewFlag[] {
  const m = side.manifest;
  const sources: [string, string[], boolean][] = [
    ['publisher', m?.publisher ? [m.publisher] : [], false],
    ['description', m?.description ? [m.description] : [], true],
    ['args', m?.args ?? [], false],
    ['env', m ? Object.entries(m.env).flat() : [], false],
    [
      'import names',
      (side.inspection?.imports ?? []).flatMap((i) => [clipName(i.module), clipName(i.name)]),
      false
    ],
    ['export names', (side.inspection?.exports ?? []).map((e) => clipName(e.name)), false],
    [
      'custom section names',
      (side.inspection?.sections ?? []).flatMap((s) =>
        s.customName ? [clipName(s.customName)] : []
      ),
      false
    ]
  ];
  const places: string[] = [];
  const found = new Set<string>();
  for (const [place, texts, keepLayout] of sources) {
    const chars = texts.flatMap((text) => hiddenCharacters(text, { keepLayout }));
    if (chars.length === 0) continue;
    places.push(place);
    for (const char of chars) found.add(char);
  }
  if (places.length === 0) return [];
  const listed = [...found];
  const more = listed.length > 4 ? ` and ${listed.length - 4} more` : '';
  return [
    {
      flag: 'hidden-text',
      severity: 'review',
      message: `Hidden characters in ${places.join(', ')}: ${listed.slice(0, 4).join(', ')}${more}. Each is shown below as a red marker; such characters make text look like other text.`
    }
  ];
}

/**
 * The manifest's entry decides what runs (a command's `_start`, a reactor's `_initialize` only);
 * when the module's exports disagree, what the reviewer reads is not what the module looks built
 * to do: a "reactor" that is really a command (its `_start` never runs), or a command that cannot
 * start.
 */
function entryMismatchFlag(side: ReviewSide): ReviewFlag[] {
  const entry = side.manifest?.entry;
  const exports = side.inspection?.exports;
  if (!entry || !exports) return [];
  const has = (name: string) => exports.some((e) => e.name === name && e.kind === 'func');
  let message: string | null = null;
  if (entry === 'reactor' && has('_start') && !has('_initialize'))
    message =
      'The manifest says reactor, but the module exports _start and no _initialize: it is built as a command. As a reactor only _initialize is called, so its _start never runs.';
  else if (entry === 'command' && !has('_start'))
    message = `The manifest says command, but the module exports no _start${has('_initialize') ? ' (it exports _initialize: a reactor)' : ''}: it will not run.`;
  return message ? [{ flag: 'entry-mismatch', severity: 'review', message }] : [];
}

function rank(flag: string): number {
  const i = FIRST_FLAGS.indexOf(flag);
  return i === -1 ? FIRST_FLAGS.length : i;
}

function pages(n: number | bigint): string {
  const count = typeof n === 'bigint' ? n : BigInt(n);
  const bytes = count * 65536n;
  return `${count} page${count === 1n ? '' : 's'} (${bytes} bytes)`;
}

/**
 * Every manifest field as text. Values are shown literally; the UI renders them as text only. The
 * env field has one line per entry in `lines`, so a value with a line break in it cannot pass for
 * a second entry (the page shows that break as a marker; only the description keeps its layout).
 */
export function manifestFields(m: Manifest): ManifestFieldView[] {
  const limits = POLICY_LIMIT_NAMES.filter((n) => typeof m.limits[n] === 'number');
  return [
    { field: 'name', value: m.name },
    { field: 'version', value: m.version },
    { field: 'module.sha256', value: m.module.sha256 },
    { field: 'module.size', value: String(m.module.size) },
    { field: 'publisher', value: m.publisher ?? '(none)' },
    { field: 'description', value: m.description ?? '(none)' },
    { field: 'created', value: m.created ?? '(none)' },
    { field: 'expires', value: m.expires ?? '(never)' },
    { field: 'entry', value: m.entry },
    { field: 'args', value: m.args.length ? JSON.stringify(m.args) : '(none)' },
    envField(m.env),
    {
      field: 'limits',
      value: limits.length ? limits.map((n) => `${n}=${m.limits[n]}`).join(', ') : '(defaults)'
    },
    { field: 'capabilities', value: m.capabilities.length ? m.capabilities.join(', ') : '(none)' }
  ];
}

function envField(env: Manifest['env']): ManifestFieldView {
  const lines = Object.keys(env).map((k) => `${k}=${env[k]}`);
  return { field: 'env', value: lines.length ? lines.join('\n') : '(none)', lines };
}

/**
 * A memory the runtime will refuse (imported, shared, 64-bit, or starting above the memory the
 * approval grants: the policy maximum when nothing is granted yet). Said before the approval,
 * not only when the run is refused.
 */
function memoryFlag(side: ReviewSide, granted: Grant | null, rules: PolicyRules): ReviewFlag[] {
  if (!side.inspection) return [];
  const mib = granted?.limits.memoryMiB ?? rules.limits.maximum.memoryMiB;
  const refused = memoryRefusal(side.inspection, mib * MIB_PAGES);
  if (!refused) return [];
  return [
    {
      flag: 'memory-refused',
      severity: 'review',
      message: `Approved or not, this module will not run: ${refused.message} (${refused.code}).`
    }
  ];
}

/** Names from a module are shown up to this many UTF-16 units (wasm names have no length limit). */
export const MAX_NAME_SHOWN = 1024;

/**
 * A module's import, export or section name as Review shows it: whole up to MAX_NAME_SHOWN, else
 * cut with how much was left out. A 60 MB name made of zero-width spaces must not become 20 million
 * markers on the page (nor be scanned whole for the hidden-text flag).
 */
export function clipName(name: string): string {
  if (name.length <= MAX_NAME_SHOWN) return name;
  let cut = name.slice(0, MAX_NAME_SHOWN);
  // Never end on half a surrogate pair.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}… (${name.length - cut.length} more characters not shown)`;
}

function importNames(side: ReviewSide): string[] {
  return (side.inspection?.imports ?? []).map((i) => `${clipName(i.module)}.${clipName(i.name)}`);
}

function exportNames(side: ReviewSide): string[] {
  return (side.inspection?.exports ?? []).map((e) => `${clipName(e.name)} (${e.kind})`);
}

/** Requested capabilities: the manifest's, or (without one) the groups the module imports. */
function capabilitiesOf(side: ReviewSide): CapabilityGroup[] {
  if (side.manifest)
    return CAPABILITY_GROUPS.filter((c) => side.manifest!.capabilities.includes(c));
  const used = new Set((side.inspection?.imports ?? []).map((i) => i.capability));
  return CAPABILITY_GROUPS.filter((c) => used.has(c));
}

function added<T>(before: readonly T[], after: readonly T[]): T[] {
  const old = new Set(before);
  return [...new Set(after)].filter((x) => !old.has(x));
}

/** What changed from the previous approved version to this one. */
export function diffSides(previous: ReviewSide, current: ReviewSide): ReviewDiff {
  const beforeCaps = capabilitiesOf(previous);
  const afterCaps = capabilitiesOf(current);
  const limitsChanged = POLICY_LIMIT_NAMES.flatMap((name) => {
    const before = previous.manifest?.limits[name] ?? null;
    const after = current.manifest?.limits[name] ?? null;
    return before === after ? [] : [{ name, before, after }];
  });
  const diff = {
    previous: {
      version: previous.version,
      moduleSha256: previous.moduleSha256,
      size: previous.size
    },
    sizeChange:
      previous.size !== null && current.size !== null ? current.size - previous.size : null,
    importsAdded: added(importNames(previous), importNames(current)),
    importsRemoved: added(importNames(current), importNames(previous)),
    exportsAdded: added(exportNames(previous), exportNames(current)),
    exportsRemoved: added(exportNames(current), exportNames(previous)),
    capabilitiesAdded: added(beforeCaps, afterCaps),
    capabilitiesRemoved: added(afterCaps, beforeCaps),
    limitsChanged
  };
  const same =
    (diff.sizeChange ?? 0) === 0 &&
    previous.moduleSha256 === current.moduleSha256 &&
    [
      diff.importsAdded,
      diff.importsRemoved,
      diff.exportsAdded,
      diff.exportsRemoved,
      diff.capabilitiesAdded,
      diff.capabilitiesRemoved,
      limitsChanged
    ].every((list) => list.length === 0);
  return { ...diff, same };
}

export interface GrantFieldError {
  /** `limits.<name>`, `capabilities`, or `grant`. */
  field: string;
  message: string;
}

export type LowerGrantResult =
  { ok: true; grant: Grant } | { ok: false; errors: GrantFieldError[] };

/** What a reviewer asks for: each limit (absent = keep the policy's) and the capabilities kept. */
export interface GrantRequest {
  limits?: Partial<Record<string, unknown>>;
  capabilities?: readonly unknown[];
}

/**
 * Checks a reviewer's grant against the policy's: each limit a whole number from 1 up to the
 * policy's value, each capability one the policy granted. Anything higher, unknown or extra is an
 * error naming the field; every error is reported. Never throws.
 */
/** The smaller of two grants: each limit's minimum, the capabilities both give. */
export function narrowGrant(a: Grant, b: Grant): Grant {
  const limits = { ...a.limits };
  for (const name of POLICY_LIMIT_NAMES) limits[name] = Math.min(a.limits[name], b.limits[name]);
  return { limits, capabilities: a.capabilities.filter((c) => b.capabilities.includes(c)) };
}

export function lowerGrant(policyGrant: Grant, requested: GrantRequest): LowerGrantResult {
  const errors: GrantFieldError[] = [];
  if (typeof requested !== 'object' || requested === null) {
    return { ok: false, errors: [{ field: 'grant', message: 'must be an object' }] };
  }
  const limits: PolicyLimits = { ...policyGrant.limits };
  const asked = requested.limits === undefined ? {} : requested.limits;
  if (typeof asked !== 'object' || asked === null) {
    errors.push({ field: 'limits', message: 'must be an object' });
  } else {
    for (const key of Object.keys(asked)) {
      if (!(POLICY_LIMIT_NAMES as readonly string[]).includes(key)) {
        errors.push({ field: `limits.${key}`, message: 'is not a limit' });
        continue;
      }
      const name = key as PolicyLimitName;
      const value = asked[key];
      const cap = policyGrant.limits[name];
      if (!Number.isSafeInteger(cap)) {
        errors.push({ field: `limits.${name}`, message: 'the policy grant has no value for it' });
      } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
        errors.push({ field: `limits.${name}`, message: 'must be a whole number of at least 1' });
      } else if (value > cap) {
        errors.push({
          field: `limits.${name}`,
          message: `${value} is above the policy's grant of ${cap}; a grant can only be lowered`
        });
      } else limits[name] = value;
    }
  }
  let capabilities = [...policyGrant.capabilities];
  if (requested.capabilities !== undefined) {
    if (!Array.isArray(requested.capabilities)) {
      errors.push({ field: 'capabilities', message: 'must be a list' });
    } else {
      for (const c of requested.capabilities) {
        if (!isCapabilityGroup(c)) {
          errors.push({ field: 'capabilities', message: `${String(c)} is not a capability` });
        } else if (!policyGrant.capabilities.includes(c)) {
          errors.push({
            field: 'capabilities',
            message: `"${c}" was not granted by the policy; capabilities can only be removed`
          });
        }
      }
      capabilities = CAPABILITY_GROUPS.filter(
        (c) => policyGrant.capabilities.includes(c) && requested.capabilities!.includes(c)
      );
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, grant: { limits, capabilities } };
}
