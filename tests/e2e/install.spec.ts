import { chromium, expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { gotoReady, waitForServiceWorkerControl } from './helpers';

test('the web app manifest parses and has what installing needs', async ({ page, request }) => {
  await gotoReady(page, '/');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBeTruthy();
  const response = await request.get(new URL(href!, page.url()).toString());
  expect(response.ok()).toBe(true);
  expect(response.headers()['content-type']).toContain('application/manifest+json');
  const manifest = JSON.parse(await response.text());
  expect(manifest).toMatchObject({
    id: '/',
    name: expect.stringContaining('Night Core'),
    short_name: 'Night Core',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/i),
    background_color: expect.stringMatching(/^#[0-9a-f]{6}$/i)
  });
  const icons: { src: string; sizes: string; type: string; purpose: string }[] = manifest.icons;
  for (const [sizes, purpose] of [
    ['192x192', 'any'],
    ['512x512', 'any'],
    ['512x512', 'maskable']
  ]) {
    const icon = icons.find(
      (i) => i.sizes === sizes && i.purpose === purpose && i.type === 'image/png'
    );
    expect(icon, `${sizes} ${purpose} PNG icon`).toBeTruthy();
    const image = await request.get(icon!.src);
    const bytes = await image.body();
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    const [width, height] = [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
    expect(`${width}x${height}`).toBe(sizes);
  }
});

test('Chromium reports the app installable', async ({ baseURL }) => {
  // Installability needs a persistent profile: an ordinary new context reports "in-incognito".
  const profile = mkdtempSync(join(tmpdir(), 'nightcore-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: chromiumArgs,
    baseURL
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await gotoReady(page, '/');
    await waitForServiceWorkerControl(page);
    const cdp = await context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.errors).toEqual([]);
    await expect
      .poll(async () => (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors, {
        timeout: 10_000
      })
      .toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
