/**
 * The Keys page's state: pinned publisher keys, importing them in any format core reads, and
 * changing trust. Every change is written to the audit log (key.added, key.changed, key.revoked)
 * in the same transaction as the change itself (keys-store.ts).
 */
import type { AuditRecordInput } from '$lib/core/audit/record';
import { parsePublicKeys, type ParsedPublicKey } from '$lib/core/keys';
import { checkKeyLabel } from '$lib/core/keys/label';
import type { Reason } from '$lib/core/verdict';
import { parseNamePatterns } from '$lib/core/policy/scope';
import { CAPABILITY_GROUPS, type CapabilityGroup } from '$lib/core/wasm/capabilities';
import type { KeyRow, KeyTrust } from '$lib/storage/records';
import { addKey, deleteKey, listKeys, updateKey, type KeyWrite } from '$lib/storage/keys-store';
import { auditLog } from './audit-log.svelte';
import { database } from './database';

export type { KeyRow, KeyTrust, CapabilityGroup };
export { CAPABILITY_GROUPS };

/** A key's scope as the forms give it: name patterns as typed, and the capabilities ticked. */
export interface ScopeInput {
  names: string;
  capabilities: readonly CapabilityGroup[];
}

type ScopeFields = Pick<KeyRow, 'scope' | 'capabilities'>;

/** Reads the form's scope; every capability ticked means no restriction (null). */
export function readScope(
  input: ScopeInput
): { ok: true; fields: ScopeFields } | { ok: false; error: string } {
  const names = parseNamePatterns(input.names);
  if (!names.ok) return { ok: false, error: names.message };
  const all = CAPABILITY_GROUPS.every((c) => input.capabilities.includes(c));
  return {
    ok: true,
    fields: {
      scope: names.names,
      capabilities: all ? null : CAPABILITY_GROUPS.filter((c) => input.capabilities.includes(c))
    }
  };
}

export const KEY_TRUST_LEVELS: readonly { value: KeyTrust; label: string; meaning: string }[] = [
  { value: 'review', label: 'Review', meaning: 'Its modules always wait for a human decision.' },
  {
    value: 'auto',
    label: 'Auto',
    meaning: 'Its modules may run without a click when policy allows.'
  },
  { value: 'revoked', label: 'Revoked', meaning: 'Its signatures are rejected.' }
];

export interface ImportOutcome {
  added: KeyRow[];
  alreadyPinned: KeyRow[];
  error: string | null;
}

export class KeysState {
  keys = $state.raw<KeyRow[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);

  async load(): Promise<void> {
    try {
      this.keys = await listKeys(await database());
      this.loaded = true;
    } catch (error) {
      this.error = `Could not read the pinned keys: ${message(error)}`;
    }
  }

  /**
   * Imports every key in `input` (a file may hold several, e.g. allowed_signers). Nothing is pinned
   * when the input does not parse: the reason says what is wrong, and it is audited.
   */
  async import(
    input: string | Uint8Array,
    label: string,
    trust: KeyTrust,
    scopeInput: ScopeInput = { names: '', capabilities: CAPABILITY_GROUPS }
  ): Promise<ImportOutcome> {
    const checked = checkKeyLabel(label);
    if (!checked.ok) return this.#refuse(checked.reason);
    const scope = readScope(scopeInput);
    if (!scope.ok) return { added: [], alreadyPinned: [], error: scope.error };
    const parsed = await parsePublicKeys(input);
    if (!parsed.ok) return this.#refuse(parsed.reason);
    // A label taken from the file (allowed_signers principals) is checked like a typed one, for
    // every key before any is pinned: a file is taken whole or not at all.
    const labels: string[] = [];
    for (const [index, key] of parsed.keys.entries()) {
      const derived = labelFor(checked.label, key, index, parsed.keys.length);
      const source = checked.label
        ? 'The label'
        : `The label taken from the principals of key ${index + 1} in the file`;
      const ok = checkKeyLabel(derived, source);
      if (!ok.ok) return this.#refuse(ok.reason);
      // A typed label is already cut to length: keep the " #2" that tells a file's keys apart.
      labels.push(checked.label ? derived : ok.label);
    }
    const db = await database();
    const audit = await auditLog.store();
    const outcome: ImportOutcome = { added: [], alreadyPinned: [], error: null };
    try {
      for (const [index, key] of parsed.keys.entries()) {
        const row = { ...toRow(key, labels[index]!, trust), ...scope.fields };
        const record: AuditRecordInput = {
          time: Date.now(),
          event: 'key.added',
          subject: { keyIds: [row.id] },
          details: {
            label: row.label,
            trust,
            format: row.format,
            nativeId: row.nativeId,
            scope: row.scope,
            capabilities: row.capabilities ?? null
          }
        };
        if (await addKey(audit, row, record)) outcome.added.push(row);
        else outcome.alreadyPinned.push((await db.get('keys', row.id)) ?? row);
      }
    } finally {
      await auditLog.refresh();
      await this.load();
    }
    return outcome;
  }

