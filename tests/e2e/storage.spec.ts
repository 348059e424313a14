import { expect, test } from '@playwright/test';
import { gotoReady } from './helpers';

test('IndexedDB holds the v1 schema with every store', async ({ page }) => {
  await gotoReady(page, '/settings');
  await expect(page.getByTestId('store-counts')).toBeVisible();
  const schema = await page.evaluate(async () => {
    const databases = await indexedDB.databases();
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const stores = [...db.objectStoreNames].sort();
    const tx = db.transaction('requests', 'readonly');
    const indexes = [...tx.objectStore('requests').indexNames].sort();
    db.close();
    return { databases: databases.map((d) => [d.name, d.version]), stores, indexes };
  });
  expect(schema.databases).toContainEqual(['nightcore', 1]);
  expect(schema.stores).toEqual([
    'audit',
    'keys',
    'meta',
    'modules',
    'policies',
    'requests',
    'runs'
  ]);
  expect(schema.indexes).toEqual(['byCreated', 'byModule', 'byState']);
  for (const store of schema.stores) {
    await expect(page.getByTestId('store-counts').getByRole('row', { name: store })).toContainText(
      '0'
    );
  }
});

test('Settings shows the quota used and asks for persistent storage on the first user action', async ({
  page
}) => {
  await gotoReady(page, '/settings');
  await expect(page.getByTestId('quota')).toContainText(
    /Using \d+(\.\d)? (B|KiB|MiB) of [\d.]+ (MiB|GiB|TiB) available/
  );
  const before = await page.getByTestId('persistence').getAttribute('data-state');
  expect(['not-persisted', 'persisted']).toContain(before);
  const asked = page.evaluate(
    () =>
      new Promise<boolean>((resolve) => {
        const original = navigator.storage.persist.bind(navigator.storage);
        navigator.storage.persist = async () => {
          resolve(true);
          return original();
        };
      })
  );
  await page.locator('h1').click(); // any user action
  expect(await asked).toBe(true);
  // The browser's answer is shown: granted, or refused with what to do about it.
  await expect(page.getByTestId('persistence')).toHaveAttribute(
    'data-state',
    /^(persisted|denied)$/
  );
  const actual = await page.evaluate(() => navigator.storage.persisted());
  await expect(page.getByTestId('persistence')).toHaveAttribute(
    'data-state',
    actual ? 'persisted' : 'denied'
  );
});
