import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditReady, auditRecords, gotoReady, reloadReady } from './helpers';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const HELLO = new URL('../fixtures/wasm/hello.wasm', import.meta.url).pathname;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-inbox-'));
  const nightcore = (...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`nightcore ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  copyFileSync(HELLO, join(dir, 'hello.wasm'));
  nightcore('keygen', '--out', 'alice');
  nightcore('keygen', '--out', 'mallory');
  const path = (name: string) => join(dir, name);
  const text = (name: string) => readFileSync(path(name), 'utf8');
  return { dir, nightcore, path, text };
}

async function pinKey(page: Page, text: string, label: string) {
  await gotoReady(page, '/keys');
  await auditReady(page);
  await page.getByTestId('key-import').fill(text);
  await page.getByTestId('key-label').fill(label);
  await page.getByTestId('key-import-submit').click();
  await expect(page.getByTestId('key-import-result')).toContainText('Pinned 1 key.');
}

async function paste(page: Page, bundleText: string) {
  await page.getByTestId('intake-paste').fill(bundleText);
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('intake-result')).toContainText('received');
}

test('bundles are verified against pinned keys and queued with every reason; all is audited', async ({
  page
}) => {
  const w = workspace();
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.0',
    '--out',
    'good.ncb'
  );
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'mallory.key',
    '--version',
    '1.0.0',
    '--out',
    'stranger.ncb'
  );
  const good = JSON.parse(w.text('good.ncb'));
  const module = Buffer.from(good.module, 'base64');
  module[module.length - 1]! ^= 1;
  writeFileSync(
    w.path('tampered.ncb'),
    JSON.stringify({ ...good, module: module.toString('base64') })
  );

  await pinKey(page, w.text('alice.ssh.pub'), 'alice');
  await gotoReady(page, '/inbox');
  await paste(page, w.text('good.ncb'));
  const first = page.getByTestId('request').first();
  await expect(first.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(first).toHaveAttribute('data-state', 'pending');
  await expect(first.locator('.name')).toHaveText('hello');

  await paste(page, w.text('tampered.ncb'));
  await expect(page.getByTestId('request').first().getByTestId('verdict')).toHaveAttribute(
    'data-verdict',
    'rejected'
  );
  await expect(page.getByTestId('request').first()).toContainText('module.digest-mismatch');

  await paste(page, Buffer.from(w.text('stranger.ncb')).toString('base64'));
  await expect(page.getByTestId('request').first().getByTestId('verdict')).toHaveAttribute(
    'data-verdict',
    'untrusted'
  );

  await page.getByTestId('intake-paste').fill('definitely not a bundle');
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('intake-result')).toHaveAttribute('role', 'alert');

  // A file name is text from outside too: markup in it stays literal.
  const hostile = '<img src=x onerror=window.pwned=1>.ncb';
  writeFileSync(w.path(hostile), w.text('good.ncb'));
  await page.getByTestId('intake-file').setInputFiles(w.path(hostile));
  await expect(page.getByTestId('request')).toHaveCount(4);
  await expect(page.getByTestId('request').first()).toContainText(hostile);

  await reloadReady(page);
  await expect(page.getByTestId('request')).toHaveCount(4);
  const events = (await auditRecords(page))
    .filter((r) => r.event === 'intake' || r.event === 'verdict')
    .map((r) => `${r.event}:${r.details.verdict ?? r.details.result ?? ''}`);
  expect(events).toEqual([
    'intake:',
    'verdict:verified',
    'intake:',
    'verdict:rejected',
    'intake:',
    'verdict:untrusted',
    'intake:refused',
    'intake:',
    'verdict:verified'
  ]);
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});

test('text pasted while an intake runs is kept; only what was taken in is cleared', async ({
  page
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'ok.ncb');
  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');
  const box = page.getByTestId('intake-paste');
  await box.fill(w.text('ok.ncb'));
  await page.getByTestId('intake-submit').click();
  // The user pastes the next one at once, while the first is being verified and stored.
  const next = 'the next bundle, pasted while the first was taken in';
  await box.fill(next);
  await expect(page.getByTestId('intake-result')).toContainText('1 received');
  await expect(page.getByTestId('request')).toHaveCount(1);
  await expect(page.getByTestId('intake-submit')).toBeEnabled();
  await expect(box).toHaveValue(next);
  // Nothing typed since: the text taken in is cleared.
  await box.fill(w.text('ok.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request')).toHaveCount(2);
  await expect(box).toHaveValue('');
});

test('a .wasm picked with its detached signature is paired and verified; a revoked signer is rejected', async ({
  page
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'minisign');
  await pinKey(page, w.text('alice.minisign.pub'), 'alice');
  await gotoReady(page, '/inbox');
  await page
    .getByTestId('intake-file')
    .setInputFiles([w.path('hello.wasm'), w.path('hello.wasm.minisig')]);
  const first = page.getByTestId('request').first();
  await expect(first.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(first).toContainText('minisign');

  await gotoReady(page, '/keys');
  const card = page.getByTestId('key').first();
  await card.getByRole('combobox').selectOption('revoked');
  await card.getByTestId('key-confirm').click();
  await expect(card).toHaveAttribute('data-trust', 'revoked');

  await gotoReady(page, '/inbox');
  await page
    .getByTestId('intake-file')
    .setInputFiles([w.path('hello.wasm'), w.path('hello.wasm.minisig')]);
  await expect(page.getByTestId('request')).toHaveCount(2);
  const again = page.getByTestId('request').first();
  await expect(again.getByTestId('verdict')).toHaveAttribute('data-verdict', 'rejected');
  await expect(again).toContainText('signature.revoked');
});

test('the policy decides each request: review, auto-approve in auto mode, lockdown, forbidden capability', async ({
  page
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'ok.ncb');
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.1',
    '--capability',
    'fs-write',
    '--out',
    'fs.ncb'
  );
  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');
  const latest = () => page.getByTestId('request').first();

  await paste(page, w.text('ok.ncb')); // review mode (default), signer at trust "review"
  await expect(latest()).toHaveAttribute('data-state', 'pending');
  await expect(latest().getByTestId('policy')).toHaveAttribute('data-outcome', 'review');
  await expect(latest()).toContainText('policy.signer-review');

  await paste(page, w.text('fs.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'rejected');
  await expect(latest()).toContainText('policy.capability');

  // Auto mode with the signer at trust "auto": runs without a click.
  await gotoReady(page, '/keys');
  await page.getByTestId('key').first().getByRole('combobox').selectOption('auto');
  await expect(page.getByTestId('key').first()).toHaveAttribute('data-trust', 'auto');
  await page.getByTestId('run-mode').getByLabel('Auto').check();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
  await gotoReady(page, '/inbox');
  await paste(page, w.text('ok.ncb'));
  // Auto-approved, and the auto lane (on by default) starts it at once.
  await expect(latest()).toHaveAttribute('data-state', /^(auto-approved|running|done)$/);
  await expect(latest().getByTestId('policy')).toHaveAttribute('data-outcome', 'auto-approve');
  // Deny rules hold in auto mode too.
  await paste(page, w.text('fs.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'rejected');

  // Lockdown: intake still verifies and queues, nothing can run.
  await page.getByTestId('run-mode').getByLabel('Lockdown').check();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'lockdown');
  await paste(page, w.text('ok.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'pending');
  await expect(latest().getByTestId('policy')).toContainText('cannot run in this mode');
});

test('decisions: approval survives a reload and is signed; pinning skips review next time; blocking rejects', async ({
  page
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'ok.ncb');
  // A different module (its own hash), so pinning hello does not cover it.
  copyFileSync(new URL('../fixtures/wasm/echo-args.wasm', import.meta.url), w.path('echo.wasm'));
  w.nightcore(
    'sign',
    'echo.wasm',
    '--key',
    'alice.key',
    '--version',
    '2.0.0',
    '--out',
    'other.ncb'
  );
  await pinKey(page, w.text('alice.pub'), 'alice'); // trust "review"
  await page.getByTestId('run-mode').getByLabel('Auto').check();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
  await gotoReady(page, '/inbox');
  const latest = () => page.getByTestId('request').first();

  await paste(page, w.text('ok.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'pending'); // review-trust signer
  await latest().getByTestId('approve').focus();
  await page.keyboard.press('a'); // keyboard shortcut: approve once
  await expect(latest()).toHaveAttribute('data-state', 'approved');
  await reloadReady(page);
  await expect(latest()).toHaveAttribute('data-state', 'approved');
  await expect(latest().getByTestId('decision')).toHaveAttribute('data-action', 'approve');

  // Not pinned: the same bundle asks again. Approve and pin: next time it runs without a click.
  await paste(page, w.text('ok.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'pending');
  await latest().getByTestId('approve-pin').click();
  await expect(latest()).toHaveAttribute('data-state', 'approved');
  await paste(page, w.text('ok.ncb'));
  // Auto-approved, and the auto lane (on by default) starts it at once.
  await expect(latest()).toHaveAttribute('data-state', /^(auto-approved|running|done)$/);
  await expect(latest()).toContainText('policy.pinned');

  // Deny and block a different module: it is rejected from then on, in every mode.
  await paste(page, w.text('other.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'pending');
  await latest().getByTestId('deny-block').click();
  await expect(latest()).toHaveAttribute('data-state', 'denied');
  await paste(page, w.text('other.ncb'));
  await expect(latest()).toHaveAttribute('data-state', 'rejected');
  await expect(latest()).toContainText('policy.blocked');

  const audit = (await auditRecords(page))
    .filter((r) => r.event === 'decision' || r.event === 'policy.version')
    .map((r) => `${r.event}:${r.details.action ?? r.details.change}`);
  expect(audit).toEqual([
    'decision:approve',
    'decision:pin',
    'policy.version:pinned hash',
    'decision:block',
    'policy.version:blocked hash'
  ]);
});
