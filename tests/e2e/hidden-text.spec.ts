/**
 * Text that hides characters, from the attacker's side: a bundle signed by the real CLI whose
 * manifest (publisher, args, env) and module (export names, hidden-names.wat) carry zero-width,
 * word-joiner and right-to-left-override characters. The Review page shows every one as a visible
 * marker that names it, flags them before the reviewer reads on, keeps an env value's line break
 * from passing for a second entry, and leaves a description's own line breaks alone.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { gotoReady, watchForProblems } from './helpers';
import { cliWorkspace, pinKey } from './workspace';

const MANIFEST = {
  name: 'hidden-names',
  version: '1.0.0',
  publisher: 'Acme\u200bCorp',
  description: 'Line one\n\tindented line two',
  args: ['--out\u2060put'],
  env: { MODE: 'fast\nADMIN=1', LANG: 'C' },
  capabilities: ['args', 'env']
};

test('hidden characters in manifest text and export names are shown as markers and flagged on Review', async ({
  page
}) => {
  test.setTimeout(60_000);
  const problems = watchForProblems(page);
  const w = cliWorkspace('hidden-text');
  w.fixture('hidden-names');
  writeFileSync(w.path('manifest.json'), JSON.stringify(MANIFEST));
  w.nightcore(
    'sign',
    'hidden-names.wasm',
    '--key',
    'alice.key',
    '--manifest',
    'manifest.json',
    '--out',
    'hidden.ncb'
  );
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(w.text('hidden.ncb'));
  await page.getByTestId('intake-submit').click();
  const request = page.getByTestId('request').first();
  await expect(request.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await request.getByTestId('request-review').click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');

  // Flagged, naming where and which, before the facts.
  const flag = page.locator('[data-testid="review-flag"][data-flag="hidden-text"]');
  await expect(flag).toHaveAttribute('data-severity', 'review');
  await expect(flag).toContainText('Hidden characters in publisher, args, env, export names');
  await expect(flag).toContainText('U+200B ZERO WIDTH SPACE');
  await expect(flag).toContainText('U+202E RIGHT-TO-LEFT OVERRIDE');

  // The manifest: markers where the characters were, each naming its character.
  const manifest = page.getByTestId('review-manifest');
  const field = (name: string) => manifest.locator(`dd[data-field="${name}"]`);
  await expect(field('publisher')).toHaveText('AcmeU+200BCorp');
  await expect(field('publisher').getByTestId('hidden-char')).toHaveAttribute(
    'title',
    'U+200B ZERO WIDTH SPACE'
  );
  await expect(field('args')).toContainText('--outU+2060put');
  // One line per env entry: the value's own line break is a marker, not a second entry.
  await expect(field('env').locator('.line')).toHaveCount(2);
  await expect(field('env').locator('.line').first()).toHaveText('MODE=fastU+000AADMIN=1');
  await expect(field('env').locator('.line').nth(1)).toHaveText('LANG=C');
  // The description's line break and tab are its layout (the manifest allows them).
  await expect(field('description').getByTestId('hidden-char')).toHaveCount(0);
  expect(await field('description').innerText()).toContain('Line one\n');

  // Export names from the module itself.
  const exports = page.getByTestId('review-exports');
  await expect(exports).toContainText('reportU+202Efdp.exe');
  await expect(exports).toContainText('zeroU+200Bwidth');
  await expect(exports.getByTestId('hidden-char')).toHaveCount(2);

  // None of the characters reaches the page as itself (the description's layout aside).
  const text = (await page.locator('main').textContent()) ?? '';
  expect(text).not.toMatch(/[\u200b\u2060\u202a-\u202e\u2066-\u2069]/);

  // The markers and the flag keep contrast in both schemes.
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const result = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const serious = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact!));
    expect(serious.map((v) => `${colorScheme}: ${v.id}`)).toEqual([]);
  }
  expect(problems.problems).toEqual([]);
});

test('a file name that hides characters is shown with markers in the Inbox and on Review', async ({
  page
}) => {
  test.setTimeout(60_000);
  const problems = watchForProblems(page);
  const w = cliWorkspace('hidden-file');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  // "invoice" U+202E "gpj.ncb": a naive page shows "invoicebcn.jpg".
  const name = 'invoice\u202egpj\u200b.ncb';
  await page
    .getByTestId('intake-file')
    .setInputFiles([{ name, mimeType: 'application/json', buffer: Buffer.from(bundle) }]);
  const request = page.getByTestId('request').first();
  await expect(request.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(request.locator('.meta').first()).toContainText('invoiceU+202EgpjU+200B.ncb');
  await expect(request.locator('.meta').first().getByTestId('hidden-char')).toHaveCount(2);
  const inbox = (await page.locator('main').textContent()) ?? '';
  expect(inbox).not.toMatch(/[\u200b\u202e]/);

  await request.getByTestId('request-review').click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('main')).toContainText('invoiceU+202EgpjU+200B.ncb');
  const review = (await page.locator('main').textContent()) ?? '';
  expect(review).not.toMatch(/[\u200b\u202e]/);
  expect(problems.problems).toEqual([]);
});
