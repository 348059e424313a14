import { dev } from '$app/environment';

/**
 * The service worker's lifecycle as the UI sees it. A new version installs in the background and
 * then waits; the user decides when to switch (a run in progress must not be cut by a reload).
 */
export type OfflineState = 'unsupported' | 'installing' | 'ready' | 'failed';

const UPDATE_CHECK_MS = 30 * 60 * 1000;

export class AppUpdate {
  offline = $state<OfflineState>('installing');
  updateAvailable = $state(false);
  error = $state<string | null>(null);
  #registration: ServiceWorkerRegistration | undefined;
  #reloading = false;
  /** A newer version took control (the user chose it in another tab): a reload gets it. */
  #taken = false;

  async start(): Promise<void> {
    if (!('serviceWorker' in navigator)) {
      this.offline = 'unsupported';
      return;
    }
    const container = navigator.serviceWorker;
    const hadController = container.controller !== null;
    container.addEventListener('controllerchange', () => {
      // Only reload when the user asked for the new version, in this tab: another tab's choice
      // never reloads this one behind its user's back (a run here would be cut). The first
      // install claims silently.
      if (this.#reloading) location.reload();
      else if (hadController) this.#taken = true;
    });
    try {
      const registration = await container.register('/service-worker.js', {
        // Vite serves it as a module in dev; the build is one self-contained classic script.
        type: dev ? 'module' : 'classic'
      });
      this.#registration = registration;
      if (registration.waiting && container.controller) this.updateAvailable = true;
      registration.addEventListener('updatefound', () => this.#track(registration.installing));
      this.#track(registration.installing);
      await container.ready;
      this.offline = 'ready';
      setInterval(() => void this.check(), UPDATE_CHECK_MS);
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') void this.check();
      });
    } catch (error) {
      this.offline = 'failed';
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** Looks for a new version now (also done on load, on focus and every half hour). */
  async check(): Promise<void> {
    try {
      await this.#registration?.update();
    } catch {
      // Offline or server gone: the installed version keeps working; try again later.
    }
  }

  /**
   * Activates the waiting version; the page reloads once it has taken control. When another tab
   * activated it already, nothing waits any more: this page just reloads into it.
   */
  apply(): void {
    const waiting = this.#registration?.waiting;
    if (!waiting) {
      if (this.#taken) location.reload();
      return;
    }
    this.#reloading = true;
    waiting.postMessage({ type: 'skip-waiting' });
  }

  #track(worker: ServiceWorker | null): void {
    if (!worker) return;
    worker.addEventListener('statechange', () => {
      // An installed worker while another controls the page is a new version waiting.
      if (worker.state === 'installed' && navigator.serviceWorker.controller) {
        this.updateAvailable = true;
      }
    });
  }
}

export const appUpdate = new AppUpdate();
