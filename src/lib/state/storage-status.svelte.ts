import { PERSISTENCE_ANSWER, countRecords, type StoreName } from '$lib/storage/db';
import { database } from './database';
import { auditLog } from './audit-log.svelte';

export type PersistenceState = 'unknown' | 'unsupported' | 'persisted' | 'not-persisted' | 'denied';

/**
 * What the browser promises about our storage: whether it is persistent (not evicted under
 * pressure), how much is used of the quota, and how many records each store holds.
 */
export class StorageStatus {
  persistence = $state<PersistenceState>('unknown');
  /** True once we asked the browser (on the first user action), so we do not ask again. */
  requested = $state(false);
  usageBytes = $state<number | null>(null);
  quotaBytes = $state<number | null>(null);
  counts = $state.raw<Record<StoreName, number> | null>(null);
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    try {
      const storage = navigator.storage;
      if (!storage?.persisted || !storage.estimate) {
        this.persistence = 'unsupported';
      } else {
        const [persisted, estimate] = await Promise.all([storage.persisted(), storage.estimate()]);
        if (persisted) this.persistence = 'persisted';
        else if (this.persistence !== 'denied') this.persistence = 'not-persisted';
        this.usageBytes = estimate.usage ?? null;
        this.quotaBytes = estimate.quota ?? null;
      }
      this.counts = await countRecords(await database());
      this.error = null;
    } catch (error) {
      this.error = `Could not read storage: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /**
   * Asks for persistent storage. Browsers only grant it in answer to a user gesture, so the layout
   * calls this on the first click or key press; `again` is the Settings button asking once more.
   */
  async requestPersistence(again = false): Promise<void> {
    if (this.requested && !again) return;
    this.requested = true;
    if (!navigator.storage?.persist) {
      this.persistence = 'unsupported';
      return;
    }
    try {
      const granted = await navigator.storage.persist();
      this.persistence = granted ? 'persisted' : 'denied';
      // Every page load asks on its first click; only an answer that differs from the last one
      // recorded (or the user asking from Settings) goes in the log, not one record per load.
      const db = await database();
      const last = (await db.get('meta', PERSISTENCE_ANSWER))?.value;
      if (again || last !== granted) {
        await auditLog.record({
          event: 'settings.changed',
          subject: {},
          details: { setting: 'persistent-storage', requested: true, granted }
        });
        await db.put('meta', { name: PERSISTENCE_ANSWER, value: granted });
      }
    } catch (error) {
      this.error = `Could not ask for persistent storage: ${error instanceof Error ? error.message : String(error)}`;
    }
    await this.refresh();
  }
}

export const storageStatus = new StorageStatus();
