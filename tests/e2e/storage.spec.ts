import { expect, test } from '@playwright/test';
import { auditReady, auditRecords, gotoReady, reloadReady } from './helpers';

test('IndexedDB holds the current schema with every store, and Settings counts its records', async ({
  page
}) => {
  await gotoReady(page, '/settings');
  await auditReady(page);
  const schema = await page.evaluate(async () => {
    const databases = await indexedDB.databases();
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const stores = [...db.objectStoreNames].sort();
    const tx = db.transaction(stores, 'readonly');
    const indexes = [...tx.objectStore('requests').indexNames].sort();
    const counts: Record<string, number> = {};
    await Promise.all(
      stores.map(
        (store) =>
          new Promise<void>((resolve) => {
            const request = tx.objectStore(store).count();
            request.onsuccess = () => resolve(void (counts[store] = request.result));
          })
      )
    );
    db.close();
    return { databases: databases.map((d) => [d.name, d.version]), stores, indexes, counts };
  });
  expect(schema.databases).toContainEqual(['nightcore', 3]);
  expect(schema.stores).toEqual([
    'audit',
    'checkpoints',
    'keys',
    'meta',
    'modules',
    'policies',
    'requests',
    'runOutputs',
    'runs'
  ]);
  expect(schema.indexes).toEqual(['byCreated', 'byModule', 'byState']);
  // The audit log holds at least the device key's creation; the meta store holds the key.
  expect(schema.counts.audit).toBeGreaterThan(0);
  await page.reload();
  await expect(page.getByTestId('store-counts')).toBeVisible();
  for (const store of ['keys', 'policies', 'requests', 'modules', 'runs', 'meta']) {
    const row = page
      .getByTestId('store-counts')
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: store, exact: true }) });
    await expect(row.getByRole('cell')).toHaveText(String(schema.counts[store]));
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

  // The answer is recorded once, not again on every page load's first click; asking again from
  // Settings is the user's act and is recorded.
  const asks = async () =>
    (await auditRecords(page)).filter(
      (r) => r.event === 'settings.changed' && r.details.setting === 'persistent-storage'
    );
  await expect.poll(async () => (await asks()).length).toBe(1);
  expect((await asks())[0]!.details).toEqual({
    setting: 'persistent-storage',
    requested: true,
    granted: actual
  });
  for (let i = 0; i < 2; i++) {
    await reloadReady(page);
    const askedAgain = page.evaluate(
      () =>
        new Promise<boolean>((resolve) => {
          const original = navigator.storage.persist.bind(navigator.storage);
          navigator.storage.persist = async () => {
            const answer = await original();
            setTimeout(() => resolve(true), 200); // after the answer is handled
            return answer;
          };
        })
    );
    await page.locator('h1').click();
    expect(await askedAgain).toBe(true);
  }
  expect(await asks()).toHaveLength(1);
  const askButton = page.getByRole('button', { name: /ask again|persistent/i });
  if (!actual) {
    await askButton.click();
    await expect.poll(async () => (await asks()).length).toBe(2);
  }
});
