/**
 * The Policy page's state: the policy in force, its version history with diffs, a draft edited
 * as a form or as JSON, saving (a new version, audited), export and import, and the dry run.
 *
 * The draft is one JSON text. The form reads the parsed text and writes fields back into it, so
 * the two views cannot disagree; core parsePolicy alone decides whether a draft is a policy.
 * A refused save or import changes nothing stored and is audited with every field error. An
 * accepted import is not in force until the user has seen its changes against the policy in
 * force and confirmed them: a policy file decides what runs without a human.
 */
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '$lib/core/json';
import {
  DEFAULT_POLICY,
  inertNote,
  looserOverrides,
  MAX_POLICY_CHARS,
  parsePolicy,
  type Policy,
  type PolicyFieldError,
  type PolicyWarning
} from '$lib/core/policy/document';
import { diffPolicies, summarizeChanges, type PolicyChange } from '$lib/core/policy/diff';
import { dryRun, type DryRunRow } from '$lib/core/policy/dry-run';
import { inspectWasm, type WasmInspection } from '$lib/core/wasm/inspect';
import { listKeys } from '$lib/storage/keys-store';
import { currentPolicy, listPolicyVersions } from '$lib/storage/policy-store';
import { changePolicy } from './policy-change';
import { getModule, listRequests, moduleBytes } from '$lib/storage/requests-store';
import { auditLog } from './audit-log.svelte';
import { database } from './database';
import { downloadText } from './download';
import { runMode } from './run-mode.svelte';

export type { DryRunRow, Policy, PolicyChange, PolicyFieldError, PolicyWarning };

/** One row of the history. The built-in default is never stored and has no date. */
export interface PolicyVersionView {
  /** `'default'` for the built-in default (version 1); stored versions are numbered from 2. */
  key: number | 'default';
  version: number;
  createdAt: number | null;
  name: string;
  policy: Policy;
  /** Set when a stored document no longer parses (then `policy` is the default it falls back to). */
  problem: string | null;
}

export type PolicySource = 'form' | 'json' | 'import';

/** A policy file that parsed, waiting for the user to see its changes and confirm. */
export interface PendingImport {
  fileName: string;
  text: string;
  policy: Policy;
  /** The version in force the changes are measured against. */
  against: number;
  changes: PolicyChange[];
}

/** Audit details keep at most this many changes (a hash list may hold 10000). */
const MAX_AUDITED_CHANGES = 50;

export class PolicyState {
  current = $state.raw<Policy>(DEFAULT_POLICY);
  /** Newest first; the built-in default last. */
  versions = $state.raw<PolicyVersionView[]>([]);
  loaded = $state(false);
  /** The draft, as JSON text. */
  text = $state(pretty(DEFAULT_POLICY));
  errors = $state.raw<PolicyFieldError[]>([]);
  /**
   * Tenant values looser than the base in the document last judged (in force, saved, imported or
   * dry-run): valid, but inert, since an override only ever tightens (core/policy/stricter.ts).
   */
  warnings = $state.raw<PolicyWarning[]>([]);
  message = $state<{ kind: 'ok' | 'error'; text: string } | null>(null);
  busy = $state(false);
  /** The version whose diff against its predecessor is shown. */
  selected = $state<number | 'default' | null>(null);
  dryRows = $state.raw<DryRunRow[] | null>(null);
  pendingImport = $state.raw<PendingImport | null>(null);

  /** The draft parsed as JSON (not yet judged as a policy): what the form shows. */
  readonly parsed = $derived(parseJson(this.text, { maxSize: MAX_POLICY_CHARS }));
  readonly draft = $derived<JsonObject | null>(
    this.parsed.ok && isJsonObject(this.parsed.value) ? this.parsed.value : null
  );
  readonly dirty = $derived(this.text !== pretty(this.current));
  /** How the policy in force is named: the default has no stored number of its own. */
  readonly inForceLabel = $derived(
    this.versions[0]?.key === 'default' || this.versions.length === 0
      ? 'the built-in default'
      : `version ${this.current.version}`
  );

  async load(): Promise<void> {
    try {
      const db = await database();
      const [current, rows] = await Promise.all([currentPolicy(db), listPolicyVersions(db)]);
      const stored = rows.map((row): PolicyVersionView => {
        const parsed = parsePolicy(row.document);
        return {
          key: row.version,
          version: row.version,
          createdAt: row.createdAt,
          name: parsed.ok ? parsed.policy.name : '(unreadable)',
          policy: parsed.ok ? parsed.policy : DEFAULT_POLICY,
          problem: parsed.ok ? null : parsed.errors.map(errorText).join('; ')
        };
      });
      const builtIn: PolicyVersionView = {
        key: 'default',
        version: DEFAULT_POLICY.version,
        createdAt: null,
        name: DEFAULT_POLICY.name,
        policy: DEFAULT_POLICY,
        problem: null
      };
      // An untouched draft follows the policy in force (e.g. a hash pinned from the Inbox); an
      // edited one is kept, and save() notices that it was based on an older version.
      const clean = !this.loaded || !this.dirty;
      this.current = current;
      this.versions = [...stored.reverse(), builtIn];
      this.selected ??= this.versions[0]?.key ?? null;
      if (clean) {
        this.text = pretty(current);
        this.warnings = looserOverrides(current);
      }
      this.loaded = true;
    } catch (error) {
      this.message = { kind: 'error', text: `Could not read the policy: ${messageOf(error)}` };
    }
  }

