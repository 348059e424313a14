/**
 * The auto lane (issue 7): a request the policy auto-approves (auto mode, a signer at trust
 * `auto` or a pinned hash, nothing flagged) starts running as soon as it is taken in, with the
 * same limits, checks and records as a run started by hand. A visible switch pauses the lane at
 * once: requests that arrive while it is paused wait on the Runs page. Changes are audited and
 * shared with other tabs.
 */
import type { RequestRow } from '$lib/storage/records';
import { auditLog } from './audit-log.svelte';
import { database } from './database';
import { runsState, type RunInputs } from './runs.svelte';

const META_NAME = 'auto-lane-paused';
const CHANNEL = 'nightcore-auto-lane';

export class AutoLane {
  paused = $state(false);
  loaded = $state(false);
  #channel: BroadcastChannel | null = null;

  /** Reads the switch from storage (each time: another tab may have paused the lane). */
  async load(): Promise<void> {
    if (this.#channel === null && typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(CHANNEL);
      this.#channel.addEventListener('message', () => void this.load());
    }
    const row = await (await database()).get('meta', META_NAME);
    this.paused = row?.value === true;
    this.loaded = true;
  }

  async setPaused(paused: boolean): Promise<void> {
    await this.load();
    if (paused === this.paused) return;
    // Audit first, as every setting: a change nobody recorded never takes effect.
    await auditLog.record({
      event: 'settings.changed',
      subject: {},
      details: {
        setting: 'auto-lane',
        from: this.paused ? 'paused' : 'on',
        to: paused ? 'paused' : 'on'
      }
    });
    await (await database()).put('meta', { name: META_NAME, value: paused });
    this.paused = paused;
    this.#channel?.postMessage(paused);
  }

  /** Starts the auto-approved requests of an intake, unless the lane is paused; true if any. */
  async take(requests: readonly RequestRow[], inputs: RunInputs = {}): Promise<boolean> {
    const ready = requests.filter((r) => r.state === 'auto-approved');
    if (ready.length === 0) return false;
    await this.load();
    if (this.paused) return false;
    for (const request of ready) await runsState.start(request, inputs);
    return true;
  }
}

export const autoLane = new AutoLane();
