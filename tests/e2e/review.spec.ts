/**
 * The attacker's side of review: bundles built with the real CLI (and then tampered with in this
 * process) are each rejected or flagged with the right reason code, the Review page shows drift
 * and its diff, a grant can be lowered but never raised, and markup in a manifest stays text.
 */
import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  auditReady,
  auditRecords,
  gotoReady,
  watchForProblems,
  alterStoredModules
} from './helpers';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/wasm/${name}`, import.meta.url).pathname;

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-review-'));
  const nightcore = (...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`nightcore ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  copyFileSync(fixture('hello.wasm'), join(dir, 'hello.wasm'));
  copyFileSync(fixture('echo-args.wasm'), join(dir, 'echo.wasm'));
  nightcore('keygen', '--out', 'alice');
  nightcore('keygen', '--out', 'mallory');
  const path = (name: string) => join(dir, name);
  const text = (name: string) => readFileSync(path(name), 'utf8');
  const json = (name: string) => JSON.parse(text(name));
  /** Signs `module` as `out` with alice unless told otherwise. */
  const sign = (module: string, out: string, ...more: string[]) =>
    nightcore('sign', module, '--key', 'alice.key', '--out', out, ...more);
  return { dir, nightcore, path, text, json, sign };
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
  const before = await page.getByTestId('request').count();
  await page.getByTestId('intake-paste').fill(bundleText);
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('intake-result')).toContainText('received');
  await expect(page.getByTestId('request')).toHaveCount(before + 1);
}

const latest = (page: Page) => page.getByTestId('request').first();

/** Opens the newest request's Review page through its Inbox link. */
async function openReview(page: Page) {
  await latest(page).getByTestId('request-review').click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
}

test('each attack is rejected or flagged with its reason code on the request', async ({ page }) => {
  const w = workspace();
  w.sign('hello.wasm', 'good.ncb', '--version', '1.0.0');
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
  w.sign('echo.wasm', 'other.ncb', '--name', 'hello', '--version', '1.0.0');
  w.sign('hello.wasm', 'expired.ncb', '--version', '1.0.0', '--expires', '2020-01-01T00:00:00Z');

  const good = w.json('good.ncb');
  const stranger = w.json('stranger.ncb');
  const other = w.json('other.ncb');
  // Tampered: one module byte changed after signing.
  const bytes = Buffer.from(good.module, 'base64');
  bytes[bytes.length - 1]! ^= 1;
  const tampered = JSON.stringify({ ...good, module: bytes.toString('base64') });
  // Forged: mallory's signature relabelled with alice's key id.
  const forged = JSON.stringify({
    ...stranger,
    envelope: {
      ...stranger.envelope,
      signatures: [{ ...stranger.envelope.signatures[0], keyid: good.envelope.signatures[0].keyid }]
    }
  });
  // Swapped: alice's real signature over hello's manifest, moved onto another bundle.
  const swapped = JSON.stringify({
    ...other,
    envelope: { ...other.envelope, signatures: good.envelope.signatures }
  });

  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');
  const cases: { name: string; bundle: string; state: string; codes: string[] }[] = [
    {
      name: 'tampered',
      bundle: tampered,
      state: 'rejected',
      codes: ['module.digest-mismatch', 'policy.verification']
    },
    { name: 'forged', bundle: forged, state: 'rejected', codes: ['signature.invalid'] },
    { name: 'swapped', bundle: swapped, state: 'rejected', codes: ['signature.invalid'] },
    {
      name: 'unknown signer',
      bundle: w.text('stranger.ncb'),
      state: 'pending',
      codes: ['policy.unknown-signer']
    },
    {
      name: 'expired',
      bundle: w.text('expired.ncb'),
      state: 'rejected',
      codes: ['manifest.expired', 'policy.expired']
    }
  ];
  for (const c of cases) {
    await paste(page, c.bundle);
    await expect(latest(page), c.name).toHaveAttribute('data-state', c.state);
    for (const code of c.codes) await expect(latest(page), c.name).toContainText(code);
    // The Review page carries the same reasons, and offers no approval for a rejected one.
    await openReview(page);
    const review = page.getByTestId('review');
    await expect(review, c.name).toHaveAttribute('data-request-state', c.state);
    for (const code of c.codes.filter((x) => x.startsWith('policy.'))) {
      await expect(
        review.locator(`[data-testid="review-flag"][data-flag="${code.slice(7)}"]`),
        `${c.name}: ${code}`
      ).toHaveCount(1);
    }
    if (c.state === 'rejected') await expect(review.getByTestId('approve')).toHaveCount(0);
    await page.getByRole('link', { name: '← Inbox' }).click();
    await expect(page.getByTestId('request').first()).toBeVisible();
  }

  // Revoked: the same key, once revoked on the Keys page, is rejected by name.
  await gotoReady(page, '/keys');
  const card = page.getByTestId('key').first();
  await card.getByRole('combobox').selectOption('revoked');
  await card.getByTestId('key-confirm').click();
  await expect(card).toHaveAttribute('data-trust', 'revoked');
  await gotoReady(page, '/inbox');
  // The queue loads after the page does: count it only once it is there (paste counts first).
  await expect(page.getByTestId('request')).toHaveCount(cases.length);
  await paste(page, w.text('good.ncb'));
  await expect(latest(page)).toHaveAttribute('data-state', 'rejected');
  await expect(latest(page)).toContainText('signature.revoked');
});

