/**
 * Getting the user's attention (issue 7): the pending count as the app icon badge, and, when the
 * user has turned them on, a notification when an intake leaves requests waiting for review.
 * Both are conveniences: every failure is swallowed, and the Inbox stays the source of truth.
 */
import { goto } from '$app/navigation';
import type { RequestRow } from '$lib/storage/records';
import { auditLog } from './audit-log.svelte';
import { database } from './database';
import { reviewNotice } from './review-notice';

const META_NAME = 'notifications-enabled';
const CHANNEL = 'nightcore-attention';
/** One tag, so a newer notice replaces an older one instead of piling up. */
export const NOTIFICATION_TAG = 'nightcore-review';

/** The browser's answer, or `unsupported` when there is no Notification API. */
export type NotificationPermissionState = NotificationPermission | 'unsupported';

/** What the Settings toggle shows. */
export type NotificationsState = 'off' | 'on' | 'denied' | 'unsupported';

function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function currentPermission(): NotificationPermissionState {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

/** Sets the app icon badge to `count` (clears it at 0) where the Badging API exists. */
export function showBadge(count: number): void {
  if (typeof navigator === 'undefined' || !('setAppBadge' in navigator)) return;
  const done = count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge();
  done.catch(() => {
    // Not installed, or the platform has no badge: nothing to tell the user.
  });
}

async function readEnabled(): Promise<boolean> {
  const row = await (await database()).get('meta', META_NAME);
  return row?.value === true;
}

export class Attention {
  /** The stored setting; notifications also need the browser's permission. */
  enabled = $state(false);
  permission = $state<NotificationPermissionState>('default');
  loaded = $state(false);
  busy = $state(false);
  /** Why the last notification could not be shown (this tab), or null: shown on Settings. */
  lastProblem = $state<string | null>(null);
  #channel: BroadcastChannel | null = null;
  #watching = false;

  get state(): NotificationsState {
    if (this.permission === 'unsupported') return 'unsupported';
    if (this.permission === 'denied') return 'denied';
    return this.enabled && this.permission === 'granted' ? 'on' : 'off';
  }

  /** Reads the setting (each time: another tab may have changed it) and the permission. */
  async load(): Promise<void> {
    if (this.#channel === null && typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(CHANNEL);
      this.#channel.addEventListener('message', () => void this.load());
    }
    this.permission = currentPermission();
    void this.#watchPermission();
    this.enabled = await readEnabled();
    this.loaded = true;
  }

  /**
   * The Settings toggle. Turning on asks the browser first (this must run in the click), and
   * stays off unless permission is granted. Changes are audited before they take effect.
   */
  async setEnabled(enabled: boolean): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.load();
      if (enabled) {
        if (!notificationsSupported()) return;
        this.permission = await Notification.requestPermission();
        if (this.permission !== 'granted') return;
      }
      if (enabled === this.enabled) return;
      await auditLog.record({
        event: 'settings.changed',
        subject: {},
        details: {
          setting: 'notifications',
          from: this.enabled ? 'on' : 'off',
          to: enabled ? 'on' : 'off'
        }
      });
      await (await database()).put('meta', { name: META_NAME, value: enabled });
      this.enabled = enabled;
      this.#channel?.postMessage(enabled);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Called by the tab that took the requests in (so other tabs never repeat it): one notice for
   * those left pending, when notifications are on and permitted. Never throws.
   */
  async notifyNeedsReview(requests: readonly RequestRow[]): Promise<void> {
    try {
      const notice = reviewNotice(requests.filter((r) => r.state === 'pending'));
      if (notice === null || currentPermission() !== 'granted' || !(await readEnabled())) return;
      const options: NotificationOptions = {
        body: notice.body,
        tag: NOTIFICATION_TAG,
        icon: '/icons/icon-192.png',
        data: { url: notice.url }
      };
      // getRegistration, not `ready`: `ready` never settles when no worker is registered.
      const registration =
        'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
      if (registration?.active) {
        await registration.showNotification(notice.title, options);
        this.lastProblem = null;
        return;
      }
      const notification = new Notification(notice.title, options);
      notification.addEventListener('click', () => {
        window.focus();
        notification.close();
        void goto(notice.url);
      });
      this.lastProblem = null;
    } catch (error) {
      // A notification is a convenience: the request is queued and counted whatever happens
      // here; Settings says why it did not show.
      this.lastProblem = error instanceof Error ? error.message : String(error);
    }
  }

  /** Keeps `permission` current when the user changes it in the browser's site settings. */
  async #watchPermission(): Promise<void> {
    if (this.#watching || !notificationsSupported() || !('permissions' in navigator)) return;
    this.#watching = true;
    try {
      const status = await navigator.permissions.query({ name: 'notifications' });
      status.addEventListener('change', () => {
        this.permission = currentPermission();
      });
    } catch {
      // No Permissions API for notifications here: the state is re-read on each load().
    }
  }
}

export const attention = new Attention();
