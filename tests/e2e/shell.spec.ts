import { expect, test } from '@playwright/test';
import { PAGES, gotoReady, watchForProblems } from './helpers';

test.describe('app shell', () => {
  for (const { path, label } of PAGES) {
    test(`${label} (${path}) loads with no console errors or failed requests`, async ({ page }) => {
      const { problems } = watchForProblems(page);
      await gotoReady(page, path);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
      const current = page.getByRole('link', { name: label, exact: true });
      await expect(current).toHaveAttribute('aria-current', 'page');
      await expect(page).toHaveTitle(/Night Core/);
      // Give late requests (icons, manifest, service worker) a moment to fail if they are going to.
      await page.waitForLoadState('networkidle');
      expect(problems).toEqual([]);
    });
  }

  test('every page is reachable through the navigation, by keyboard alone', async ({ page }) => {
    await gotoReady(page, '/');
    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
    for (const { path, label } of PAGES.slice(1)) {
      const link = page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: label });
      await link.focus();
      await page.keyboard.press('Enter');
      await expect(page).toHaveURL(path);
      await expect(link).toHaveAttribute('aria-current', 'page');
    }
  });

  test('the skip link moves focus to the main content', async ({ page }) => {
    await gotoReady(page, '/settings');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect(page.locator('main')).toBeFocused();
  });

  test('follows the system theme, light and dark', async ({ page }) => {
    await page.emulateMedia({ colorScheme: 'light' });
    await gotoReady(page, '/');
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(light).toBe('rgb(246, 247, 249)');
    expect(dark).toBe('rgb(13, 17, 23)');
  });

  for (const viewport of [
    { width: 360, height: 740 },
    { width: 768, height: 1024 },
    { width: 1440, height: 900 }
  ]) {
    test(`no horizontal scrolling at ${viewport.width}x${viewport.height}`, async ({ page }) => {
      await page.setViewportSize(viewport);
      for (const { path } of PAGES) {
        await gotoReady(page, path);
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth
        );
        expect(overflow, `${path} overflows by ${overflow}px`).toBeLessThanOrEqual(0);
        await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
      }
    });
  }
});