test('rollback and drift are flagged; the drifted request shows its diff against the approved one', async ({
  page
}) => {
  const w = workspace();
  w.sign('hello.wasm', 'v110.ncb', '--version', '1.1.0');
  w.sign('hello.wasm', 'v100.ncb', '--version', '1.0.0');
  // The same name and version as an approved module, a different module, the same key.
  w.sign('echo.wasm', 'drift.ncb', '--name', 'hello', '--version', '1.1.0');
  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');

  await paste(page, w.text('v110.ncb'));
  await latest(page).getByTestId('approve').click();
  await expect(latest(page)).toHaveAttribute('data-state', 'approved');

  await paste(page, w.text('v100.ncb'));
  await expect(latest(page)).toHaveAttribute('data-state', 'rejected');
  await expect(latest(page)).toContainText('policy.rollback');
  await openReview(page);
  await expect(page.locator('[data-testid="review-flag"][data-flag="rollback"]')).toContainText(
    'ROLLBACK'
  );
  await page.getByRole('link', { name: '← Inbox' }).click();
  await expect(page.getByTestId('request')).toHaveCount(2); // the list has loaded

  await paste(page, w.text('drift.ncb'));
  await expect(latest(page)).toHaveAttribute('data-state', 'rejected');
  await expect(latest(page)).toContainText('policy.drift');
  await openReview(page);
  const flags = page.getByTestId('review-flag');
  await expect(flags.first()).toHaveAttribute('data-flag', 'drift'); // drift comes first
  await expect(flags.first()).toContainText('DRIFT');
  const diff = page.getByTestId('review-diff');
  await expect(diff).toContainText('1.1.0');
  await expect(diff.locator('[data-diff="module"]')).toHaveText('DIFFERENT hash');
  await expect(diff.locator('[data-diff="imports-added"]')).toContainText(
    'wasi_snapshot_preview1.args_get'
  );
  await expect(diff.locator('[data-diff="capabilities-added"]')).toContainText('args');
  await expect(diff.locator('[data-diff="size"]')).toContainText('→');
  // The import groups: echo-args needs "args", which the rejected request was not granted.
  const args = page.locator('[data-testid="review-imports"] [data-capability="args"]');
  await expect(args).toHaveAttribute('data-granted', 'false');
  await expect(args).toContainText('NOT GRANTED');
  await expect(page.getByTestId('approve')).toHaveCount(0);
});

