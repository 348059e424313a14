/**
 * "What would this policy say": every queued request judged by the policy in force and by a draft,
 * side by side, with the reasons that differ. Nothing is saved or decided; this is a preview.
 *
 * Requests do not keep everything verification saw, so the input to evaluatePolicy is rebuilt
 * from what is stored, and the gaps are named in `notes` rather than papered over:
 * - the verdict (ok, reasons, signers) is the one stored at intake; signatures are not re-checked;
 * - the manifest is stored with requests taken in since the review page; for older requests
 *   only its name and version are, not its requested capabilities and limits. For those,
 *   requested capabilities are rebuilt as those granted at intake, those the
 *   intake decision refused (each `policy.capability` reason names one), and the groups the module
 *   imports; requested limits as those granted at intake (a clamped request shows as the maximum
 *   it was clamped to). A rejection grants nothing, so for one rejected for another reason the
 *   manifest's capabilities are known only as far as the module imports them (noted per row).
 * Both policies see the same rebuilt input, so a difference between the columns comes from the
 * policies alone.
 */
import type { Manifest } from '../manifest';
import type { Reason } from '../verdict';
import type { Verdict } from '../verify';
import { CAPABILITY_GROUPS, type CapabilityGroup } from '../wasm/capabilities';
import type { WasmInspection } from '../wasm/inspect';
import { isTenantName, type Policy } from './document';
import {
  evaluatePolicy,
  type ApprovedRecord,
  type Outcome,
  type PolicyDecision,
  type PolicyInput,
  type PolicyReason,
  type RunMode,
  type SignerTrust
} from './evaluate';

/** What a queued request keeps that evaluation can use (a structural subset of the stored row). */
export interface DryRunRequest {
  id: string;
  state: string;
  createdAt: number;
  fileName: string;
  name: string | null;
  version: string | null;
  format: string;
  moduleSha256: string;
  size: number | null;
  verdict: { ok: boolean; reasons: Reason[]; signers: string[] };
  /** The decision at intake, when one was stored. */
  policy?: Pick<PolicyDecision, 'outcome' | 'reasons' | 'granted'>;
  /** The verified manifest, when stored (requests taken in before it was kept have none). */
  manifest?: Manifest | null;
  /** The tenant its folder named at intake, whose override applies (absent: the base policy). */
  tenant?: string;
}

export interface DryRunInput {
  requests: readonly DryRunRequest[];
  /** Inspection by module SHA-256; null (or absent) when the bytes are not stored. */
  inspections: ReadonlyMap<string, WasmInspection | null>;
  signerTrust: Record<string, SignerTrust>;
  signerScope?: PolicyInput['signerScope'];
  mode: RunMode;
  current: Policy;
  draft: Policy;
}

export interface DryRunRow {
  id: string;
  /** The module's name (from the input: shown as text only), else its file name. */
  label: string;
  version: string | null;
  state: string;
  current: Outcome;
  draft: Outcome;
  changed: boolean;
  /** Reasons the draft gives that the current policy does not, and the other way round. */
  added: PolicyReason[];
  removed: PolicyReason[];
  /** What could not be rebuilt for this request (see the module comment). */
  notes: string[];
}

/** One row per request: pending ones first, then the rest, each group newest first. */
export function dryRun(input: DryRunInput): DryRunRow[] {
  const ordered = [...input.requests].sort(
    (a, b) =>
      Number(b.state === 'pending') - Number(a.state === 'pending') || b.createdAt - a.createdAt
  );
  return ordered.map((request) => {
    const inspection = input.inspections.get(request.moduleSha256) ?? null;
    const { base, notes } = rebuildInput(request, inspection, input.requests);
    const judge = (policy: Policy) =>
      evaluatePolicy({
        ...base,
        signerTrust: input.signerTrust,
        ...(input.signerScope ? { signerScope: input.signerScope } : {}),
        mode: input.mode,
        policy
      });
    const current = judge(input.current);
    const draft = judge(input.draft);
    const key = (r: PolicyReason) => `${r.severity} ${r.code} ${r.message}`;
    const currentKeys = new Set(current.reasons.map(key));
    const draftKeys = new Set(draft.reasons.map(key));
    return {
      id: request.id,
      label: request.name ?? request.fileName,
      version: request.version,
      state: request.state,
      current: current.outcome,
      draft: draft.outcome,
      changed: current.outcome !== draft.outcome,
      added: draft.reasons.filter((r) => !currentKeys.has(key(r))),
      removed: current.reasons.filter((r) => !draftKeys.has(key(r))),
      notes
    };
  });
}

