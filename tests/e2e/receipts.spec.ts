import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditReady, gotoReady } from './helpers';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/wasm/', import.meta.url).pathname;

// The small helpers below are copied from runs.spec.ts.
function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-receipts-'));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  const nightcore = (...args: string[]) => {
    const result = cli(...args);
    if (result.status !== 0) throw new Error(`nightcore ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  nightcore('keygen', '--out', 'alice');
  /** Signs a fixture as NAME-VERSION.ncb and returns the bundle text. */
  const bundle = (fixture: string) => {
    copyFileSync(join(FIXTURES, `${fixture}.wasm`), join(dir, `${fixture}.wasm`));
    nightcore(
      'sign',
      `${fixture}.wasm`,
      '--key',
      'alice.key',
      '--version',
      '1.0.0',
      '--out',
      `${fixture}.ncb`
    );
    return readFileSync(join(dir, `${fixture}.ncb`), 'utf8');
  };
  return { dir, cli, bundle, text: (name: string) => readFileSync(join(dir, name), 'utf8') };
}

async function setup(page: Page, w: ReturnType<typeof workspace>) {
  await gotoReady(page, '/keys');
  await auditReady(page);
  await page.getByTestId('key-import').fill(w.text('alice.pub'));
  await page.getByTestId('key-label').fill('alice');
  await page.getByTestId('key-import-submit').click();
  await expect(page.getByTestId('key-import-result')).toContainText('Pinned 1 key.');
}

async function approve(page: Page, bundleText: string) {
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(bundleText);
  await page.getByTestId('intake-submit').click();
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending');
  await request.getByTestId('approve').click();
  await expect(request).toHaveAttribute('data-state', 'approved');
}

test('a run receipt downloads and verifies with the device key; one byte changed is rejected', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('hello'));
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