test('a grant can be lowered on the review page and the signed decision carries it; raising is refused', async ({
  page
}) => {
  const { problems } = watchForProblems(page);
  const w = workspace();
  const caps = ['--capability', 'args', '--capability', 'clock'];
  w.sign('echo.wasm', 'one.ncb', '--version', '1.0.0', '--timeout-ms', '9000', ...caps);
  w.sign('echo.wasm', 'two.ncb', '--name', 'two', '--version', '1.0.0', ...caps);
  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');

  await paste(page, w.text('one.ncb'));
  await expect(latest(page)).toHaveAttribute('data-state', 'pending');
  await openReview(page);
  const review = page.getByTestId('review');
  // Usable one-handed on a small screen: no sideways scrolling at 360 px, 44 px tall buttons.
  await page.setViewportSize({ width: 360, height: 740 });
  expect(
    await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth
    )
  ).toBeLessThanOrEqual(0);
  for (const id of ['approve', 'approve-pin', 'deny', 'deny-block']) {
    expect((await page.getByTestId(id).boundingBox())!.height, id).toBeGreaterThanOrEqual(44);
  }
  await expect(review.locator('[data-limit="timeoutMs"]')).toContainText('9000');
  await expect(review.getByTestId('review-signers')).toContainText('alice');
  await expect(review.getByTestId('review-memory')).toContainText('maximum');
  await expect(review.locator('[data-capability="args"]')).toHaveAttribute('data-granted', 'true');
  const timeout = page.getByTestId('review-grant-timeoutMs');
  await expect(timeout).toHaveValue('9000');
  await expect(timeout).toHaveAttribute('max', '9000');
  await timeout.fill('1234');
  await page.getByTestId('review-grant-cap-clock').uncheck();
  // A typed "a" inside a field is text, not a shortcut.
  await timeout.press('a');
  await expect(review).toHaveAttribute('data-request-state', 'pending');
  await page.getByRole('heading', { level: 1 }).click();
  await page.keyboard.press('a'); // approve once, with the lowered grant
  await expect(review).toHaveAttribute('data-request-state', 'approved');
  await expect(page.getByTestId('review-result')).toHaveText('Approved once.');
  await expect(page.getByTestId('review-granted')).toContainText('args; timeoutMs=1234');
  await expect(page.getByTestId('review-granted')).not.toContainText('clock');
  let decisions = (await auditRecords(page)).filter((r) => r.event === 'decision');
  expect(decisions.at(-1)!.details).toMatchObject({
    action: 'approve',
    capabilities: ['args'],
    limits: { timeoutMs: 1234, memoryMiB: 64 }
  });
  await page.getByTestId('review-back').click();
  await expect(page).toHaveURL('/inbox');
  await expect(latest(page).getByTestId('decision')).toHaveAttribute('data-action', 'approve');

  // Raising: the form's cap removed by hand, a larger value submitted. decisions.ts refuses it.
  await paste(page, w.text('two.ncb'));
  await openReview(page);
  const memory = page.getByTestId('review-grant-memoryMiB');
  await expect(memory).toHaveAttribute('max', '64');
  await memory.evaluate((input) => input.removeAttribute('max'));
  await memory.fill('100000');
  await page.getByTestId('approve').click();
  await expect(page.getByTestId('review-result')).toHaveAttribute('data-kind', 'error');
  await expect(page.getByTestId('review-result')).toContainText('can only be lowered');
  await expect(page.getByTestId('review-result')).toContainText('limits.memoryMiB');
  await expect(review).toHaveAttribute('data-request-state', 'pending');
  decisions = (await auditRecords(page)).filter((r) => r.event === 'decision');
  expect(String(decisions.at(-1)!.details.result)).toContain('refused');
  // D denies it from the keyboard.
  await page.getByRole('heading', { level: 1 }).click();
  await page.keyboard.press('d');
  await expect(review).toHaveAttribute('data-request-state', 'denied');
  await expect(page.getByTestId('review-result')).toHaveText('Denied.');
  expect(problems).toEqual([]);
});

