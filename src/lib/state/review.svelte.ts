/**
 * The Review page's state: one request, its module re-hashed and inspected, the last approved
 * version of the same name for the diff, and the grant the reviewer may lower before deciding.
 * The model itself is core (core/review.ts); this class only gathers the data and holds the form.
 */
import { sha256Hex } from '$lib/core/digest';
import { rulesFor } from '$lib/core/policy/document';
import { buildReview, type Grant, type ReviewModel, type ReviewSide } from '$lib/core/review';
import { inspectWasm } from '$lib/core/wasm/inspect';
import type { CapabilityGroup } from '$lib/core/wasm/capabilities';
import type { PolicyLimitName } from '$lib/core/policy/document';
import { listKeys } from '$lib/storage/keys-store';
import { currentPolicy } from '$lib/storage/policy-store';
import type { RequestDecision, RequestRow } from '$lib/storage/records';
import { getModule, getRequest, listRequests, moduleBytes } from '$lib/storage/requests-store';
import { database } from './database';
import { decide, type DecisionAction } from './decisions';

export type { RequestDecision, RequestRow, DecisionAction };

export type ReviewLoad = 'loading' | 'ready' | 'not-found' | 'error';
/** Do the stored module bytes still hash to the request's SHA-256? */
export type Integrity = 'ok' | 'mismatch' | 'missing' | 'none';

const APPROVED_STATES: readonly RequestRow['state'][] = [
  'approved',
  'auto-approved',
  'running',
  'done'
];

export const DECIDED_TEXT: Record<DecisionAction, string> = {
  approve: 'Approved once',
  pin: 'Approved, and its hash pinned',
  deny: 'Denied',
  block: 'Denied, and its hash blocked'
};

export class ReviewState {
  load = $state<ReviewLoad>('loading');
  error = $state<string | null>(null);
  request = $state.raw<RequestRow | null>(null);
  model = $state.raw<ReviewModel | null>(null);
  integrity = $state<Integrity>('none');
  /** The policy's grant: the ceiling of the form. */
  ceiling = $state.raw<Grant | null>(null);
  /** The form: each limit and each kept capability. Only ever at or below the ceiling. */
  limits = $state<Record<PolicyLimitName, number>>({
    timeoutMs: 0,
    memoryMiB: 0,
    outputBytes: 0,
    fsBytes: 0
  });
  capabilities = $state<CapabilityGroup[]>([]);
  busy = $state(false);
  result = $state<{ kind: 'ok' | 'error'; text: string } | null>(null);

  /** May the approve buttons show? Pending, runnable, and the bytes are the ones signed. */
  get canApprove(): boolean {
    const r = this.request;
    return (
      r !== null &&
      r.state === 'pending' &&
      r.policy?.runnable !== false &&
      this.integrity === 'ok' &&
      this.ceiling !== null
    );
  }

  get canDecide(): boolean {
    return this.request?.state === 'pending' && !this.busy;
  }

  async open(id: string): Promise<void> {
    this.load = 'loading';
    this.result = null;
    try {
      const db = await database();
      const request = await getRequest(db, id);
      if (!request) {
        this.request = null;
        this.load = 'not-found';
        return;
      }
      const [keys, policy, all] = await Promise.all([
        listKeys(db),
        currentPolicy(db),
        listRequests(db)
      ]);
      const current = await this.#side(request, true);
      const prevRow = all.find(
        (r) =>
          r.id !== request.id &&
          request.name !== null &&
          r.name === request.name &&
          APPROVED_STATES.includes(r.state)
      );
      const previous = prevRow ? await this.#side(prevRow, false) : null;
      const granted = request.policy?.granted ?? null;
      this.model = buildReview({
        current,
        signers: request.verdict.signers.map((sid) => {
          const key = keys.find((k) => k.id === sid);
          return { id: sid, label: key?.label ?? null, trust: key?.trust ?? null };
        }),
        reasons: request.policy?.reasons ?? [],
        // The limits table shows the rules this request is judged by: its tenant's, when it has one.
        rules: rulesFor(policy, request.tenant),
        granted,
        previous
      });
      this.request = request;
      this.ceiling = granted;
      if (granted) {
        this.limits = { ...granted.limits };
        this.capabilities = [...granted.capabilities];
      }
      this.load = 'ready';
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.load = 'error';
    }
  }

  /** Loads a request's module, re-hashes it, and inspects it only when the hash matches. */
  async #side(row: RequestRow, current: boolean): Promise<ReviewSide> {
    let inspection = null;
    if (row.moduleSha256) {
      const stored = await getModule(await database(), row.moduleSha256);
      const bytes = stored ? await moduleBytes(stored) : null;
      const ok = bytes !== null && (await sha256Hex(bytes)) === row.moduleSha256;
      if (current) this.integrity = stored === null ? 'missing' : ok ? 'ok' : 'mismatch';
      if (ok && bytes) inspection = inspectWasm(bytes);
    } else if (current) this.integrity = 'none';
    return {
      name: row.name,
      version: row.version,
      moduleSha256: row.moduleSha256,
      size: row.size,
      manifest: row.manifest ?? null,
      inspection
    };
  }

  toggleCapability(capability: CapabilityGroup, keep: boolean): void {
    const rest = this.capabilities.filter((c) => c !== capability);
    this.capabilities = keep ? [...rest, capability] : rest;
  }

  async decide(action: DecisionAction): Promise<void> {
    const request = this.request;
    if (!request || this.busy) return;
    if ((action === 'approve' || action === 'pin') && !this.canApprove) return;
    this.busy = true;
    try {
      const approve = action === 'approve' || action === 'pin';
      const problem = await decide(
        request,
        action,
        approve ? { limits: { ...this.limits }, capabilities: [...this.capabilities] } : undefined
      );
      if (problem) {
        this.result = { kind: 'error', text: problem };
        return;
      }
      const fresh = await getRequest(await database(), request.id);
      this.request = fresh;
      this.result = { kind: 'ok', text: `${DECIDED_TEXT[action]}.` };
    } finally {
      this.busy = false;
    }
  }
}

export const reviewState = new ReviewState();
