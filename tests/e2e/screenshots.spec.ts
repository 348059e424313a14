/**
 * The README's pictures of the main pages, made from the real app with the Try-it demo set loaded
 * (a few requests, runs with different outcomes, audit records), in the light and the dark theme.
 * Every run writes them to reports/screenshots/ (dark ones in dark/) and checks each is a real
 * picture of its page in its theme; with NIGHTCORE_SCREENSHOTS=update it also replaces the
 * committed ones in docs/screenshots/ and docs/screenshots/dark/.
 *
 * The app follows the system theme (prefers-color-scheme in app.css; there is no toggle), so
 * emulating the media feature is the real mechanism. Pixels are never compared with the committed
 * files: fonts and times differ between machines.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { auditReady, gotoReady } from './helpers';
import { runEnded } from './workspace';

type Theme = 'light' | 'dark';
const THEMES: readonly Theme[] = ['light', 'dark'];
const VIEWPORT = { width: 1280, height: 800 };
const UPDATE = process.env.NIGHTCORE_SCREENSHOTS === 'update';
const outDir = (theme: Theme) =>
  theme === 'light' ? 'reports/screenshots' : 'reports/screenshots/dark';
const docsDir = (theme: Theme) =>
  theme === 'light' ? 'docs/screenshots' : 'docs/screenshots/dark';

interface Picture {
  width: number;
  height: number;
  /** Share of pixels in the most common colour: near 1 means a blank picture. */
  dominant: number;
  /** Distinct colours (text antialiasing alone makes dozens). */
  colours: number;
  /** Mean relative luminance, 0 (black) to 1 (white). */
  luminance: number;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's screenshots are). */
