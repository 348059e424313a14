/**
 * Two tabs on different schema versions (an old tab left open when a new version with a newer
 * database schema loads in another). IndexedDB makes the newer open wait while any older
 * connection stays open. The newer tab says it is waiting instead of hanging blank; the older tab
 * lets go of the database once no run of its own has an outcome left to write, then asks for a
 * reload. The "other tab" is a page on /favicon.svg holding a raw IndexedDB connection: the
 * browser's own rules, no app code, on both sides.
 */
import { expect, test, type Page } from '@playwright/test';
import { auditReady, gotoReady } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runEnded, runReady } from './workspace';

/** Opens `nightcore` at `version` in a bare page and keeps the connection (window.__held). */
async function holdDatabase(page: Page, version: number): Promise<number> {
  return page.evaluate(
    (version) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('nightcore', version);
        open.onupgradeneeded = () => {
          // Version 1 as rung 1 makes it, so the app's own ladder can climb from it.
          if (version !== 1) return;
          const db = open.result;
          db.createObjectStore('keys', { keyPath: 'id' }).createIndex('byTrust', 'trust');
          db.createObjectStore('policies', { keyPath: 'version' });
          const requests = db.createObjectStore('requests', { keyPath: 'id' });
          requests.createIndex('byState', 'state');
          requests.createIndex('byCreated', 'createdAt');
          requests.createIndex('byModule', 'moduleSha256');
          db.createObjectStore('modules', { keyPath: 'sha256' });
          const runs = db.createObjectStore('runs', { keyPath: 'id' });
          runs.createIndex('byRequest', 'requestId');
          runs.createIndex('byStarted', 'startedAt');
          const audit = db.createObjectStore('audit', { keyPath: 'seq' });
          audit.createIndex('byEvent', 'event');
          audit.createIndex('byTime', 'time');
          db.createObjectStore('meta', { keyPath: 'name' });
        };
        open.onsuccess = () => {
          (window as unknown as { __held: IDBDatabase }).__held = open.result;
          resolve(open.result.version);
        };
        open.onerror = () => reject(open.error);
      }),
    version
  );
}

test('a tab that needs a newer schema says it is waiting for the older tab, then goes on when it closes', async ({
  page,
  context
}) => {
  const older = await context.newPage();
  await older.goto('/favicon.svg');
  expect(await holdDatabase(older, 1)).toBe(1);

  await page.goto('/');
  const banner = page.getByTestId('db-banner');
  await expect(banner).toHaveAttribute('data-db', 'blocked');
  await expect(banner).toContainText('Waiting for another Night Core tab');

  await older.evaluate(() => (window as unknown as { __held: IDBDatabase }).__held.close());
  await expect(banner).toHaveCount(0);
  await auditReady(page);
  await gotoReady(page, '/settings');
  await expect(page.getByTestId('db-banner')).toHaveCount(0);
});

test('a tab holding the database lets a newer one upgrade once its run has ended and is stored, then asks for a reload', async ({
  page,
  context
}) => {
  test.setTimeout(60_000);
  const w = cliWorkspace('db-tabs');
  const bundle = w.bundle('loop', '--timeout-ms', '3000');
  await pinKey(page, w.text('alice.pub'));
  await approveBundle(page, bundle);
  const run = await runReady(page, 'loop');
  await expect(run).toHaveAttribute('data-status', 'running');

  // A newer schema asks for the database while the loop still runs: it must wait for the run.
  const newer = await context.newPage();
  await newer.goto('/favicon.svg');
  const upgraded = holdDatabase(newer, 1000);
  await runEnded(run, 'timeout');
  expect(await upgraded).toBe(1000);
  await expect(page.getByTestId('db-banner')).toHaveAttribute('data-db', 'closed');
  await expect(page.getByTestId('db-banner')).toContainText('reload this tab');

  // The run's outcome was written before the connection closed.
  const stored = await newer.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const db = (window as unknown as { __held: IDBDatabase }).__held;
        const all = db.transaction('runs').objectStore('runs').getAll();
        all.onsuccess = () => resolve(all.result.map((row: { status?: string }) => row.status!));
        all.onerror = () => reject(all.error);
      })
  );
  expect(stored).toEqual(['timeout']);
});
