import { expect, type Page } from '@playwright/test';
import { NAV_ITEMS } from '../../src/lib/ui/navigation';

export const PAGES = NAV_ITEMS.map(({ href, label }) => ({ path: href, label }));

/** Opens a page and waits until Svelte has hydrated it (the layout sets data-ready in onMount). */
export async function gotoReady(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
}

/**
 * Reloads and waits for hydration: text typed into the prerendered page before Svelte hydrates it
 * is reset by hydration (CI once pasted into a field that then went empty).
 */
export async function reloadReady(page: Page): Promise<void> {
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
}

/**
 * Records everything that would mean a broken page: console errors, uncaught exceptions, failed
 * requests and HTTP errors. Call before navigating; read `problems` at the end.
 */
export function watchForProblems(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    const error = request.failure()?.errorText;
    // A subresource still loading when the test navigates on (the favicon, say) is aborted by
    // the browser: that is the navigation, not a broken page (CI saw it once in review.spec).
    if (error === 'net::ERR_ABORTED' && !request.isNavigationRequest()) return;
    problems.push(`request failed: ${request.url()} (${error})`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { problems };
}

/**
 * Waits until a service worker controls the page (after the first online load). Chromium can leave
 * a document that was still loading when the worker's `clients.claim()` ran uncontrolled, with no
 * `controllerchange` to come (CI hung here once in channels.spec); a reload under the now active
 * worker is controlled, so the helper reloads once in that case. An install that never finishes
 * fails with the registration's state instead of the test's timeout.
 */
export async function waitForServiceWorkerControl(page: Page): Promise<void> {
  const state = await page.evaluate(async () => {
    const container = navigator.serviceWorker;
    const ready = await Promise.race([
      container.ready.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000))
    ]);
    if (!ready) {
      const registration = await container.getRegistration();
      const describe = (worker: ServiceWorker | null | undefined) => worker?.state ?? 'none';
      return `no active service worker after 15 s (installing ${describe(registration?.installing)}, waiting ${describe(registration?.waiting)}, active ${describe(registration?.active)})`;
    }
    if (container.controller) return 'controlled';
    const changed = await new Promise<boolean>((resolve) => {
      container.addEventListener('controllerchange', () => resolve(true), { once: true });
      setTimeout(() => resolve(container.controller !== null), 3_000);
    });
    return changed ? 'controlled' : 'uncontrolled';
  });
  if (state === 'controlled') return;
  if (state !== 'uncontrolled') throw new Error(state);
  await reloadReady(page);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
}

/** Waits until the page's audit log has started (device key made, first chain check done). */
export async function auditReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const automation = (
      window as { nightcoreAutomation?: { audit: { status(): { status: string } } } }
    ).nightcoreAutomation;
    const status = automation?.audit.status().status;
    return status === 'ok' || status === 'broken';
  });
}

/** Every audit record in the page's IndexedDB, in order (read directly, as an outside check). */
export interface AuditRecordView {
  seq: number;
  event: string;
  subject: { keyIds?: string[]; runId?: string };
  details: Record<string, unknown>;
}

export async function auditRecords(page: Page): Promise<AuditRecordView[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      const request = db.transaction('audit').objectStore('audit').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return rows as AuditRecordView[];
  });
}

/**
 * Flips the last byte of stored module bytes in IndexedDB (every module, or the one with `sha256`),
 * as an attacker with access to the profile would: whether the row holds a Blob or a Uint8Array.
 */
export async function alterStoredModules(page: Page, sha256?: string): Promise<number> {
  return page.evaluate(async (only) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<{ sha256: string; bytes: Uint8Array | Blob }[]>(
      (resolve, reject) => {
        const all = db.transaction('modules').objectStore('modules').getAll();
        all.onsuccess = () => resolve(all.result);
        all.onerror = () => reject(all.error);
      }
    );
    const targets = rows.filter((row) => !only || row.sha256 === only);
    for (const row of targets) {
      const bytes =
        row.bytes instanceof Blob ? new Uint8Array(await row.bytes.arrayBuffer()) : row.bytes;
      bytes[bytes.length - 1]! ^= 1;
      row.bytes = row.bytes instanceof Blob ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : bytes;
    }
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('modules', 'readwrite');
      for (const row of targets) tx.objectStore('modules').put(row);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return targets.length;
  }, sha256);
}

/** Writes a file under the private `agent/` folder (OPFS), creating folders on the way. */
export async function putAgentFile(page: Page, path: string, text: string): Promise<void> {
  await page.evaluate(
    async ({ path, text }) => {
      let dir = await (
        await navigator.storage.getDirectory()
      ).getDirectoryHandle('agent', { create: true });
      const parts = path.split('/');
      for (const part of parts.slice(0, -1))
        dir = await dir.getDirectoryHandle(part, { create: true });
      const writable = await (
        await dir.getFileHandle(parts.at(-1)!, { create: true })
      ).createWritable();
      await writable.write(text);
      await writable.close();
    },
    { path, text }
  );
}
