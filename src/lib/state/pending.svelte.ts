/**
 * The live count of requests waiting for a decision, for the navigation and app icon badges.
 * Whatever changes the queue calls `changed()`; other tabs hear it over a BroadcastChannel and
 * re-count. (The audit channel is not enough: a decision is audited before it is applied.)
 */
import { countPending } from '$lib/storage/requests-store';
import { database } from './database';
import { showBadge } from './attention.svelte';

/** Also heard by the Overview's dashboard (dashboard.svelte.ts). */
export const REQUESTS_CHANNEL = 'nightcore-requests';

export class PendingCount {
  count = $state(0);
  #channel: BroadcastChannel | null = null;

  /** Starts listening to other tabs and counts once. */
  start(): void {
    if (this.#channel === null && typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(REQUESTS_CHANNEL);
      this.#channel.addEventListener('message', () => void this.refresh());
    }
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this.count = await countPending(await database());
      showBadge(this.count); // every tab re-counts on a change, so the icon follows any tab
    } catch {
      // The badge is a convenience: storage errors are reported by the pages that need storage.
    }
  }

  /** The queue changed in this tab: re-count here and tell the others (resolves when re-counted). */
  changed(): Promise<void> {
    this.#channel?.postMessage('changed');
    return this.refresh();
  }
}

export const pendingCount = new PendingCount();
