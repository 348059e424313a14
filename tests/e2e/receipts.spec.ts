import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditReady, gotoReady } from './helpers';
import { approveBundle, cliWorkspace, pinKey } from './workspace';

test('a run receipt downloads and verifies with the device key; one byte changed is rejected', async ({
  page
}) => {
  const w = cliWorkspace('receipts');
  await pinKey(page, w.text('alice.pub'));
  await approveBundle(page, w.bundle('hello'));
  await gotoReady(page, '/runs');
  await page.getByTestId('run-ready').filter({ hasText: 'hello' }).getByTestId('run-start').click();
  const hello = page.getByTestId('run').filter({ hasText: 'hello' }).first();
  await expect(hello).toHaveAttribute('data-status', 'exited');
  const runId = (await hello.getAttribute('data-run-id'))!;

  const [receiptDownload] = await Promise.all([
    page.waitForEvent('download'),
    hello.getByTestId('run-receipt').click()
  ]);
  expect(receiptDownload.suggestedFilename()).toBe(`hello-${runId.slice(0, 8)}.receipt.json`);
  await receiptDownload.saveAs(join(w.dir, 'run.receipt.json'));

  await gotoReady(page, '/settings');
  await auditReady(page);
  const vkey = await page.getByTestId('device-vkey').textContent();
  const [keyDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download public key' }).click()
  ]);
  await keyDownload.saveAs(join(w.dir, 'device.vkey'));
  expect(w.text('device.vkey')).toBe(`${vkey}\n`);

  const receipt = JSON.parse(w.text('run.receipt.json'));
  expect(receipt.receipt).toMatchObject({
    type: 'nightcore.receipt/v1',
    runId,
    name: 'hello',
    version: '1.0.0',
    approval: { by: 'human', action: 'approve' },
    outcome: { status: 'exited', exitCode: 0, stdoutBytes: 16, truncated: false }
  });
  writeFileSync(join(w.dir, 'stdout.txt'), 'hello from wasm\n');
  const ok = w.cli(
    'receipt',
    'verify',
    'run.receipt.json',
    '--key',
    'device.vkey',
    '--stdout',
    'stdout.txt'
  );
  expect(ok.stderr).toBe('');
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain(`verified: run ${runId} of hello 1.0.0 exited (exit 0)`);

  // One byte of the module hash changed.
  const text = w.text('run.receipt.json');
  const at = text.indexOf('"sha256":"') + 10;
  const altered = text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1);
  expect(altered.length).toBe(text.length);
  writeFileSync(join(w.dir, 'altered.receipt.json'), altered);
  const rejected = w.cli('receipt', 'verify', 'altered.receipt.json', '--key', 'device.vkey');
  expect(rejected.status).toBe(1);
  expect(rejected.stderr).toContain('receipt.signature');
});
