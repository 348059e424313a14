/**
 * Issue 9, faults: a reload or a closed tab in the middle of an approval, an intake of a large
 * module, and a run. Afterwards the stored rows are whole or absent (faults-idb.ts lists the
 * invariants and checks them straight in IndexedDB), the chain verifies, and the UI says what
 * happened. Where the fault lands is up to the browser; the invariants must hold wherever it does.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditReady, gotoReady } from './helpers';
import { brokenInvariants, checkChain, readRows } from './faults-idb';
import { FIXTURES, approveBundle, cliWorkspace, pinKey, runReady } from './workspace';

const PENDING = '[data-testid="request"][data-state="pending"]';

/** Takes `count` copies of one bundle in at once (each copy is its own pending request). */
async function pendingCopies(page: Page, bundle: string, count: number) {
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(
    Array.from({ length: count }, (_, i) => ({
      name: `copy-${i}.ncb`,
      mimeType: 'application/json',
      buffer: Buffer.from(bundle)
    }))
  );
  await expect(page.locator('[data-testid="request"][data-state="pending"]')).toHaveCount(count, {
    timeout: 20_000
  });
}

/** Clicks a pending request's button and reloads after `delayMs`, from inside the page. */
async function clickThenReload(page: Page, button: string, delayMs: number) {
  await expect(page.locator(PENDING).first()).toBeVisible();
  const navigated = page.waitForEvent('framenavigated');
  await page.evaluate(
    ({ button, delayMs }) => {
      document
        .querySelector<HTMLButtonElement>(
          `[data-testid="request"][data-state="pending"] [data-testid="${button}"]`
        )!
        .click();
      setTimeout(() => location.reload(), delayMs);
    },
    { button, delayMs }
  );
  await navigated;
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1, { timeout: 15_000 });
}

test('a reload or a closed tab at any point of a decision leaves it whole or absent, never half', async ({
  context,
  page
}) => {
  test.setTimeout(180_000);
  const w = cliWorkspace('faults-decide');
  await pinKey(page, w.text('alice.pub'));
  const delays = [0, 1, 3, 6, 10, 20, 40, 80, 160];
  await pendingCopies(page, w.bundle('hello'), delays.length * 2);

  // Reloads, from at once to well after the click.
  for (const [i, delay] of delays.entries()) {
    await clickThenReload(page, i % 2 ? 'approve' : 'deny', delay);
    await auditReady(page);
  }
  // Closed tabs: another tab of the same profile stays open and looks afterwards.
  for (const [i, delay] of delays.entries()) {
    const doomed = await context.newPage();
    await gotoReady(doomed, '/inbox');
    await expect(doomed.locator(PENDING).first()).toBeVisible();
    await doomed.evaluate(
      ({ button }) =>
        document
          .querySelector<HTMLButtonElement>(
            `[data-testid="request"][data-state="pending"] [data-testid="${button}"]`
          )!
          .click(),
      { button: i % 2 ? 'approve' : 'deny' }
    );
    await doomed.waitForTimeout(delay);
    await doomed.close();
  }

  await gotoReady(page, '/inbox');
  await auditReady(page);
  const rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);
  const decided = rows.requests.filter((r) => r.state !== 'pending').length;
  test.info().annotations.push({
    type: 'landed',
    description: `${decided} of ${delays.length * 2} decisions took effect before the fault`
  });
  // The Inbox shows every request as stored: decided ones decided, the rest still pending.
  for (const state of ['pending', 'approved', 'denied']) {
    await expect(page.locator(`[data-testid="request"][data-state="${state}"]`)).toHaveCount(
      rows.requests.filter((r) => r.state === state).length
    );
  }
  expect(await checkChain(page)).toMatchObject({ status: 'ok', brokenSeq: null });
  // And a request left pending can still be decided: nothing is stuck.
  if (decided < rows.requests.length) {
    const left = page.locator('[data-testid="request"][data-state="pending"]').first();
    await left.getByTestId('deny').click();
    await expect(page.getByTestId('intake-result')).toContainText('denied');
    expect(brokenInvariants(await readRows(page))).toEqual([]);
  }
});

test('a reload while a 48 MiB module is hashed, and a tab closed while it is read, leave no half request', async ({
  context,
  page
}) => {
  test.setTimeout(180_000);
  const w = cliWorkspace('faults-intake');
  await pinKey(page, w.text('alice.pub'));
  // hello plus a 48 MiB custom section: a valid command, large enough to take a while to hash.
  const hello = readFileSync(join(FIXTURES, 'hello.wasm'));
  const payload = 48 * 1024 * 1024;
  const section = Buffer.from('\u0003pad', 'latin1');
  const leb: number[] = [];
  for (let rest = payload + section.length; ;) {
    const byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    leb.push(rest > 0 ? byte | 0x80 : byte);
    if (rest === 0) break;
  }
  const module = Buffer.concat([hello, Buffer.from([0]), Buffer.from(leb), section]);
  writeFileSync(join(w.dir, 'big.wasm'), Buffer.concat([module, Buffer.alloc(payload)]));
  w.nightcore('sign', 'big.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'big.ncb');
  const big = join(w.dir, 'big.ncb');

  // 1. Reload while it is verified (hashed).
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(big);
  await expect(page.getByTestId('intake-progress')).toHaveAttribute('data-stage', 'verifying', {
    timeout: 30_000
  });
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  await auditReady(page);
  let rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);
  await expect(page.getByTestId('request')).toHaveCount(rows.requests.length);

  // 2. Close the tab while the file is read; this page keeps the profile.
  const doomed = await context.newPage();
  await gotoReady(doomed, '/inbox');
  await doomed.getByTestId('intake-file').setInputFiles(big);
  await expect(doomed.getByTestId('intake-progress')).toBeVisible({ timeout: 30_000 });
  await doomed.close();
  await page.reload();
  await auditReady(page);
  rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);

  // 3. Uninterrupted, it is taken in whole: bytes, request and records together.
  const before = rows.requests.length;
  await page.getByTestId('intake-file').setInputFiles(big);
  await expect(page.locator('[data-testid="request"][data-state="pending"]')).toHaveCount(
    before + 1,
    { timeout: 60_000 }
  );
  rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);
  expect(rows.modules.map((m) => m.size)).toContain(module.length + payload);
  expect(await checkChain(page)).toMatchObject({ status: 'ok', brokenSeq: null });
});

test('a tab closed mid-run leaves the run interrupted, shown and recorded once, in the tab still open', async ({
  context,
  page
}) => {
  const w = cliWorkspace('faults-close-run');
  await pinKey(page, w.text('alice.pub'));
  await approveBundle(page, w.bundle('loop', '--timeout-ms', '60000'));
  await gotoReady(page, '/');
  const doomed = await context.newPage();
  const loop = await runReady(doomed, 'loop');
  await expect(loop).toHaveAttribute('data-status', 'running');
  await doomed.close();

  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run').first()).toHaveAttribute('data-status', 'interrupted');
  const rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);
  expect(rows.runs.map((r) => r.status)).toEqual(['interrupted']);
  expect(rows.audit.filter((r) => r.event === 'run.interrupted')).toHaveLength(1);
  expect(rows.requests.map((r) => r.state)).toEqual(['done']);
  await gotoReady(page, '/audit');
  await expect(page.getByTestId('audit-status')).toHaveAttribute('data-chain', 'ok');
});
