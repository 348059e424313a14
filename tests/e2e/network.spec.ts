/**
 * Nothing leaves the device. A whole session (pin a key, take bundles in, review, approve, run,
 * export the audit log, edit the policy, visit every page) is recorded request by request, both
 * by Playwright (page, workers, service worker) and by CDP on the page (which also sees
 * websockets): every request must be a same-origin GET of a file the build emitted, with no body.
 * CSP violations and console errors must be zero. Then the same session in a fresh context with
 * the network off (after one online load) must end the same way without one request reaching
 * the network.
 */
import { expect, test, type BrowserContext, type Download, type Page } from '@playwright/test';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  PAGES,
  auditReady,
  auditRecords,
  gotoReady,
  waitForServiceWorkerControl,
  watchForProblems
} from './helpers';
import { approveBundle, cliWorkspace, pinKey, runReady, type Workspace } from './workspace';

const BUILD = new URL('../../build/', import.meta.url).pathname;

interface Seen {
  url: string;
  method: string;
  type: string;
  body: boolean;
  /** Answered by the service worker's cache (or still unanswered: null). */
  fromCache: boolean | null;
  by: 'page' | 'service-worker';
}

/** Every request the context makes, as Playwright and CDP see them; CSP reports; websockets. */
async function record(context: BrowserContext, page: Page) {
  const seen: Seen[] = [];
  const cdpSeen: { url: string; method: string; body: boolean }[] = [];
  const sockets: string[] = [];
  const csp: string[] = [];
  context.on('request', (request) =>
    seen.push({
      url: request.url(),
      method: request.method(),
      type: request.resourceType(),
      body: request.postDataBuffer() !== null,
      fromCache: null,
      by: request.serviceWorker() ? 'service-worker' : 'page'
    })
  );
  context.on('requestfinished', async (request) => {
    const entry = seen.findLast((s) => s.url === request.url() && s.fromCache === null);
    const response = await request.response();
    if (entry && response) entry.fromCache = response.fromServiceWorker();
  });
  page.on('websocket', (socket) => sockets.push(socket.url()));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.requestWillBeSent', (event) =>
    cdpSeen.push({
      url: event.request.url,
      method: event.request.method,
      body: event.request.hasPostData === true
    })
  );
  cdp.on('Network.webSocketCreated', (event) => sockets.push(event.url));
  // Before any page script: CSP reports reach the test even across navigations.
  await context.exposeBinding('__nightcoreCsp', (_source, text: string) => csp.push(text));
  await context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (event) =>
      (window as unknown as { __nightcoreCsp(text: string): void }).__nightcoreCsp(
        `${event.violatedDirective} ${event.blockedURI}`
      )
    )
  );
  return { seen, cdpSeen, sockets, csp };
}