  /** Writes one field of the draft (a form edit). No-op while the JSON does not parse. */
  setField(path: readonly string[], value: JsonValue | undefined): void {
    if (this.draft === null || path.length === 0) return;
    const next = JSON.parse(JSON.stringify(this.draft)) as JsonObject;
    let at: JsonObject = next;
    for (const key of path.slice(0, -1)) {
      const child = at[key];
      if (!isJsonObject(child ?? null)) at[key] = {};
      at = at[key] as JsonObject;
    }
    const last = path[path.length - 1]!;
    if (value === undefined) delete at[last];
    else at[last] = value;
    this.text = JSON.stringify(next, null, 2);
  }

  /** Throws the draft away: back to the policy in force. */
  revert(): void {
    this.text = pretty(this.current);
    this.errors = [];
    this.warnings = looserOverrides(this.current);
    this.message = null;
  }

  /** Saves the draft as a new version when parsePolicy accepts it; else shows and audits why not. */
  async save(source: PolicySource = 'json'): Promise<boolean> {
    return this.#commit(this.text, source);
  }

  /**
   * Import, step one: the file's text is judged exactly like a save. A refused file is shown and
   * audited (the draft kept); an accepted one waits, with its changes against the policy in force,
   * for confirmImport. Nothing is stored and the draft is untouched either way.
   */
  async importText(text: string, fileName: string): Promise<boolean> {
    this.pendingImport = null;
    const judged = parsePolicy(text);
    if (!judged.ok) return this.#commit(text, 'import', fileName);
    this.errors = [];
    this.#offerImport(fileName, text, judged.policy);
    return true;
  }

  /** Import, step two: the confirmed file becomes the next version (audited with its name). */
  async confirmImport(): Promise<boolean> {
    const pending = this.pendingImport;
    if (pending === null) return false;
    const saved = await this.#commit(pending.text, 'import', pending.fileName, pending.against);
    if (saved) this.pendingImport = null;
    return saved;
  }

  /** Drops a waiting import: nothing was stored, so there is nothing to undo or audit. */
  discardImport(): void {
    if (this.pendingImport === null) return;
    this.message = {
      kind: 'ok',
      text: `Import of ${this.pendingImport.fileName} discarded. The policy in force (${this.inForceLabel}) is unchanged.`
    };
    this.pendingImport = null;
    this.warnings = looserOverrides(this.current);
  }

