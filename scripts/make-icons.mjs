// Renders static/favicon.svg into the PNG icons the web app manifest names (run: npm run icons).
// Chromium draws the SVG, so the PNGs match what browsers show for the favicon.
import { readFile, writeFile } from 'node:fs/promises';
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const svg = await readFile(new URL('../static/favicon.svg', import.meta.url), 'utf8');
const dataUrl = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;

const icons = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  // Maskable: full-bleed background, the mark inside the central 80% safe zone.
  { file: 'maskable-512.png', size: 512, maskable: true }
];

const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
try {
  for (const { file, size, maskable } of icons) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const inner = maskable ? Math.round(size * 0.7) : size;
    await page.setContent(
      `<body style="margin:0;width:${size}px;height:${size}px;display:grid;place-items:center;background:${maskable ? '#1b2140' : 'transparent'}">` +
        `<img src="${dataUrl}" width="${inner}" height="${inner}"></body>`
    );
    const png = await page.screenshot({ omitBackground: !maskable, type: 'png' });
    await writeFile(new URL(`../static/icons/${file}`, import.meta.url), png);
    console.log(`static/icons/${file} (${size}x${size}, ${png.length} bytes)`);
    await page.close();
  }
} finally {
  await browser.close();
}
