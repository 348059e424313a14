import { expect, test } from '@playwright/test';
import { startServer } from '../../scripts/serve.mjs';
import { PAGES, gotoReady, waitForServiceWorkerControl, watchForProblems } from './helpers';

/**
 * After one online load the service worker has precached the whole app: it must reload and
 * navigate with the network off, and with the server gone entirely.
 */
test('works offline after one online load: network off, then server stopped', async ({
  browser
}) => {
  const server = await startServer({ port: 0 }); // own server: this test stops it
  const context = await browser.newContext({ baseURL: server.url });
  const page = await context.newPage();
  try {
    await gotoReady(page, '/');
    await waitForServiceWorkerControl(page);
    await expect(page.getByTestId('offline')).toHaveCount(0); // shown on Settings only

    // 1. Network off (the browser sees no network at all).
    await context.setOffline(true);
    const offline = watchForProblems(page);
    await page.reload();
    await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
    for (const { path, label } of PAGES) {
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: label })
        .click();
      await expect(page).toHaveURL(path);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    }
    for (const { path } of PAGES) await gotoReady(page, path); // full loads, not client routing
    await expect(page.getByTestId('offline')).toHaveAttribute('data-state', 'ready');
    expect(offline.problems).toEqual([]);
    await context.setOffline(false);

    // 2. Network on, but the server is gone.
    await server.close();
    const serverless = watchForProblems(page);
    for (const { path } of PAGES) {
      await gotoReady(page, path);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    }
    await page.reload();
    await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
    expect(serverless.problems).toEqual([]);
  } finally {
    await context.close();
    await server.close();
  }
});