function readPicture(path: string): Picture {
  const bytes = readFileSync(path);
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const [depth, colourType, , , interlace] = bytes.subarray(24, 29);
  expect({ depth, colourType, interlace }).toEqual({
    depth: 8,
    colourType: colourType === 6 ? 6 : 2,
    interlace: 0
  });
  const idat: Buffer[] = [];
  for (let at = 8; at < bytes.length;) {
    const length = bytes.readUInt32BE(at);
    if (bytes.toString('latin1', at + 4, at + 8) === 'IDAT')
      idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const data = inflateSync(Buffer.concat(idat));
  const channels = colourType === 6 ? 4 : 3;
  const stride = width * channels;
  let previous = new Uint8Array(stride);
  const counts = new Map<number, number>();
  let luminance = 0;
  for (let y = 0; y < height; y++) {
    const filter = data[y * (stride + 1)] ?? 0;
    // A plain check: an expect() per row costs seconds over ten pictures.
    if (filter > 4) throw new Error(`${path}: row ${y} has unknown filter type ${filter}`);
    const row = new Uint8Array(data.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      // Left, up and up-left neighbours (0 outside the picture), as the PNG filters define them.
      const a = (x >= channels ? row[x - channels] : 0) ?? 0;
      const b = previous[x] ?? 0;
      const c = (x >= channels ? previous[x - channels] : 0) ?? 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][
        filter
      ];
      row[x] = ((row[x] ?? 0) + (predictor ?? 0)) & 0xff;
    }
    for (let x = 0; x < stride; x += channels) {
      const [r = 0, g = 0, b = 0] = row.subarray(x, x + 3);
      const key = (r << 16) | (g << 8) | b;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      luminance += (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    }
    previous = row;
  }
  const pixels = width * height;
  return {
    width,
    height,
    dominant: Math.max(...counts.values()) / pixels,
    colours: counts.size,
    luminance: luminance / pixels
  };
}

/**
 * Shoots the viewport once the page shows `content` (its real content, not a spinner or an empty
 * state) and checks the picture: the right size, not blank, and in the theme asked for.
 */
async function shoot(page: Page, theme: Theme, name: string, heading: string, content: Locator) {
  await expect(page.getByRole('heading', { level: 1 })).toContainText(heading);
  await expect(content).toBeInViewport();
  expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(
    theme === 'dark'
  );
  // One frame so charts and lists have painted (no animation is awaited; fonts are the system's).
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  const path = `${outDir(theme)}/${name}.png`;
  await page.screenshot({ path, fullPage: false });
  const picture = readPicture(path);
  const what = `${theme}/${name}.png: ${JSON.stringify(picture)}`;
  expect({ width: picture.width, height: picture.height }, what).toEqual(VIEWPORT);
  expect(picture.dominant, what).toBeLessThan(0.85);
  expect(picture.colours, what).toBeGreaterThan(300);
  if (theme === 'dark') expect(picture.luminance, what).toBeLessThan(0.25);
  else expect(picture.luminance, what).toBeGreaterThan(0.8);
  if (UPDATE) copyFileSync(path, `${docsDir(theme)}/${name}.png`);
}

/** Scrolls so `target` sits at the top of the viewport. */
async function scrollToTop(target: Locator) {
  await target.evaluate((element) => {
    element.scrollIntoView({ block: 'start' });
    // A little room above it.
    window.scrollBy(0, -16);
  });
}

/**
 * Moves through the sidebar, as a reader would. A full load would ask for persistent storage
 * again on the next click and fill the top of the audit timeline with those records.
 */
async function navigate(page: Page, href: string) {
  await page.getByRole('navigation', { name: 'Main' }).locator(`a[href="${href}"]`).click();
  await expect(page).toHaveURL((url) => url.pathname === href);
}

async function shootAll(page: Page, theme: Theme) {
  await page.emulateMedia({ colorScheme: theme });
  await navigate(page, '/runs');
  const runs = page.getByTestId('run');
  await expect(runs).toHaveCount(2);
  // Both outcomes in the history, whichever theme pass this is.
  await expect(runs.filter({ hasText: 'loop' })).toHaveAttribute('data-status', 'timeout');
  await expect(runs.filter({ hasText: 'hello' })).toHaveAttribute('data-status', 'exited');
  await shoot(page, theme, 'runs', 'Runs', runs.first());

  // The requests with their verdicts, not the intake form above them.
  await navigate(page, '/inbox');
  const requests = page.getByTestId('request');
  await expect(requests).toHaveCount(5);
  await scrollToTop(page.getByRole('heading', { level: 2, name: /^Requests/ }));
  await shoot(page, theme, 'inbox', 'Inbox', requests.first());

  await requests
    .filter({ has: page.getByText('sha256-job', { exact: true }) })
    .getByTestId('request-review')
    .click();
  await shoot(page, theme, 'review', 'sha256-job', page.getByTestId('risk-gauge'));

  // The pictures, not the introduction above them.
  await navigate(page, '/');
  const chart = page.getByTestId('chart-runs-over-time');
  await chart.scrollIntoViewIfNeeded();
  await shoot(page, theme, 'overview', 'Night Core', chart);

  await navigate(page, '/audit');
  await auditReady(page);
  const chain = page.getByTestId('audit-status');
  await expect(chain).toHaveAttribute('data-chain', 'ok', { timeout: 15_000 });
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await shoot(page, theme, 'audit', 'Audit', chain);
}

test('screenshots of the main pages with the demo set loaded, light and dark', async ({
  browser
}) => {
  test.setTimeout(180_000);
  for (const theme of THEMES) {
    mkdirSync(outDir(theme), { recursive: true });
    if (UPDATE) mkdirSync(docsDir(theme), { recursive: true });
  }
  // A fixed locale and time zone, so dates and times read the same whoever remakes the pictures.
  const context = await browser.newContext({
    viewport: VIEWPORT,
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC'
  });
  const page = await context.newPage();
  try {
    await gotoReady(page, '/');
    await auditReady(page);
    await page.getByTestId('demo-load').click();
    await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'loaded', {
      // Five bundles verified and judged: slow on a busy machine.
      timeout: 30_000
    });

    await gotoReady(page, '/inbox');
    const byName = (name: string) =>
      page.getByTestId('request').filter({ has: page.getByText(name, { exact: true }) });
    for (const name of ['hello', 'loop']) {
      await byName(name).getByTestId('approve').click();
      await expect(byName(name)).toHaveAttribute('data-state', 'approved', { timeout: 15_000 });
    }
    // Both runs from one page load, each stored (not only shown) before the next step.
    await navigate(page, '/runs');
    for (const [name, status] of [
      ['hello', 'exited'],
      ['loop', 'timeout']
    ] as const) {
      await page
        .getByTestId('run-ready')
        .filter({ hasText: name })
        .getByTestId('run-start')
        .click();
      await runEnded(page.getByTestId('run').filter({ hasText: name }), status);
    }

    for (const theme of THEMES) await shootAll(page, theme);
  } finally {
    await context.close();
  }
});