test('the review page without an id, or with an unknown one, says so', async ({ page }) => {
  const { problems } = watchForProblems(page);
  await gotoReady(page, '/review');
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'not-found');
  await gotoReady(page, '/review?id=no-such-request');
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'not-found');
  await expect(page.getByRole('alert')).toContainText('No such request');
  expect(problems).toEqual([]);
});

test('module bytes changed in storage after intake: the review page refuses to offer approval', async ({
  page
}) => {
  const w = workspace();
  w.sign('hello.wasm', 'ok.ncb', '--version', '1.0.0');
  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');
  await paste(page, w.text('ok.ncb'));
  const sha = await latest(page).getAttribute('data-sha256');
  expect(await alterStoredModules(page, sha!)).toBe(1);
  await openReview(page);
  await expect(page.getByTestId('review')).toHaveAttribute('data-integrity', 'mismatch');
  await expect(page.getByTestId('review-integrity')).toContainText('no longer hash');
  await expect(page.getByTestId('approve')).toHaveCount(0);
  await expect(page.getByTestId('approve-pin')).toHaveCount(0);
  await expect(page.getByTestId('deny')).toHaveCount(1);
});

test('markup in every manifest text field stays literal on the Inbox and the review page', async ({
  page
}) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const w = workspace();
  const img = '<img src=x onerror=alert(1)>';
  const svg = '"><svg onload=alert(1)>';
  const both = `${img} ${svg}`;
  writeFileSync(
    w.path('manifest.json'),
    JSON.stringify({
      name: 'hello',
      version: '1.0.0',
      publisher: both,
      description: `${both}\n${svg}`,
      args: [img, svg],
      // env names may not contain "=", so the names carry another tag
      env: { '<script>alert(1)</script>': img, '<b>X</b>': svg },
      capabilities: ['args', 'env'],
      [img]: svg // an unknown key: listed in the notes, as text
    })
  );
  w.nightcore(
    'sign',
    'echo.wasm',
    '--key',
    'alice.key',
    '--manifest',
    'manifest.json',
    '--out',
    'x.ncb'
  );
  copyFileSync(w.path('x.ncb'), w.path(`${img}.ncb`));
  await pinKey(page, w.text('alice.pub'), 'alice');
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(w.path(`${img}.ncb`));
  await expect(page.getByTestId('request')).toHaveCount(1);
  await expect(latest(page)).toContainText(`${img}.ncb`);
  await openReview(page);
  const fields = page.getByTestId('review-manifest');
  await expect(fields.locator('[data-field="publisher"]')).toHaveText(both);
  await expect(fields.locator('[data-field="description"]')).toHaveText(`${both}\n${svg}`);
  await expect(fields.locator('[data-field="args"]')).toContainText(img);
  await expect(fields.locator('[data-field="env"]')).toContainText(
    `<script>alert(1)</script>=${img}`
  );
  await expect(fields.locator('[data-field="env"]')).toContainText(`<b>X</b>=${svg}`);
  await expect(page.getByTestId('review')).toContainText(`${img}.ncb`);
  await expect(page.getByTestId('review-notes')).toContainText(img); // the unknown key
  // The page's own charts are SVG, marked data-chart; any other svg element was injected.
  const injected = 'img[src="x"], img[onerror], svg[onload], svg:not([data-chart]), script, b';
  await expect(page.getByTestId('review').locator(injected)).toHaveCount(0);
  // Reloaded straight from the URL, as a bookmarked review page would be.
  await page.reload();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('review').locator(injected)).toHaveCount(0);
  await gotoReady(page, '/inbox');
  await expect(latest(page)).toContainText(`${img}.ncb`);
  await expect(page.getByTestId('request').locator(injected)).toHaveCount(0);
  expect(dialogs).toEqual([]);
});
