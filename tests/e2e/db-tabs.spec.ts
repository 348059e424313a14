/**
 * Two tabs on different schema versions (an old tab left open when a new version with a newer
 * database schema loads in another). IndexedDB makes the newer open wait while any older
 * connection stays open. The newer tab says it is waiting instead of hanging blank; the older tab
 * lets go of the database once no run of its own has an outcome left to write, then asks for a
 * reload. The "other tab" is a page on /favicon.svg holding a raw IndexedDB connection: the
 * browser's own rules, no app code, on both sides.
 */
import { expect, test } from '@playwright/test';
import { openRawDatabase } from './faults-idb';
import { auditReady, gotoReady } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runEnded, runReady } from './workspace';

test('a tab that needs a newer schema says it is waiting for the older tab, then goes on when it closes', async ({
  page,
  context
}) => {
  const older = await context.newPage();
  await older.goto('/favicon.svg');
  expect(await openRawDatabase(older, 1, true)).toBe(1);

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
  const upgraded = openRawDatabase(newer, 1000, true);
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
