import { expect, test } from '@playwright/test';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { gotoReady, waitForServiceWorkerControl } from './helpers';

/**
 * A new deployment is a new service-worker script. It installs in the background, waits, and the
 * page offers "new version available — reload"; reloading hands control to the new version.
 */
test('a new version shows the reload prompt, and reloading switches to it', async ({ browser }) => {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-build-'));
  cpSync(new URL('../../build', import.meta.url), dir, { recursive: true });
  const server = await startServer({ dir, port: 0 });
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  try {
    await gotoReady(page, '/');
    await waitForServiceWorkerControl(page);
    await expect(page.getByTestId('update-banner')).toHaveCount(0);

    // Deploy "version 2": a service worker that differs by its bytes and says who it is.
    appendFileSync(
      join(dir, 'service-worker.js'),
      `\nself.addEventListener('message', (e) => { if (e.data === 'which') e.source.postMessage('v2'); });\n`
    );
    await page.reload();
    await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
    const banner = page.getByTestId('update-banner');
    await expect(banner).toBeVisible({ timeout: 10_000 });
    await expect(banner).toContainText('A new version of Night Core is available');
    // Waiting, not in control: the running version keeps the page until the user says so.
    const which = () =>
      page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            navigator.serviceWorker.addEventListener('message', (e) => resolve(String(e.data)), {
              once: true
            });
            navigator.serviceWorker.controller!.postMessage('which');
            setTimeout(() => resolve('v1'), 500);
          })
      );
    expect(await which()).toBe('v1');

    await Promise.all([
      page.waitForEvent('load'),
      banner.getByRole('button', { name: 'Reload' }).click()
    ]);
    await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
    expect(await which()).toBe('v2');
    await expect(page.getByTestId('update-banner')).toHaveCount(0);
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
