import { expect, test } from '@playwright/test';
import { auditReady, auditRecords, gotoReady } from './helpers';

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
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto'); // both writes done
  await page.reload();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
  const changes = (await auditRecords(page))
    .filter((r) => r.event === 'settings.changed' && r.details.setting === 'run-mode')
    .map((r) => `${r.details.from}->${r.details.to}`);
  expect(changes).toEqual(['review->lockdown', 'lockdown->auto']);
});