  #offerImport(fileName: string, text: string, policy: Policy): void {
    const changes = diffPolicies(this.current, policy);
    this.pendingImport = { fileName, text, policy, against: this.current.version, changes };
    this.warnings = looserOverrides(policy);
    this.message = {
      kind: 'ok',
      text: `${fileName} is a valid policy with ${changes.length} change(s) from the policy in force (${this.inForceLabel}).${inertNote(this.warnings)} Nothing is in force until you confirm below.`
    };
  }

  /** Downloads the policy in force as JSON. */
  exportCurrent(): void {
    const name = this.versions[0]?.key ?? 'default';
    downloadText(`nightcore-policy-${name}.json`, pretty(this.current), 'application/json');
  }

  /** Changes from the version before `key` to `key` (the default has none before it). */
  diffFor(
    key: number | 'default' | null
  ): { from: PolicyVersionView; to: PolicyVersionView; changes: PolicyChange[] } | null {
    const index = this.versions.findIndex((v) => v.key === key);
    const to = this.versions[index];
    const from = this.versions[index + 1];
    if (index < 0 || to === undefined || from === undefined) return null;
    return { from, to, changes: diffPolicies(from.policy, to.policy) };
  }

  /** Judges every queued request by the policy in force and by the draft (nothing is saved). */
  async dryRun(): Promise<void> {
    this.dryRows = null;
    const judged = parsePolicy(this.text);
    if (!judged.ok) {
      this.errors = judged.errors;
      this.message = {
        kind: 'error',
        text: 'The draft is not a valid policy; fix the fields listed.'
      };
      return;
    }
    this.busy = true;
    try {
      const db = await database();
      if (!runMode.loaded) await runMode.load();
      const [requests, keys, current] = await Promise.all([
        listRequests(db),
        listKeys(db),
        currentPolicy(db)
      ]);
      const inspections = new Map<string, WasmInspection | null>();
      for (const sha of new Set(requests.map((r) => r.moduleSha256).filter(Boolean))) {
        const row = await getModule(db, sha);
        inspections.set(sha, row ? inspectWasm(await moduleBytes(row)) : null);
      }
      this.errors = [];
      this.warnings = looserOverrides(judged.policy);
      this.dryRows = dryRun({
        requests,
        inspections,
        signerTrust: Object.fromEntries(keys.map((k) => [k.id, k.trust])),
        signerScope: Object.fromEntries(
          keys.map((k) => [k.id, { names: k.scope, capabilities: k.capabilities ?? null }])
        ),
        mode: runMode.mode,
        current,
        draft: judged.policy
      });
      const changed = this.dryRows.filter((r) => r.changed).length;
      this.message = {
        kind: 'ok',
        text: `Dry run over ${this.dryRows.length} request(s): ${changed} would change outcome. Nothing was saved.`
      };
    } catch (error) {
      this.message = { kind: 'error', text: `The dry run failed: ${messageOf(error)}` };
    } finally {
      this.busy = false;
    }
  }

  async #commit(
    text: string,
    source: PolicySource,
    fileName?: string,
    importAgainst?: number
  ): Promise<boolean> {
    this.busy = true;
    try {
      const judged = parsePolicy(text);
      const file: JsonObject = fileName === undefined ? {} : { fileName };
      if (!judged.ok) {
        this.errors = judged.errors;
        this.warnings = [];
        this.message = {
          kind: 'error',
          text: `${source === 'import' ? 'Import' : 'Save'} refused: ${judged.errors.length} problem(s). The policy in force (${this.inForceLabel}) is unchanged.`
        };
        await auditLog.record({
          event: 'policy.version',
          subject: {},
          details: {
            result: 'refused',
            source,
            ...file,
            inForce: this.current.version,
            errors: judged.errors.map((e) => ({ field: e.field, message: e.message }))
          }
        });
        return false;
      }
      const inert = looserOverrides(judged.policy);
      let conflict: number | null = null;
      let summary = '';
      const saved = await changePolicy((before) => {
        // A draft is based on the version it was edited from; a confirmed import on the version
        // its changes were shown against.
        if (before.version !== (importAgainst ?? this.current.version)) {
          conflict = before.version;
          return null;
        }
        const changes = diffPolicies(before, judged.policy);
        summary = summarizeChanges(changes);
        return {
          policy: judged.policy,
          details: {
            name: judged.policy.name,
            source,
            ...file,
            change: summary,
            changes: changes.slice(0, MAX_AUDITED_CHANGES).map(plainChange),
            changeCount: changes.length,
            // Saved, but said: these tenant values are looser than the base and do not apply.
            ...(inert.length > 0
              ? {
                  inert: inert
                    .slice(0, MAX_AUDITED_CHANGES)
                    .map((w) => ({ field: w.field, message: w.message })),
                  inertCount: inert.length
                }
              : {})
          }
        };
      });
      if (saved === null) {
        // Another tab, or a pin or block from the Inbox, saved a version since this draft began:
        // saving blindly would silently undo it. Show it first; a second Save is a decision.
        await this.load();
        if (importAgainst !== undefined && fileName !== undefined) {
          // The changes shown are no longer the changes: show them against the new version.
          this.#offerImport(fileName, text, judged.policy);
          this.message = {
            kind: 'error',
            text: `Not imported yet: version ${conflict ?? '?'} was saved since ${fileName} was opened. Its changes are now shown against that version; confirm again if they are still what you want.`
          };
          return false;
        }
        this.message = {
          kind: 'error',
          text: `Not saved: version ${conflict ?? '?'} was saved while you edited (see Versions); saving this draft would undo its changes. Review, then save again.`
        };
        return false;
      }
      this.errors = [];
      this.text = pretty(saved);
      this.selected = saved.version;
      await this.load();
      this.warnings = inert;
      this.message = {
        kind: 'ok',
        text: `Saved as version ${saved.version}: ${summary}.${inertNote(inert)}`
      };
      return true;
    } catch (error) {
      this.message = { kind: 'error', text: `Not saved: ${messageOf(error)}` };
      return false;
    } finally {
      this.busy = false;
    }
  }
}

/** A change as audit details accept it (no absent-but-present keys). */
function plainChange(c: PolicyChange): JsonObject {
  const out: JsonObject = { field: c.field, kind: c.kind };
  if (c.before !== undefined) out.before = c.before;
  if (c.after !== undefined) out.after = c.after;
  return out;
}

export function errorText(e: PolicyFieldError): string {
  return `${e.field}: ${e.message}`;
}

function pretty(policy: Policy): string {
  return JSON.stringify(policy, null, 2);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const policyState = new PolicyState();
