import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { auditRecords, gotoReady, waitForServiceWorkerControl } from './helpers';
import { cliWorkspace, pinKey } from './workspace';

interface Shown {
  title: string;
  body: string;
  tag: string;
  data: unknown;
}

/** The notifications the service worker registration holds now, read as the page sees them. */
async function shownNotifications(page: Page): Promise<Shown[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      data: n.data as unknown
    }));
  });
}

/**
 * Opens `path` under the service worker's control. A page that was still loading when the worker
 * claimed its clients can stay uncontrolled, so reload once in that case.
 */
async function gotoControlled(page: Page, path: string): Promise<void> {
  await gotoReady(page, path);
  const controlled = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    return navigator.serviceWorker.controller !== null;
  });
  if (!controlled) await gotoReady(page, path);
  await waitForServiceWorkerControl(page);
}

/** Turns notifications on from Settings, as the user would (permission already granted). */
async function enableNotifications(page: Page): Promise<void> {
  await gotoControlled(page, '/settings');
  const toggle = page.getByTestId('notifications-toggle');
  await expect(toggle).toHaveAttribute('data-state', 'off');
  await toggle.click();
  await expect(toggle).toHaveAttribute('data-state', 'on');
  await expect(toggle).toHaveAttribute('aria-checked', 'true');
}

async function pasteBundle(page: Page, bundle: string): Promise<void> {
  await page.getByTestId('intake-paste').fill(bundle);
  await page.getByTestId('intake-submit').click();
}

test.beforeEach(async ({ context, baseURL }) => {
  await context.grantPermissions(['notifications'], { origin: baseURL! });
});

test('with notifications on, a bundle that needs review shows one notification that opens it', async ({
  page
}) => {
  const w = cliWorkspace('notify');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await enableNotifications(page);
  const changes = (await auditRecords(page)).filter((r) => r.event === 'settings.changed');
  expect(changes.map((r) => r.details)).toContainEqual({
    setting: 'notifications',
    from: 'off',
    to: 'on'
  });

  await gotoReady(page, '/inbox');
  await pasteBundle(page, bundle);
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending');
  const reviewLink = await request.getByTestId('request-review').getAttribute('href');
  await expect.poll(() => shownNotifications(page), { timeout: 15_000 }).toHaveLength(1);
  const [shown] = await shownNotifications(page);
  expect(shown?.title).toBe('A request needs review');
  expect(shown?.body).toBe('hello 1.0.0 is waiting for your decision.');
  expect(shown?.tag).toBe('nightcore-review');
  expect(shown?.data).toEqual({ url: reviewLink });
  expect(reviewLink).toMatch(/^\/review\?id=[0-9a-f-]{36}$/);

  // Two more in one intake: one summary replaces the notice (same tag), pointing at the Inbox.
  await page.getByTestId('intake-file').setInputFiles([
    { name: 'a.ncb', mimeType: 'application/json', buffer: Buffer.from(bundle) },
    { name: 'b.ncb', mimeType: 'application/json', buffer: Buffer.from(bundle) }
  ]);
  await expect(page.getByTestId('request')).toHaveCount(3);
  await expect
    .poll(async () => (await shownNotifications(page)).map((n) => n.title))
    .toEqual(['2 requests need review']);
  const [summary] = await shownNotifications(page);
  expect(summary?.body).toBe('hello 1.0.0, hello 1.0.0.');
  expect(summary?.data).toEqual({ url: '/inbox' });
});

test('with notifications off (the default), taking in a request shows nothing', async ({
  page
}) => {
  const w = cliWorkspace('notify-off');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await gotoControlled(page, '/settings');
  await expect(page.getByTestId('notifications-toggle')).toHaveAttribute('data-state', 'off');
  await gotoReady(page, '/inbox');
  await pasteBundle(page, bundle);
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'pending');
  // Give a wrongly sent notification the time to appear before saying there is none.
  await page.waitForTimeout(500);
  expect(await shownNotifications(page)).toEqual([]);
});

test('a name carrying HTML stays literal text in the notification body', async ({ page }) => {
  const w = cliWorkspace('notify-html');
  const module = w.fixture('hello');
  w.nightcore('sign', module, '--key', 'alice.key', '--detached', 'minisign');
  await pinKey(page, w.text('alice.minisign.pub'));
  await enableNotifications(page);
  const evil = '<img src=x onerror=window.pwned=1>';
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles([
    { name: `${evil}.wasm`, mimeType: 'application/wasm', buffer: readFileSync(module) },
    {
      name: `${evil}.wasm.minisig`,
      mimeType: 'application/octet-stream',
      buffer: readFileSync(`${module}.minisig`)
    }
  ]);
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'pending');
  await expect.poll(() => shownNotifications(page), { timeout: 15_000 }).toHaveLength(1);
  const [shown] = await shownNotifications(page);
  expect(shown?.body).toBe(`${evil}.wasm is waiting for your decision.`);
  expect(shown?.title).toBe('A request needs review');
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});

