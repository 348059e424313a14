// app-size: what the first page costs to load, gzip-compressed: the JS and CSS the browser
// fetches for `/` (followed through static imports from the page's entry), measured by loading
// the page in Chromium and gzipping each same-origin script and stylesheet response (level 9,
// what a static host typically serves). The service worker's precache fetches later, off the
// first paint, and is not counted.
import { gzipSync } from 'node:zlib';

export async function appSize({ browser, appUrl }) {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const files = new Map();
  page.on('response', async (response) => {
    const url = response.url();
    if (!url.startsWith(appUrl)) return;
    const type = response.request().resourceType();
    if (type !== 'script' && type !== 'stylesheet') return;
    try {
      files.set(url, { type, bytes: await response.body() });
    } catch {
      // a redirect or an aborted request has no body
    }
  });
  await page.goto(appUrl, { waitUntil: 'networkidle' });
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
  await context.close();
  let js = 0;
  let css = 0;
  let raw = 0;
  for (const { type, bytes } of files.values()) {
    const gz = gzipSync(bytes, { level: 9 }).length;
    raw += bytes.length;
    if (type === 'script') js += gz;
    else css += gz;
  }
  const kib = (n) => n / 1024;
  return {
    samples: [kib(js + css)],
    unit: 'KiB',
    extra: {
      files: files.size,
      'JS gzip': `${kib(js).toFixed(1)} KiB`,
      'CSS gzip': `${kib(css).toFixed(1)} KiB`,
      uncompressed: `${kib(raw).toFixed(1)} KiB`
    }
  };
}
