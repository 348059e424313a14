/**
 * minisign's two comments, signed by the real minisign CLI: the trusted one (covered by the global
 * signature) and the untrusted one (covered by nothing) reach the Review page labelled as what
 * they are, as literal text (markup inert, ANSI escapes and direction overrides shown as visible
 * markers), and the verdict's audit record says what was signed. An edited untrusted comment
 * still verifies and is shown, as untrusted; an edited trusted comment is rejected.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditRecords, gotoReady, watchForProblems } from './helpers';
import { FIXTURES, pinKey } from './workspace';

const TRUSTED = '<img src=x onerror="window.pwned=1"> \u001b[31mred\u001b[0m \u202eevil.exe';
/** How the page shows TRUSTED: every hidden character as its code point. */
const TRUSTED_SHOWN = '<img src=x onerror="window.pwned=1"> U+001B[31mredU+001B[0m U+202Eevil.exe';
const UNTRUSTED = 'from the \u2066CI\u2069 key';

/** A temp folder with hello.wasm and a minisign key pair made by minisign itself. */
function minisignFolder() {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-minisign-comments-'));
  copyFileSync(join(FIXTURES, 'hello.wasm'), join(dir, 'hello.wasm'));
  const run = (...args: string[]) => execFileSync('minisign', args, { cwd: dir, stdio: 'pipe' });
  run('-G', '-W', '-p', 'k.pub', '-s', 'k.key');
  run('-S', '-s', 'k.key', '-m', 'hello.wasm', '-t', TRUSTED, '-c', UNTRUSTED);
  const signature = readFileSync(join(dir, 'hello.wasm.minisig'), 'utf8');
  /** Writes a copy of the signature with line `index` replaced; returns its path. */
  const edited = (name: string, index: number, line: string) => {
    const lines = signature.split('\n');
    lines[index] = line;
    writeFileSync(join(dir, name), lines.join('\n'));
    return join(dir, name);
  };
  return {
    dir,
    publicKey: readFileSync(join(dir, 'k.pub'), 'utf8'),
    module: join(dir, 'hello.wasm'),
    signature: join(dir, 'hello.wasm.minisig'),
    edited
  };
}

/** Takes in hello.wasm with one signature file; returns the newest of `total` request rows. */
async function intake(page: Page, module: string, signature: string, total: number) {
  await gotoReady(page, '/inbox');
  // The pair is matched by name: the signature file must be called hello.wasm.minisig.
  await page.getByTestId('intake-file').setInputFiles([
    { name: 'hello.wasm', mimeType: 'application/wasm', buffer: readFileSync(module) },
    { name: 'hello.wasm.minisig', mimeType: 'text/plain', buffer: readFileSync(signature) }
  ]);
  await expect(page.getByTestId('request')).toHaveCount(total, { timeout: 30_000 });
  return page.getByTestId('request').first();
}

async function openReview(page: Page, row: ReturnType<Page['getByTestId']>) {
  await row.getByTestId('request-review').click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready', {
    timeout: 30_000
  });
  return page.locator('section.comments');
}

