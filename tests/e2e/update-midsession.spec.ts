import { expect, test, type Page } from '@playwright/test';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { auditReady, auditRecords, gotoReady, waitForServiceWorkerControl } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runReady } from './workspace';

/**
 * A new version is deployed (a new service-worker script, as in update.spec.ts) while the user is
 * in the middle of work, in three tabs: a run running, a policy draft unsaved, a review with a
 * lowered grant. Nothing may reload behind the user's back; Reload says what it would lose; the
 * reload the user chooses lands on the new version with every record intact, and a run it cuts
 * ends `interrupted`.
 */

/** Which service worker controls the page: 'v2' answers, the original build does not. */
const which = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        navigator.serviceWorker.addEventListener('message', (e) => resolve(String(e.data)), {
          once: true
        });
        navigator.serviceWorker.controller!.postMessage('which');
        setTimeout(() => resolve('v1'), 5000); // a busy machine wakes a worker slowly
      })
  );

/** A value on `window` that only a reload clears: proof the page was not reloaded. */
const mark = (page: Page) => page.evaluate(() => ((window as { mark?: boolean }).mark = true));
const marked = (page: Page) => page.evaluate(() => (window as { mark?: boolean }).mark === true);

async function requestCount(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const count = await new Promise<number>((resolve, reject) => {
      const request = db.transaction('requests').objectStore('requests').count();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return count;
  });
}

test('a new version mid-session reloads nothing by itself, warns before losing work, and a chosen reload keeps every record', async ({
  browser
}) => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-build-'));
  cpSync(new URL('../../build', import.meta.url), dir, { recursive: true });
  const server = await startServer({ dir, port: 0 });
  const context = await browser.newContext({ baseURL: server.url });
  const w = cliWorkspace('update-midsession');
  try {
    // Tab A: a run that lasts (an endless loop under a 60 s watchdog).
    const a = await context.newPage();
    await pinKey(a, w.text('alice.pub'));
    await approveBundle(a, w.bundle('loop', '--timeout-ms', '60000'));
    await gotoReady(a, '/inbox');
    await a.getByTestId('intake-paste').fill(w.bundle('echo-args'));
    await a.getByTestId('intake-submit').click();
    await expect(a.getByTestId('request').first()).toHaveAttribute('data-state', 'pending');
    await waitForServiceWorkerControl(a);
    const run = await runReady(a, 'loop');
    await expect(run).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
    const runId = await run.getAttribute('data-run-id');
    const requestsBefore = await requestCount(a);

    // Tab B: a policy draft, edited and not saved.
    const b = await context.newPage();
    await gotoReady(b, '/policy');
    const json = b.getByTestId('policy-json');
    await expect(json).not.toHaveValue('');
    const draft = JSON.parse(await json.inputValue());
    draft.maxConcurrentRuns = 3;
    const draftText = JSON.stringify(draft, null, 2);
    await json.fill(draftText);

    // Tab C: the review of the pending request, its timeout lowered, not yet decided.
    const c = await context.newPage();
    await gotoReady(c, '/inbox');
    await c.getByTestId('request').filter({ hasText: 'echo-args' }).getByRole('link').click();
    await expect(c.getByTestId('review')).toHaveAttribute('data-state', 'ready');
    await c.getByTestId('review-grant-timeoutMs').fill('1000');

    for (const page of [a, b, c]) await mark(page);

    // Deploy version 2; the tabs find it the way the app looks (on becoming visible).
    appendFileSync(
      join(dir, 'service-worker.js'),
      `\nself.addEventListener('message', (e) => { if (e.data === 'which') e.source.postMessage('v2'); });\n`
    );
    await a.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    for (const page of [a, b, c]) {
      await expect(page.getByTestId('update-banner')).toBeVisible({ timeout: 20_000 });
    }
    // Offered, not forced: no tab reloaded, the run runs, the draft and the form are as typed.
    for (const page of [a, b, c]) expect(await marked(page)).toBe(true);
    await expect(run).toHaveAttribute('data-status', 'running');
    await expect(json).toHaveValue(draftText);
    await expect(c.getByTestId('review-grant-timeoutMs')).toHaveValue('1000');
    expect(await which(a)).toBe('v1');

    // Reload on the review tab names the lowered grant; "Not now" keeps it.
    await c.getByTestId('update-reload').click();
    await expect(c.getByTestId('update-warning')).toContainText(
      'discard the grant you lowered on this review'
    );
    await c.getByTestId('update-later').click();
    await expect(c.getByTestId('update-warning')).toHaveCount(0);
    await expect(c.getByTestId('review-grant-timeoutMs')).toHaveValue('1000');

    // Reload on the policy tab names the draft; the user saves it, then reloads into v2.
    await b.getByTestId('update-reload').click();
    await expect(b.getByTestId('update-warning')).toContainText(
      'discard your unsaved policy draft'
    );
    // Only what this tab would lose: the run lives in tab A, and no other tab reloads.
    await expect(b.getByTestId('update-warning')).not.toContainText('run');
    await b.getByTestId('update-later').click();
    await b.getByTestId('policy-save').click();
    await expect(b.getByTestId('policy-message')).toContainText('Saved as version', {
      timeout: 10_000
    });
    await Promise.all([b.waitForEvent('load'), b.getByTestId('update-reload').click()]);
    await expect(b.locator('html[data-ready="true"]')).toHaveCount(1);
    expect(await which(b)).toBe('v2');
    await expect(b.getByTestId('update-banner')).toHaveCount(0);
    const saved = JSON.parse(await b.getByTestId('policy-json').inputValue());
    expect(saved.maxConcurrentRuns).toBe(3);

    // Tab B's choice activated v2 everywhere, yet tab A was not reloaded: its run still runs.
    expect(await marked(a)).toBe(true);
    await expect(run).toHaveAttribute('data-status', 'running');

    // In tab A, Reload warns about the run; "Reload anyway" cuts it, and it ends interrupted.
    await a.getByTestId('update-reload').click();
    await expect(a.getByTestId('update-warning')).toContainText(
      'stop the run in progress (recorded as interrupted)'
    );
    await Promise.all([a.waitForEvent('load'), a.getByTestId('update-reload-anyway').click()]);
    await expect(a.locator('html[data-ready="true"]')).toHaveCount(1);
    expect(await which(a)).toBe('v2');
    await gotoReady(a, '/runs');
    await auditReady(a);
    await expect(a.locator(`[data-testid="run"][data-run-id="${runId}"]`)).toHaveAttribute(
      'data-status',
      'interrupted',
      { timeout: 20_000 }
    );
    await expect
      .poll(async () =>
        (await auditRecords(a))
          .filter((r) => r.subject.runId === runId)
          .map((r) => r.event)
          .join(',')
      )
      .toBe('run.started,run.interrupted');
    expect(await requestCount(a)).toBe(requestsBefore);
    const check = await a.evaluate(() =>
      (
        window as unknown as {
          nightcoreAutomation: { audit: { check(): Promise<{ status: string }> } };
        }
      ).nightcoreAutomation.audit.check()
    );
    expect(check.status).toBe('ok');
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A real deployment replaces every page's hashed chunk: the new build's files are renamed, every
 * reference to them rewritten, and the version (hence the cache name) changes. Tabs still on the
 * old version hold references to the old names.
 */
function deployNewBuild(dir: string): string {
  const nodes = join(dir, '_app/immutable/nodes');
  const renames = readdirSync(nodes)
    .filter((f) => f.endsWith('.js'))
    .map((f) => [f, f.replace(/\.js$/, 'v2.js')] as const);
  for (const [from, to] of renames) renameSync(join(nodes, from), join(nodes, to));
  const version = JSON.parse(readFileSync(join(dir, '_app/version.json'), 'utf8')).version;
  const next = String(Number(version) + 1);
  const rewrite = (path: string) => {
    let text = readFileSync(path, 'utf8');
    for (const [from, to] of renames) text = text.replaceAll(`nodes/${from}`, `nodes/${to}`);
    writeFileSync(path, text.replaceAll(version, next));
  };
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(js|html|json)$/.test(entry.name)) rewrite(path);
    }
  };
  walk(dir);
  return next;
}

