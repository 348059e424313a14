/**
 * Tablets, portrait 768x1024 and landscape 1024x768, with a touch screen: no page scrolls
 * sideways, every visible control is at least 44x44 CSS px, the review's decision buttons sit in
 * the lower half of the screen (reachable with one thumb), and the Inbox takes files by a tap.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { PAGES, gotoReady } from './helpers';
import { cliWorkspace, pinKey, FIXTURES } from './workspace';

const VIEWPORTS = [
  { width: 768, height: 1024 },
  { width: 1024, height: 768 }
] as const;

const MIN_TARGET = 44;

async function tabletPage(browser: Browser, viewport: { width: number; height: number }) {
  const context = await browser.newContext({ viewport, hasTouch: true, isMobile: false });
  return { context, page: await context.newPage() };
}

/** Pins alice and pastes a bundle; returns the pending request's review path. */
async function pendingReview(page: Page): Promise<string> {
  const ws = cliWorkspace('tablet');
  await pinKey(page, ws.text('alice.pub'));
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(ws.bundle('hello'));
  await page.getByTestId('intake-submit').click();
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending');
  return (await request.locator('a.review-link').getAttribute('href')) ?? '';
}

/**
 * Every visible control smaller than 44x44: buttons, links, inputs, selects, summaries,
 * role=button, and labels that wrap an input (for those the label is the target, not the input).
 * Links inside running text are exempt, as WCAG 2.5.8 exempts inline targets.
 */
async function smallTargets(page: Page, min: number): Promise<string[]> {
  return page.evaluate((min) => {
    const selector = 'button, a[href], input, select, textarea, summary, [role="button"], label';
    const found: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(selector)) {
      if (el.tagName === 'LABEL' && !el.querySelector('input, select, textarea')) continue;
      if (el.matches('input, select, textarea') && el.closest('label')) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      const rect = el.getBoundingClientRect();
      // Zero-size (closed details, closed dialog) and 1px visually-hidden inputs behind a label.
      if (rect.width <= 1 || rect.height <= 1) continue;
      if (
        el.tagName === 'A' &&
        el.parentElement?.closest('p, li, td, dd') &&
        style.display === 'inline'
      )
        continue;
      if (rect.width < min || rect.height < min) {
        const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40);
        const test = el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '';
        found.push(
          `${el.tagName.toLowerCase()}${test} "${name}" ${Math.round(rect.width)}x${Math.round(rect.height)}`
        );
      }
    }
    return found;
  }, min);
}

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;

  test.describe(`tablet ${size}`, () => {
    test('no sideways scrolling and 44 px touch targets on every page', async ({ browser }) => {
      test.setTimeout(120_000);
      const { context, page } = await tabletPage(browser, viewport);
      const reviewPath = await pendingReview(page);
      const problems: string[] = [];
      for (const path of [...PAGES.map((p) => p.path), reviewPath]) {
        await gotoReady(page, path);
        if (path === reviewPath) {
          await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
        }
        const { scrollWidth, viewWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          viewWidth: window.innerWidth
        }));
        if (scrollWidth > viewWidth)
          problems.push(`${path}: scrollWidth ${scrollWidth} > innerWidth ${viewWidth}`);
        for (const small of await smallTargets(page, MIN_TARGET))
          problems.push(`${path}: ${small}`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
      await context.close();
    });

    test('review: approve and deny sit in the lower half, and a tap approves', async ({
      browser
    }) => {
      test.setTimeout(90_000);
      const { context, page } = await tabletPage(browser, viewport);
      const reviewPath = await pendingReview(page);
      await gotoReady(page, reviewPath);
      const review = page.getByTestId('review');
      await expect(review).toHaveAttribute('data-state', 'ready');
      const panel = review.getByTestId('review-decision-panel');
      for (const id of ['approve', 'deny']) {
        const box = await panel.getByTestId(id).boundingBox();
        expect(box, `${id} is on screen without scrolling`).not.toBeNull();
        expect(box!.y, `${id} top`).toBeGreaterThanOrEqual(viewport.height / 2);
        expect(box!.y + box!.height, `${id} bottom`).toBeLessThanOrEqual(viewport.height);
      }
      await panel.getByTestId('approve').tap();
      await expect(review).toHaveAttribute('data-request-state', 'approved');
      await context.close();
    });

    test('inbox: "Choose files" is a tap alternative to drag and drop', async ({ browser }) => {
      const { context, page } = await tabletPage(browser, viewport);
      await gotoReady(page, '/inbox');
      const chooser = page.waitForEvent('filechooser');
      // A label around the file input: a tap on it opens the system picker, no dragging needed.
      await page.locator('label', { hasText: 'Choose files' }).tap();
      await (await chooser).setFiles(`${FIXTURES}hello.wasm`);
      // An unsigned module is still taken in, as a request with its verdict: nothing is lost.
      await expect(page.getByTestId('request').first()).toBeVisible();
      await expect(page.getByTestId('verdict').first()).toHaveAttribute('data-verdict', 'unsigned');
      await context.close();
    });
  });
}