test('trusted and untrusted comments are labelled on Review, shown literally, and the signed one is audited', async ({
  page
}) => {
  test.setTimeout(120_000);
  const problems = watchForProblems(page);
  const f = minisignFolder();
  await pinKey(page, f.publicKey, 'minisign key');
  const row = await intake(page, f.module, f.signature, 1);
  await expect(row.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  // The Inbox row carries the signed comment on one line, markers and all.
  await expect(row.getByTestId('request-trusted-comment')).toHaveText(
    `Trusted comment: ${TRUSTED_SHOWN}`
  );

  const comments = await openReview(page, row);
  const trusted = comments.getByTestId('trusted-comment');
  const untrusted = comments.getByTestId('untrusted-comment');
  // Each under its own label: the dt right before it says what covers it.
  await expect(comments.locator('dt').first()).toHaveText(
    'Trusted comment (covered by the signature)'
  );
  await expect(comments.locator('dt').nth(1)).toHaveText(
    'Untrusted comment (anyone could have changed it)'
  );
  await expect(comments.locator('dd').first()).toContainText('U+202Eevil.exe');
  await expect(comments.locator('dd').nth(1)).toContainText('from the U+2066CIU+2069 key');
  await expect(trusted).toHaveText(TRUSTED_SHOWN);
  await expect(untrusted).toHaveText('from the U+2066CIU+2069 key');
  // The markers name the characters; none of them is in the page as the character itself.
  await expect(trusted.getByTestId('hidden-char')).toHaveCount(3);
  await expect(trusted.getByTestId('hidden-char').nth(2)).toHaveAttribute(
    'title',
    'U+202E RIGHT-TO-LEFT OVERRIDE'
  );
  const text = (await page.locator('main').textContent()) ?? '';
  expect(text).not.toMatch(/[\u001b\u202a-\u202e\u2066-\u2069]/);
  // Markup stays text.
  await expect(comments.locator('img')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
  // Visibly different: the untrusted one is muted and set apart, the trusted one is not.
  const style = (testid: string) =>
    comments
      .locator('dd', { has: page.getByTestId(testid) })
      .evaluate((el) => [getComputedStyle(el).fontStyle, getComputedStyle(el).borderLeftStyle]);
  expect(await style('trusted-comment')).toEqual(['normal', 'solid']);
  expect(await style('untrusted-comment')).toEqual(['italic', 'dashed']);

  // Readable in both schemes (the muted and marked styles keep contrast).
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const result = await new AxeBuilder({ page })
      .include('section.comments')
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const serious = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact!));
    expect(serious.map((v) => `${colorScheme}: ${v.id}`)).toEqual([]);
  }

  // The verdict's audit record names what was signed, exactly as signed.
  const verdicts = (await auditRecords(page)).filter((r) => r.event === 'verdict');
  expect(verdicts.map((r) => r.details.trustedComment)).toEqual([TRUSTED]);
  expect(problems.problems).toEqual([]);
});

test('an edited untrusted comment still verifies and shows as untrusted; an edited trusted comment is rejected', async ({
  page
}) => {
  test.setTimeout(120_000);
  const f = minisignFolder();
  await pinKey(page, f.publicKey, 'minisign key');

  const untrustedEdit = f.edited('u.minisig', 0, 'untrusted comment: approved by security team');
  const row = await intake(page, f.module, untrustedEdit, 1);
  await expect(row.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  let comments = await openReview(page, row);
  await expect(comments.getByTestId('untrusted-comment')).toHaveText('approved by security team');
  await expect(comments.locator('dt').nth(1)).toHaveText(
    'Untrusted comment (anyone could have changed it)'
  );
  await expect(comments.getByTestId('trusted-comment')).toHaveText(TRUSTED_SHOWN);

  const trustedEdit = f.edited('t.minisig', 2, 'trusted comment: timestamp:1 file:approved.wasm');
  const rejected = await intake(page, f.module, trustedEdit, 2);
  await expect(rejected.getByTestId('verdict')).toHaveAttribute('data-verdict', 'rejected');
  await expect(rejected).toContainText('minisign.trusted-comment');
  await expect(rejected.getByTestId('request-trusted-comment')).toHaveCount(0);
  comments = await openReview(page, rejected);
  await expect(page.getByTestId('review')).toContainText('minisign.trusted-comment');
  // Nothing on the page claims the edited text was signed; the untrusted comment is still shown.
  await expect(comments.getByTestId('trusted-comment')).toHaveCount(0);
  await expect(page.getByTestId('review')).not.toContainText('file:approved.wasm');
  await expect(comments.getByTestId('untrusted-comment')).toHaveText('from the U+2066CIU+2069 key');
  const verdicts = (await auditRecords(page)).filter((r) => r.event === 'verdict');
  expect(verdicts.map((r) => r.details.trustedComment)).toEqual([TRUSTED, undefined]);
});