/** The evaluation input a stored request supports, minus policy, trust and mode. */
export function rebuildInput(
  request: DryRunRequest,
  inspection: WasmInspection | null,
  all: readonly DryRunRequest[]
): {
  base: Pick<PolicyInput, 'verdict' | 'inspection' | 'history' | 'tenant'>;
  notes: string[];
} {
  const notes: string[] = [];
  const module =
    request.moduleSha256 !== ''
      ? { sha256: request.moduleSha256, size: request.size ?? inspection?.size ?? 0 }
      : null;
  if (module !== null && inspection === null) {
    notes.push('The module bytes are not stored, so it was not inspected.');
  }
  let manifest: Manifest | null = request.manifest ?? null;
  // Only a manifest gives a version, so a stored version means the request had one.
  if (manifest === null && request.name !== null && request.version !== null && module !== null) {
    const granted = request.policy?.granted;
    const imported = inspection?.imports.map((i) => i.capability) ?? [];
    const grantedCaps: readonly string[] = granted?.capabilities ?? [];
    // A refused capability survives only in the intake reason that names it ("fs-write").
    const refusedCaps = (request.policy?.reasons ?? [])
      .filter((r) => r.code === 'policy.capability')
      .map((r) => CAPABILITY_GROUPS.find((c) => r.message.includes(`"${c}"`)));
    const capabilities: CapabilityGroup[] = CAPABILITY_GROUPS.filter(
      (c) => grantedCaps.includes(c) || imported.includes(c) || refusedCaps.includes(c)
    );
    if (request.policy === undefined) {
      notes.push(
        'No intake decision is stored: requested capabilities are taken from the imports alone, and limits are the defaults.'
      );
    } else if (request.policy.outcome === 'reject') {
      notes.push(
        refusedCaps.length > 0
          ? 'Rejected at intake: nothing was granted, so of the requested capabilities only the refused and the imported ones are known.'
          : 'Rejected at intake: nothing was granted, so requested capabilities are taken from the imports alone.'
      );
    }
    manifest = {
      name: request.name,
      version: request.version,
      module,
      // Evaluation reads name, version, capabilities and limits; the rest is not stored.
      publisher: null,
      description: null,
      created: null,
      createdMs: null,
      expires: null,
      expiresMs: null,
      entry: 'command',
      args: [],
      env: Object.create(null) as Record<string, string>,
      limits: { ...(granted?.limits ?? {}) },
      capabilities
    };
  }
  const verdict: PolicyInput['verdict'] = {
    ok: request.verdict.ok,
    reasons: request.verdict.reasons,
    signers: request.verdict.signers,
    // evaluatePolicy only asks whether the format is 'unsigned'; other names pass through as stored.
    format: request.format as Verdict['format'],
    manifest,
    module
  };
  const base = { verdict, inspection, history: approvedHistory(all, request.id) };
  // A stored row may come from a restored backup: only a valid tenant name selects an override.
  const tenant = request.tenant;
  if (tenant !== undefined && isTenantName(tenant)) return { base: { ...base, tenant }, notes };
  return { base, notes };
}

/**
 * The request states whose version counts as approved: decided for running (by a human or by
 * policy) and those that ran since. A rejected, denied or still pending request never counts.
 */
export const APPROVED_STATES: readonly string[] = ['approved', 'auto-approved', 'running', 'done'];

/**
 * Approved modules other than `except` (the history rollback and drift compare against), each
 * with every key that signed it. The Inbox, the approval re-check and the dry run all use this.
 */
export function approvedHistory(
  requests: readonly Pick<
    DryRunRequest,
    'id' | 'state' | 'name' | 'version' | 'moduleSha256' | 'verdict'
  >[],
  except?: string
): ApprovedRecord[] {
  return requests
    .filter(
      (r) =>
        r.id !== except &&
        APPROVED_STATES.includes(r.state) &&
        r.name !== null &&
        r.version !== null
    )
    .map((r) => ({
      name: r.name!,
      version: r.version!,
      moduleSha256: r.moduleSha256,
      signers: [...r.verdict.signers]
    }));
}
