/**
 * The README's pictures of the main pages, made from the real app with the Try-it demo set loaded
 * (a few requests, runs with different outcomes, audit records). Every run writes them to
 * reports/screenshots/ and checks each is a real picture of its page; with
 * NIGHTCORE_SCREENSHOTS=update it also replaces the committed ones in docs/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { auditReady, gotoReady } from './helpers';
import { runReady } from './workspace';

const OUT = 'reports/screenshots';
const DOCS = 'docs/screenshots';
const UPDATE = process.env.NIGHTCORE_SCREENSHOTS === 'update';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

async function shoot(page: Page, name: string, heading: string) {
  await expect(page.getByRole('heading', { level: 1 })).toContainText(heading);
  // Let charts and lists settle (no animation is awaited; fonts are the system's).
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  const path = `${OUT}/${name}.png`;
  await page.screenshot({ path, fullPage: false });
  const size = pngSize(path);
  expect(size).toEqual({ width: 1280, height: 800 });
  if (UPDATE) copyFileSync(path, `${DOCS}/${name}.png`);
}

test('screenshots of the main pages with the demo set loaded', async ({ browser }) => {
  test.setTimeout(120_000);
  mkdirSync(OUT, { recursive: true });
  if (UPDATE) mkdirSync(DOCS, { recursive: true });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light'
  });
  const page = await context.newPage();
  try {
    await gotoReady(page, '/');
    await auditReady(page);
    await page.getByTestId('demo-load').click();
    await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'loaded');

    await gotoReady(page, '/inbox');
    const byName = (name: string) =>
      page.getByTestId('request').filter({ has: page.getByText(name, { exact: true }) });
    for (const name of ['hello', 'loop']) {
      await byName(name).getByTestId('approve').click();
      await expect(byName(name)).toHaveAttribute('data-state', 'approved');
    }
    for (const [name, status] of [
      ['hello', 'exited'],
      ['loop', 'timeout']
    ] as const) {
      const run = await runReady(page, name);
      await expect(run).toHaveAttribute('data-status', status, { timeout: 30_000 });
    }
    await shoot(page, 'runs', 'Runs');

    await gotoReady(page, '/inbox');
    await shoot(page, 'inbox', 'Inbox');
    await byName('sha256-job').getByTestId('request-review').click();
    await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
    await expect(page.getByTestId('risk-gauge')).toBeVisible();
    await shoot(page, 'review', 'sha256-job');

    await gotoReady(page, '/');
    // The pictures, not the introduction above them.
    await page.getByTestId('chart-runs-over-time').scrollIntoViewIfNeeded();
    await expect(page.getByTestId('chart-runs-over-time')).toBeInViewport();
    await shoot(page, 'overview', 'Night Core');
    await gotoReady(page, '/audit');
    await auditReady(page);
    await shoot(page, 'audit', 'Audit');
  } finally {
    await context.close();
  }
});