test('denied permission shows as denied with how to undo it, and the toggle cannot turn it on', async ({
  page,
  context
}) => {
  await context.clearPermissions();
  // Chromium answers a page's request at once when the permission is blocked for the site.
  const cdp = await context.newCDPSession(page);
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  await gotoReady(page, '/settings');
  await cdp.send('Browser.setPermission', {
    permission: { name: 'notifications' },
    setting: 'denied',
    origin: new URL(page.url()).origin,
    ...(targetInfo.browserContextId ? { browserContextId: targetInfo.browserContextId } : {})
  });
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  const toggle = page.getByTestId('notifications-toggle');
  await expect(toggle).toHaveAttribute('data-state', 'denied');
  await expect(page.getByTestId('notifications-state')).toContainText('site settings');
  await toggle.click();
  await expect(toggle).toHaveAttribute('data-state', 'denied');
  const changes = (await auditRecords(page)).filter((r) => r.event === 'settings.changed');
  expect(changes.filter((r) => r.details.setting === 'notifications')).toEqual([]);
});

test('the app icon badge is set to the pending count after intake and cleared after a decision', async ({
  page
}) => {
  // Record the page's badge calls while still calling the browser's own methods.
  await page.addInitScript(() => {
    const calls: (number | 'clear')[] = [];
    (window as { badgeCalls?: typeof calls }).badgeCalls = calls;
    const proto = Navigator.prototype;
    const set = proto.setAppBadge;
    const clear = proto.clearAppBadge;
    proto.setAppBadge = function (count?: number) {
      calls.push(count ?? 0);
      return set.call(this, count);
    };
    proto.clearAppBadge = function () {
      calls.push('clear');
      return clear.call(this);
    };
  });
  const badgeCalls = () =>
    page.evaluate(() => (window as { badgeCalls?: (number | 'clear')[] }).badgeCalls ?? []);
  const w = cliWorkspace('badge');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  expect(await page.evaluate(() => typeof Navigator.prototype.setAppBadge)).toBe('function');
  await expect.poll(badgeCalls).toEqual(['clear']);

  await page.getByTestId('intake-file').setInputFiles([
    { name: 'a.ncb', mimeType: 'application/json', buffer: Buffer.from(bundle) },
    { name: 'b.ncb', mimeType: 'application/json', buffer: Buffer.from(bundle) }
  ]);
  await expect(page.getByTestId('request')).toHaveCount(2);
  await expect.poll(async () => (await badgeCalls()).at(-1)).toBe(2);

  await page.getByTestId('approve').first().click();
  await expect.poll(async () => (await badgeCalls()).at(-1)).toBe(1);
  await page.getByTestId('deny').first().click();
  await expect.poll(async () => (await badgeCalls()).at(-1)).toBe('clear');
  await expect(page.getByTestId('pending-count')).toHaveCount(0);
});

test('only the tab that took the request in notifies, and turning it off is audited and holds', async ({
  page,
  context
}) => {
  // Count each page's own showNotification calls (the shared tag would hide a duplicate).
  await context.addInitScript(() => {
    const calls: string[] = [];
    (window as { shownTitles?: string[] }).shownTitles = calls;
    const proto = ServiceWorkerRegistration.prototype;
    const show = proto.showNotification;
    proto.showNotification = function (title: string, options?: NotificationOptions) {
      calls.push(title);
      return show.call(this, title, options);
    };
  });
  const shownTitles = (p: Page) =>
    p.evaluate(() => (window as { shownTitles?: string[] }).shownTitles ?? []);
  const w = cliWorkspace('notify-tabs');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await enableNotifications(page);
  const other = await context.newPage();
  await gotoControlled(other, '/inbox');

  await gotoReady(page, '/inbox');
  await pasteBundle(page, bundle);
  await expect(other.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await expect
    .poll(() => shownTitles(page), { timeout: 15_000 })
    .toEqual(['A request needs review']);
  await page.waitForTimeout(500);
  expect(await shownTitles(other)).toEqual([]);

  // Off from the other tab: this tab reads the setting at intake, so it stays quiet.
  await gotoControlled(other, '/settings');
  await other.getByTestId('notifications-toggle').click();
  await expect(other.getByTestId('notifications-toggle')).toHaveAttribute('data-state', 'off');
  await pasteBundle(page, bundle);
  await expect(page.getByTestId('pending-count')).toHaveAttribute('data-count', '2');
  await page.waitForTimeout(500);
  expect(await shownTitles(page)).toEqual(['A request needs review']);
  const changes = (await auditRecords(page))
    .filter((r) => r.event === 'settings.changed' && r.details.setting === 'notifications')
    .map((r) => [r.details.from, r.details.to]);
  expect(changes).toEqual([
    ['off', 'on'],
    ['on', 'off']
  ]);
});
