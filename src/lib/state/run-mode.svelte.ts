/**
 * The run mode: one switch, always visible. `lockdown` (nothing runs; intake still verifies and
 * queues), `review` (every run asks a human), `auto` (trusted signers and pinned hashes with
 * nothing flagged run without a click). Deny rules hold in every mode. Changes are audited.
 * Switching to lockdown also stops what is running, in every tab (runs.svelte.ts listens).
 */
import { auditLog } from './audit-log.svelte';
import { database } from './database';

import type { RunMode } from '$lib/core/policy/evaluate';

export type { RunMode };

export const RUN_MODES: readonly { value: RunMode; label: string; meaning: string }[] = [
  {
    value: 'lockdown',
    label: 'Lockdown',
    meaning: 'Nothing runs. Intake still verifies and queues.'
  },
  { value: 'review', label: 'Review', meaning: 'Every run waits for your decision.' },
  {
    value: 'auto',
    label: 'Auto',
    meaning:
      'Modules from auto-trust signers or pinned hashes, with nothing flagged, run without a click.'
  }
];

const META_NAME = 'run-mode';
const CHANNEL = 'nightcore-run-mode';
const DEFAULT_MODE: RunMode = 'review';

export class RunModeState {
  mode = $state<RunMode>(DEFAULT_MODE);
  loaded = $state(false);

  #channel: BroadcastChannel | null = null;
  #lockdownListeners: (() => void)[] = [];

  /** Called whenever the mode becomes lockdown, switched here or in another tab. */
  onLockdown(listener: () => void): void {
    this.#lockdownListeners.push(listener);
  }

  #became(mode: RunMode): void {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'lockdown' && was !== 'lockdown') for (const f of this.#lockdownListeners) f();
  }

  /**
   * Reads the mode from storage. Callers that act on the mode (intake, decisions, runs) call this
   * each time rather than trusting a value read earlier: another tab may have switched to lockdown.
   */
  async load(): Promise<void> {
    if (this.#channel === null && typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(CHANNEL);
      this.#channel.addEventListener('message', () => void this.load());
    }
    const row = await (await database()).get('meta', META_NAME);
    const value = row?.value;
    const mode = RUN_MODES.some((m) => m.value === value) ? (value as RunMode) : DEFAULT_MODE;
    // The first read is where this page starts, not a switch: nothing here runs yet.
    if (this.loaded) this.#became(mode);
    else this.mode = mode;
    this.loaded = true;
  }

  async set(mode: RunMode): Promise<void> {
    if (mode === this.mode) return;
    const from = this.mode;
    // Audit first: a page that dies between the two writes leaves a recorded change that did not
    // happen, never a loosened mode that nobody recorded.
    await auditLog.record({
      event: 'settings.changed',
      subject: {},
      details: { setting: 'run-mode', from, to: mode }
    });
    await (await database()).put('meta', { name: META_NAME, value: mode });
    this.#became(mode);
    this.#channel?.postMessage(mode);
  }
}

export const runMode = new RunModeState();