  /** Bad key input: nothing is pinned, the reason is shown, and the refusal is audited. */
  async #refuse(problem: Reason): Promise<ImportOutcome> {
    await auditLog.record({
      event: 'key.added',
      subject: {},
      details: { result: 'refused', code: problem.code, reason: problem.message }
    });
    return { added: [], alreadyPinned: [], error: problem.message };
  }

  async setTrust(id: string, trust: KeyTrust): Promise<void> {
    await this.#change(id, (before) =>
      before.trust === trust
        ? null
        : {
            change: { trust },
            record: {
              time: Date.now(),
              event: trust === 'revoked' ? 'key.revoked' : 'key.changed',
              subject: { keyIds: [id] },
              details: { label: before.label, trust: { from: before.trust, to: trust } }
            }
          }
    );
  }

  /** Changes what a key may sign for; returns the problem, or null when saved (or unchanged). */
  async setScope(id: string, input: ScopeInput): Promise<string | null> {
    const scope = readScope(input);
    if (!scope.ok) return scope.error;
    const written = await this.#change(id, (before) => {
      const from = { scope: before.scope, capabilities: before.capabilities ?? null };
      if (JSON.stringify(from) === JSON.stringify(scope.fields)) return null;
      return {
        change: scope.fields,
        record: {
          time: Date.now(),
          event: 'key.changed',
          subject: { keyIds: [id] },
          details: { label: before.label, scope: { from, to: scope.fields } }
        }
      };
    });
    return written === 'missing' ? 'This key is no longer pinned.' : null;
  }

  /** Renames a key; returns the problem (refused labels are audited), or null when done. */
  async rename(id: string, label: string): Promise<string | null> {
    const checked = checkKeyLabel(label);
    if (!checked.ok) {
      await auditLog.record({
        event: 'key.changed',
        subject: { keyIds: [id] },
        details: { result: 'refused', code: checked.reason.code, reason: checked.reason.message }
      });
      return checked.reason.message;
    }
    const clean = checked.label;
    const written = await this.#change(id, (before) =>
      !clean || before.label === clean
        ? null
        : {
            change: { label: clean },
            record: {
              time: Date.now(),
              event: 'key.changed',
              subject: { keyIds: [id] },
              details: { label: { from: before.label, to: clean } }
            }
          }
    );
    return written === 'missing' ? 'This key is no longer pinned.' : null;
  }

  /** Forgets a key entirely (its past signatures stay in the audit log). */
  async remove(id: string): Promise<void> {
    const removed = await deleteKey(await auditLog.store(), id, (before) => ({
      time: Date.now(),
      event: 'key.revoked',
      subject: { keyIds: [id] },
      details: { label: before.label, removed: true }
    }));
    if (!removed) return;
    await auditLog.refresh();
    await this.load();
  }

  /** One key change and its record, in one transaction; the list re-read when it was saved. */
  async #change(id: string, plan: Parameters<typeof updateKey>[2]): Promise<KeyWrite> {
    const written = await updateKey(await auditLog.store(), id, plan);
    if (written === 'saved') {
      await auditLog.refresh();
      await this.load();
    }
    return written;
  }
}

function toRow(key: ParsedPublicKey, label: string, trust: KeyTrust): KeyRow {
  return {
    id: key.id,
    publicKey: key.publicKey,
    label,
    trust,
    format: key.format,
    nativeId: key.nativeId,
    scope: [],
    addedAt: Date.now()
  };
}

/** The user's label, numbered when one file holds several keys; else a name from the key. */
function labelFor(label: string, key: ParsedPublicKey, index: number, count: number): string {
  const base = label || key.principals?.join(', ') || `${key.format} key ${key.id.slice(0, 8)}`;
  return count > 1 && label ? `${base} #${index + 1}` : base;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const keysState = new KeysState();
