import { expect, test } from '@playwright/test';
import { auditReady, auditRecords, gotoReady, waitForServiceWorkerControl } from './helpers';
import { cliWorkspace, pinKey } from './workspace';

/** The Inbox link carrying `bundleText` (as `basenc --base64url -w0 | tr -d =` would make it). */
const importLink = (bundleText: string) =>
  `/inbox#import=${Buffer.from(bundleText).toString('base64url')}`;

/** The audit's intake records as [channel, result] pairs ('taken' when not refused). */
async function intakes(page: import('@playwright/test').Page) {
  return (await auditRecords(page))
    .filter((r) => r.event === 'intake')
    .map((r) => [r.details.channel, r.details.result ?? 'taken']);
}

test('a link carrying a signed bundle is verified, queued with channel url, and not taken twice', async ({
  page
}) => {
  const w = cliWorkspace('channels');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, importLink(bundle));
  const request = page.getByTestId('request').first();
  await expect(request.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(request).toHaveAttribute('data-channel', 'url');
  await expect(request).toContainText('linked bundle');
  await expect(page.getByTestId('intake-result')).toContainText('1 received, 1 verified');
  // The fragment is gone, so reloading does not import again.
  expect(new URL(page.url()).hash).toBe('');
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  await expect(page.getByTestId('request')).toHaveCount(1);
  expect(await intakes(page)).toEqual([['url', 'taken']]);
});

test('a link changed while the Inbox is open is taken in; a bad one is refused, shown and audited', async ({
  page
}) => {
  const w = cliWorkspace('channels');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  await auditReady(page);
  await page.evaluate(() => {
    location.hash = 'import=not*base64url';
  });
  const result = page.getByTestId('intake-result');
  await expect(result).toHaveAttribute('role', 'alert');
  await expect(result).toContainText('The import link is not valid base64url');
  await expect(page.getByTestId('request')).toHaveCount(0);
  await page.evaluate(
    (hash) => {
      location.hash = hash;
    },
    `import=${Buffer.from('hello, not a bundle').toString('base64url')}`
  );
  await expect(result).toContainText('does not carry a Night Core bundle');
  await page.evaluate(
    (hash) => {
      location.hash = hash;
    },
    new URL(importLink(bundle), 'http://x').hash
  );
  await expect(page.getByTestId('request')).toHaveCount(1);
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-channel', 'url');
  expect(new URL(page.url()).hash).toBe('');
  const refused = (await auditRecords(page)).filter(
    (r) => r.event === 'intake' && r.details.result === 'refused'
  );
  expect(refused.map((r) => [r.details.channel, r.details.reason])).toEqual([
    ['url', expect.stringContaining('not valid base64url')],
    ['url', expect.stringContaining('does not carry a Night Core bundle')]
  ]);
  expect(await intakes(page)).toEqual([
    ['url', 'refused'],
    ['url', 'refused'],
    ['url', 'taken']
  ]);
});

test('an import link over 64 KiB is refused with a clear message', async ({ page }) => {
  await gotoReady(page, '/inbox');
  await auditReady(page);
  await page.evaluate(() => {
    location.hash = `import=${'A'.repeat(70 * 1024)}`;
  });
  await expect(page.getByTestId('intake-result')).toContainText('too much to import');
  expect(await intakes(page)).toEqual([['url', 'refused']]);
});

/** Submits a real multipart form to /share-target from the page, with `files` as its files. */
async function share(
  page: import('@playwright/test').Page,
  files: { name: string; mimeType: string; buffer: Buffer }[]
) {
  await page.evaluate(() => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = '/share-target';
    form.enctype = 'multipart/form-data';
    form.id = 'share-form';
    const input = document.createElement('input');
    input.type = 'file';
    input.name = 'files';
    input.multiple = true;
    form.append(input);
    document.body.append(form);
  });
  await page.locator('#share-form input').setInputFiles(files);
  await page.evaluate(() => (document.getElementById('share-form') as HTMLFormElement).submit());
}

test('the share target: shared files are stored by the service worker and queued with channel share-target', async ({
  page
}) => {
  const w = cliWorkspace('channels');
  const bundle = w.bundle('hello');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  await waitForServiceWorkerControl(page);
  await share(page, [
    { name: 'hello.ncb', mimeType: 'application/json', buffer: Buffer.from(bundle) }
  ]);
  await page.waitForURL(/\/inbox/);
  const request = page.getByTestId('request').first();
  await expect(request.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(request).toHaveAttribute('data-channel', 'share-target');
  await expect(request).toContainText('hello.ncb');
  expect(new URL(page.url()).hash).toBe('');
  // Taken once: the stored files are deleted as they are read.
  const left = await page.evaluate(async () => (await caches.open('nightcore-shared')).keys());
  expect(left).toHaveLength(0);
  expect(await intakes(page)).toEqual([['share-target', 'taken']]);
});

test('the share target refuses too many files, and the Inbox says so and audits it', async ({
  page
}) => {
  await gotoReady(page, '/inbox');
  await waitForServiceWorkerControl(page);
  await share(
    page,
    Array.from({ length: 21 }, (_, i) => ({
      name: `m${i}.wasm`,
      mimeType: 'application/wasm',
      buffer: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
    }))
  );
  await page.waitForURL(/\/inbox/);
  await expect(page.getByTestId('intake-result')).toContainText('Too many files were shared');
  await auditReady(page);
  await expect.poll(() => intakes(page)).toEqual([['share-target', 'refused']]);
  await expect(page.getByTestId('request')).toHaveCount(0);
});

test('the manifest declares file handlers and a share target for bundles, modules and signatures', async ({
  request
}) => {
  const manifest = await (await request.get('/manifest.webmanifest')).json();
  const handlers: { action: string; accept: Record<string, string[]> }[] = manifest.file_handlers;
  expect(handlers).toHaveLength(1);
  expect(handlers[0]!.action).toBe('/inbox');
  const extensions = Object.values(handlers[0]!.accept).flat();
  for (const ext of ['.ncb', '.wasm', '.minisig', '.sig']) expect(extensions).toContain(ext);
  expect(handlers[0]!.accept['application/wasm']).toEqual(['.wasm']);
  expect(manifest.share_target).toMatchObject({
    action: '/share-target',
    method: 'POST',
    enctype: 'multipart/form-data',
    params: {
      files: [
        { name: 'files', accept: expect.arrayContaining(['.ncb', '.wasm', '.minisig', '.sig']) }
      ]
    }
  });
});