test('a tab left on the old version keeps working after another tab reloads into the new one', async ({
  browser
}) => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-build-'));
  cpSync(new URL('../../build', import.meta.url), dir, { recursive: true });
  const server = await startServer({ dir, port: 0 });
  const context = await browser.newContext({ baseURL: server.url });
  const w = cliWorkspace('update-old-tab');
  try {
    const a = await context.newPage();
    await pinKey(a, w.text('alice.pub'));
    await approveBundle(a, w.bundle('loop', '--timeout-ms', '60000'));
    await waitForServiceWorkerControl(a);
    const run = await runReady(a, 'loop');
    await expect(run).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
    await mark(a);

    const next = deployNewBuild(dir);
    await a.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await expect(a.getByTestId('update-banner')).toBeVisible({ timeout: 20_000 });

    // Another tab takes the new version (nothing to lose there).
    const b = await context.newPage();
    await gotoReady(b, '/');
    await expect(b.getByTestId('update-banner')).toBeVisible({ timeout: 20_000 });
    await Promise.all([b.waitForEvent('load'), b.getByTestId('update-reload').click()]);
    await expect(b.locator('html[data-ready="true"]')).toHaveCount(1);
    expect(await b.evaluate(() => caches.keys())).toContain(`nightcore-${next}`);

    // Tab A, still on the old version, opens a page it had not loaded yet: its chunk is gone
    // from the server, and comes from the old version's cache. No reload, the run runs on.
    await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await expect(a.getByRole('heading', { level: 1 })).toHaveText(/Audit/, { timeout: 20_000 });
    await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    await expect(run).toHaveAttribute('data-status', 'running');
    expect(await marked(a)).toBe(true);
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