/** The build file a same-origin path is served from (prerendered pages are NAME.html). */
function buildFile(pathname: string): string | null {
  const candidates =
    pathname === '/' ? ['index.html'] : [pathname.slice(1), `${pathname.slice(1)}.html`];
  for (const candidate of candidates) {
    const file = join(BUILD, decodeURIComponent(candidate));
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return null;
}

/** Why a request is not a plain read of a static file of this build, or null when it is. */
function offence(origin: string, url: string, method: string, body: boolean): string | null {
  // Downloads the app makes itself (audit export) are local object URLs of this origin.
  if (url.startsWith(`blob:${origin}/`)) return null;
  if (url.startsWith('data:')) return null;
  const parsed = new URL(url);
  if (parsed.origin !== origin) return `other origin: ${url}`;
  if (method !== 'GET') return `${method}: ${url}`;
  if (body) return `a body was sent: ${url}`;
  if (parsed.search && !(parsed.pathname === '/review' && /^\?id=[\w-]+$/.test(parsed.search)))
    return `a query string: ${url}`;
  if (!buildFile(parsed.pathname)) return `not a file of the build: ${url}`;
  return null;
}

interface Outcome {
  requests: string[];
  runs: string[];
  mode: string | null;
  keys: number;
  exported: number;
  events: string[];
  chain: string | null;
}

/** The whole session; returns what it ended with, for comparing online and offline. */
async function session(page: Page, w: Workspace): Promise<Outcome> {
  await gotoReady(page, '/');
  await auditReady(page);
  await pinKey(page, w.text('alice.pub'));

  // Intake by file, then review one on its own page and approve it there.
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(w.path('hello.ncb'));
  await expect(page.getByTestId('request')).toHaveCount(1);
  await page.getByTestId('request').first().getByTestId('request-review').click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  await page.getByTestId('approve').click();
  await expect(page.getByTestId('review-result')).toBeVisible();
  // And one pasted, approved from the Inbox.
  await approveBundle(page, w.text('echo-args.ncb'));

  // Each run is on record before the next full page load: the card shows the end before it is
  // stored, and a reload in between would record the run as interrupted.
  for (const name of ['hello', 'echo-args']) {
    const card = await runReady(page, name);
    await expect(card).toHaveAttribute('data-status', 'exited');
    await expect(card.getByTestId('run-receipt')).toBeVisible();
  }
  const runs: string[] = [];
  for (const card of await page.getByTestId('run').all()) {
    runs.push(
      `${await card.getAttribute('data-status')} ${await card.getAttribute('data-exit-code')} ${JSON.stringify(await card.getByTestId('run-stdout').textContent())}`
    );
  }

  await gotoReady(page, '/policy');
  await expect(page.getByTestId('policy-form')).toBeVisible();
  await page.locator('#policy-limits-maximum-memoryMiB').fill('256');
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-message')).toContainText('Saved as version 2');

  await gotoReady(page, '/keys');
  await expect(page.getByTestId('key')).toHaveCount(1);
  const keys = await page.getByTestId('key').count();
  await gotoReady(page, '/settings');
  await expect(page.getByTestId('persistence')).toBeVisible();
  for (const { path } of PAGES) {
    await gotoReady(page, path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  }

  await gotoReady(page, '/audit');
  await expect(page.getByTestId('audit-status')).toHaveAttribute('data-chain', 'ok');
  const downloads: Download[] = [];
  page.on('download', (download) => downloads.push(download));
  await page.getByTestId('audit-export').click();
  await expect.poll(() => downloads.length).toBe(2);
  await expect(page.getByTestId('audit-export-result')).toContainText('Exported');
  const jsonl = downloads.find((d) => d.suggestedFilename().endsWith('.jsonl'))!;
  const exported = readFileSync(await jsonl.path(), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"seq"')).length;

  await gotoReady(page, '/inbox');
  await expect(page.getByTestId('request')).toHaveCount(2);
  const requests: string[] = [];
  for (const request of await page.getByTestId('request').all())
    requests.push(
      `${await request.getAttribute('data-state')} ${await request.locator('.name').textContent()} ${await request.getByTestId('verdict').getAttribute('data-verdict')}`
    );
  return {
    requests: requests.sort(),
    runs: runs.sort(),
    mode: await page.getByTestId('run-mode').getAttribute('data-mode'),
    keys,
    exported,
    events: (await auditRecords(page)).map((r) => r.event),
    chain: await page.evaluate(
      () =>
        (
          window as { nightcoreAutomation?: { audit: { status(): { status: string } } } }
        ).nightcoreAutomation?.audit.status().status ?? null
    )
  };
}

function signed() {
  const w = cliWorkspace('network');
  w.bundle('hello');
  w.bundle('echo-args', '--arg', 'no network');
  return w;
}

test('a whole session sends nothing anywhere, online and then offline alike', async ({
  browser,
  baseURL
}) => {
  test.setTimeout(150_000);
  const origin = new URL(baseURL!).origin;
  const w = signed();

  // 1. Online.
  const online = await browser.newContext();
  const page = await online.newPage();
  const net = await record(online, page);
  const problems = watchForProblems(page);
  const first = await session(page, w);
  const offences = [
    ...net.seen.map((s) => offence(origin, s.url, s.method, s.body)),
    ...net.cdpSeen.map((s) => offence(origin, s.url, s.method, s.body))
  ].filter((o) => o !== null);
  expect(offences).toEqual([]);
  expect(net.sockets).toEqual([]);
  expect(net.csp).toEqual([]);
  expect(problems.problems).toEqual([]);
  expect(first.runs).toEqual(['exited 0 "hello from wasm\\n"', 'exited 0 "no network\\n"']);
  expect(first.chain).toBe('ok');
  // The listener is live: a violation made on purpose is reported.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__x = 1';
    document.body.append(script);
  });
  await expect.poll(() => net.csp.length).toBe(1);
  const onlineCounts = {
    requests: net.seen.length,
    network: net.seen.filter((s) => s.fromCache === false).length,
    fromCache: net.seen.filter((s) => s.fromCache === true).length,
    serviceWorker: net.seen.filter((s) => s.by === 'service-worker').length,
    cdp: net.cdpSeen.length
  };
  await online.close();

  // 2. Offline: one online load so the service worker installs, then the network is cut.
  const offline = await browser.newContext();
  const page2 = await offline.newPage();
  await gotoReady(page2, '/');
  await waitForServiceWorkerControl(page2);
  const net2 = await record(offline, page2);
  await offline.setOffline(true);
  const problems2 = watchForProblems(page2);
  const second = await session(page2, w);
  expect(problems2.problems).toEqual([]);
  expect(net2.csp).toEqual([]);
  expect(net2.sockets).toEqual([]);
  const reached = net2.seen.filter(
    (s) => s.fromCache === false && !s.url.startsWith('blob:') && !s.url.startsWith('data:')
  );
  expect(reached.map((s) => s.url)).toEqual([]);
  expect(second).toEqual(first);
  const offlineCounts = {
    requests: net2.seen.length,
    network: reached.length,
    fromCache: net2.seen.filter((s) => s.fromCache === true).length,
    cdp: net2.cdpSeen.length
  };
  await offline.close();
  console.log(
    `network: online ${JSON.stringify(onlineCounts)}; offline ${JSON.stringify(offlineCounts)}`
  );
});
