import { expect, test } from '@playwright/test';
import { auditReady, gotoReady } from './helpers';

test('the run mode switch is on every page, persists across reloads, and each change is audited', async ({
  page
}) => {
  await gotoReady(page, '/');
  await auditReady(page);
  const modes = page.getByTestId('run-mode');
  await expect(modes).toHaveAttribute('data-mode', 'review');
  await modes.getByLabel('Lockdown').check();
  await expect(modes).toHaveAttribute('data-mode', 'lockdown');
  await gotoReady(page, '/settings');
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'lockdown');
  await page.getByTestId('run-mode').getByLabel('Auto').check();
  await page.reload();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
  const changes = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
    });
    const rows = await new Promise<{ event: string; details: Record<string, unknown> }[]>(
      (resolve) => {
        const request = db.transaction('audit').objectStore('audit').getAll();
        request.onsuccess = () => resolve(request.result);
      }
    );
    db.close();
    return rows
      .filter((r) => r.event === 'settings.changed' && r.details.setting === 'run-mode')
      .map((r) => `${r.details.from}->${r.details.to}`);
  });
  expect(changes).toEqual(['review->lockdown', 'lockdown->auto']);
});
