/**
 * axe-core over every page, in light and dark, with real data on them (a pinned key, an approved
 * request that has run, a pending one, audit records): no serious or critical WCAG 2.1 A/AA
 * violation. Then the keyboard: the Inbox and Review reached by Tab alone with a visible focus ring,
 * and the `?` shortcuts help.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { PAGES, auditReady, auditRecords, gotoReady } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runEnded, runReady } from './workspace';

const SCHEMES = ['light', 'dark'] as const;

/** One context for all pages: the data is made once, each test only navigates and scans. */
let context: BrowserContext;
let page: Page;
let reviewPath = '';

async function seed(browser: Browser): Promise<void> {
  context = await browser.newContext();
  page = await context.newPage();
  const ws = cliWorkspace('a11y');
  await pinKey(page, ws.text('alice.pub'));
  await approveBundle(page, ws.bundle('hello'));
  const run = await runReady(page, 'hello');
  await runEnded(run, 'exited');
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(ws.bundle('echo-args'));
  await page.getByTestId('intake-submit').click();
  const pending = page.getByTestId('request').filter({ hasText: 'echo-args' }).first();
  await expect(pending).toHaveAttribute('data-state', 'pending');
  reviewPath = (await pending.locator('a.review-link').getAttribute('href')) ?? '';
  expect(reviewPath).toMatch(/^\/review\?id=/);
  expect((await auditRecords(page)).length).toBeGreaterThan(3);
}

async function seriousViolations(): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) =>
      v.nodes.map(
        (node) =>
          `${v.id} (${v.impact}) at ${node.target.join(' ')}: ${node.failureSummary ?? v.help}`
      )
    );
}

test.describe('axe: no serious or critical violations', () => {
  test.beforeAll(async ({ browser }) => {
    test.setTimeout(120_000);
    await seed(browser);
  });
  test.afterAll(async () => {
    await context?.close();
  });

  for (const colorScheme of SCHEMES) {
    for (const target of [...PAGES, { path: 'review', label: 'Review' }]) {
      test(`${target.label} (${colorScheme})`, async () => {
        await page.emulateMedia({ colorScheme });
        const path = target.path === 'review' ? reviewPath : target.path;
        await gotoReady(page, path);
        // Scan a settled page: the audit log's start-up check also renders status on some pages.
        await auditReady(page);
        if (target.path === 'review') {
          await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
        }
        if (target.path === '/runs') {
          await expect(page.getByTestId('run').first()).toBeVisible();
        }
        if (target.path === '/inbox') {
          await expect(page.getByTestId('request').first()).toBeVisible();
        }
        const violations = await seriousViolations();
        expect(violations, violations.join('\n')).toEqual([]);
        // A separator glued to the word before it ("bundle· 55 bytes") reads as one word to a
        // screen reader and to the eye: Svelte trims whitespace at the start of a block.
        const glued = (await page.locator('main').innerText()).match(/\S·|·\S/g) ?? [];
        expect(glued, 'separators without a space').toEqual([]);
      });
    }
  }
});

/** Tabs forward until `target` has focus; every stop on the way must show a focus ring. */
async function tabTo(page: Page, target: ReturnType<Page['getByTestId']>, maxStops = 120) {
  const unringed: string[] = [];
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      const ring =
        (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) ||
        style.boxShadow !== 'none';
      const name = `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
      return { ring, name };
    });
    if (stop && !stop.ring) unringed.push(stop.name);
    if (await target.evaluate((el) => el === document.activeElement)) return unringed;
  }
  throw new Error(`not reached in ${maxStops} Tab presses`);
}

test.describe('keyboard', () => {
  test('Tab alone reaches approve on the Inbox and on Review, focus always visible', async ({
    page
  }) => {
    test.setTimeout(90_000);
    const ws = cliWorkspace('a11y-keys');
    await pinKey(page, ws.text('alice.pub'));
    await gotoReady(page, '/inbox');
    await page.getByTestId('intake-paste').fill(ws.bundle('hello'));
    await page.getByTestId('intake-submit').click();
    const request = page.getByTestId('request').first();
    await expect(request).toHaveAttribute('data-state', 'pending');
    const href = (await request.locator('a.review-link').getAttribute('href')) ?? '';

    await gotoReady(page, '/inbox');
    expect(await tabTo(page, page.getByTestId('request').first().getByTestId('approve'))).toEqual(
      []
    );

    await gotoReady(page, href);
    const review = page.getByTestId('review');
    await expect(review).toHaveAttribute('data-state', 'ready');
    const approve = page.getByTestId('review-decision-panel').getByTestId('approve');
    expect(await tabTo(page, approve)).toEqual([]);
    await page.keyboard.press('Enter');
    await expect(review).toHaveAttribute('data-request-state', 'approved');
  });

  test('? opens the shortcuts help, Esc closes it and focus goes back', async ({ page }) => {
    await gotoReady(page, '/inbox');
    const help = page.getByTestId('shortcuts-help');
    await expect(help).toBeHidden();

    // A question mark typed into a field is text.
    await page.getByTestId('intake-paste').press('?');
    await expect(help).toBeHidden();
    await expect(page.getByTestId('intake-paste')).toHaveValue('?');

    const brand = page.locator('a.brand');
    await brand.focus();
    await page.keyboard.press('?');
    await expect(help).toBeVisible();
    await expect(help.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible();
    await expect(help).toContainText('Approve once');
    await expect(help).toContainText('Audit timeline');
    await page.keyboard.press('Escape');
    await expect(help).toBeHidden();
    await expect(brand).toBeFocused();

    await page.keyboard.press('?');
    await expect(help).toBeVisible();
    await help.getByTestId('shortcuts-close').click();
    await expect(help).toBeHidden();
  });

  test('with the help open on Review, A does not approve', async ({ page }) => {
    const ws = cliWorkspace('a11y-help');
    await pinKey(page, ws.text('alice.pub'));
    await gotoReady(page, '/inbox');
    await page.getByTestId('intake-paste').fill(ws.bundle('hello'));
    await page.getByTestId('intake-submit').click();
    const request = page.getByTestId('request').first();
    await expect(request).toHaveAttribute('data-state', 'pending');
    await gotoReady(page, (await request.locator('a.review-link').getAttribute('href')) ?? '');
    const review = page.getByTestId('review');
    await expect(review).toHaveAttribute('data-state', 'ready');
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcuts-help')).toBeVisible();
    await page.keyboard.press('a');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('shortcuts-help')).toBeHidden();
    // Nothing had focus before ?, so closing must still move focus out of the hidden dialog.
    await expect(page.getByTestId('shortcuts-close')).not.toBeFocused();
    // D outside the dialog denies: had the A inside it approved first, the request would stay
    // approved (a decided request takes no second decision), so 'denied' proves A did nothing.
    await page.keyboard.press('d');
    await expect(review).toHaveAttribute('data-request-state', 'denied');
    const decisions = (await auditRecords(page)).filter((r) => r.event === 'decision');
    expect(decisions.map((r) => r.details.action)).toEqual(['deny']);
  });
});
