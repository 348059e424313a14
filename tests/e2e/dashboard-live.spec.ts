/**
 * The Overview's dashboard is live (docs/pictures.md): it re-reads requests and runs when the
 * request queue or a run changes, in another tab or its own, without a reload; bursts of change
 * signals are coalesced; nothing is read while the Overview is not shown. Real Chromium, real
 * IndexedDB, real BroadcastChannels, bundles signed by the real CLI, a real run in a real worker.
 */
import { expect, test, type Page } from '@playwright/test';
import { auditReady, gotoReady, watchForProblems } from './helpers';
import { cliWorkspace, pinKey, runReady } from './workspace';

test.describe.configure({ timeout: 90_000 });

/** Generous: the figures follow a change at once, but this machine is slow and shared. */
const LIVE = { timeout: 20_000 };

const figure = (page: Page, testid: string) => page.getByTestId(testid);
const refreshes = (page: Page) =>
  page.getByTestId('dashboard').getAttribute('data-refreshes').then(Number);
/** Waits until no refresh is in flight or queued, and returns how many have been done. */
async function settled(page: Page): Promise<number> {
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-refreshing', 'false', LIVE);
  return refreshes(page);
}

/** Posts `n` change messages on a real channel of the app's, as a burst of runs would. */
const postChanges = (page: Page, channel: string, n: number) =>
  page.evaluate(
    ({ channel, n }) => {
      const bc = new BroadcastChannel(channel);
      for (let i = 0; i < n; i++) bc.postMessage('changed');
      bc.close();
    },
    { channel, n }
  );

type Probe = Window & { __probe?: BroadcastChannel; __heard?: number };

/** A second listener on `channel` in `page`, counting what it hears (made after the dashboard's). */
const listen = (page: Page, channel: string) =>
  page.evaluate((channel) => {
    const w = window as Probe;
    w.__probe?.close();
    w.__heard = 0;
    w.__probe = new BroadcastChannel(channel);
    w.__probe.onmessage = () => (w.__heard = (w.__heard ?? 0) + 1);
  }, channel);

/** Resolves once the probe has heard `n` messages: a delivery barrier for the whole tab. */
const heard = (page: Page, n: number) =>
  page.waitForFunction((n) => ((window as Probe).__heard ?? 0) >= n, n, LIVE);

test('a request arriving, being approved and running in another tab updates the Overview without a reload', async ({
  context,
  page
}) => {
  const { problems } = watchForProblems(page);
  const overview = page;
  await gotoReady(overview, '/');
  await auditReady(overview);
  await expect(overview.getByTestId('dashboard')).toHaveAttribute('data-state', 'ready');
  await expect(overview.getByTestId('dashboard-empty')).toBeVisible();

  const actor = await context.newPage();
  const w = cliWorkspace('dashboard-live');
  await pinKey(actor, w.text('alice.pub'));
  await gotoReady(actor, '/inbox');
  await actor.getByTestId('intake-paste').fill(w.bundle('hello'));
  await actor.getByTestId('intake-submit').click();
  const request = actor.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending');

  // Arrived: one request, waiting for review.
  await expect(figure(overview, 'dashboard-requests')).toHaveAttribute('data-count', '1', LIVE);
  await expect(figure(overview, 'dashboard-pending')).toHaveText('1 waiting for review');
  await expect(figure(overview, 'chart-pending-age')).toHaveAttribute('data-count', '1');
  await expect(figure(overview, 'dashboard-runs')).toHaveText('0 runs');

  // Decided: no longer waiting.
  await request.getByTestId('approve').click();
  await expect(request).toHaveAttribute('data-state', 'approved');
  await expect(figure(overview, 'dashboard-pending')).toHaveAttribute('data-count', '0', LIVE);

  // Ran: the run and its outcome are pictured once it has ended.
  const run = await runReady(actor, 'hello');
  await expect(run).toHaveAttribute('data-status', 'exited', { timeout: 30_000 });
  // Not demo data: the label is for the Try-it set only.
  await expect(run.getByTestId('demo-badge')).toHaveCount(0);
  await expect(figure(overview, 'dashboard-runs')).toHaveText('1 run', LIVE);
  await expect(figure(overview, 'chart-runs-over-time')).toHaveAttribute('data-count', '1', LIVE);
  await expect(figure(overview, 'chart-runs-over-time').locator('.legend')).toContainText(
    'exited',
    LIVE
  );
  await expect(figure(overview, 'chart-durations')).toHaveAttribute('data-count', '1', LIVE);
  await expect(figure(overview, 'dashboard-requests')).toHaveAttribute('data-count', '1');
  expect(problems).toEqual([]);
});

test('a change made in the same tab (loading the Try-it set on the Overview) shows at once', async ({
  page
}) => {
  const { problems } = watchForProblems(page);
  await gotoReady(page, '/');
  await auditReady(page);
  await expect(page.getByTestId('dashboard-empty')).toBeVisible();
  await page.getByTestId('demo-load').click();
  await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'loaded');
  // Five demo bundles: the forged one is rejected, the others wait for review.
  await expect(figure(page, 'dashboard-requests')).toHaveAttribute('data-count', '5', LIVE);
  await expect(figure(page, 'dashboard-pending')).toHaveAttribute('data-count', '4', LIVE);
  await page.getByTestId('demo-remove').click();
  await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'absent');
  await expect(page.getByTestId('dashboard-empty')).toBeVisible(LIVE);
  expect(problems).toEqual([]);
});

test('a burst of change signals is coalesced, and nothing is read while the Overview is away', async ({
  context,
  page
}) => {
  await gotoReady(page, '/');
  await auditReady(page);
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ready');
  const other = await context.newPage();
  await gotoReady(other, '/keys');

  // 20 runs each write queued, running and ended: 60 signals from another tab. The probe is a
  // second listener in the Overview's tab, made after the dashboard's: once it has heard all 60,
  // so has the dashboard (messages reach a tab's listeners in the order they were made).
  const before = await settled(page);
  expect(before).toBeGreaterThanOrEqual(1);
  await listen(page, 'nightcore-runs');
  await postChanges(other, 'nightcore-runs', 60);
  await heard(page, 60);
  const after = await settled(page);
  // At least one refresh follows (the last signal is never lost), and far fewer than one per
  // signal: one in flight and one queued at a time.
  const burst = after - before;
  expect(burst).toBeGreaterThanOrEqual(1);
  test.info().annotations.push({ type: 'refreshes for 60 signals', description: String(burst) });
  expect(burst).toBeLessThanOrEqual(30);

  // Away from the Overview (a client-side navigation: the same state lives on), signals are not
  // heard; coming back reads once.
  await page.locator('header nav a[href="/inbox"]').click();
  await expect(page.getByTestId('dashboard')).toHaveCount(0);
  await listen(page, 'nightcore-runs');
  await postChanges(other, 'nightcore-runs', 60);
  await heard(page, 60);
  await page.locator('header nav a[href="/"]').click();
  await expect(page.getByTestId('dashboard')).toHaveAttribute(
    'data-refreshes',
    String(after + 1),
    LIVE
  );
  expect(await settled(page)).toBe(after + 1);
});

test('a real burst of 20 runs from the auto lane in another tab ends with every run pictured', async ({
  context,
  page
}) => {
  test.setTimeout(150_000);
  const { problems } = watchForProblems(page);
  const w = cliWorkspace('dashboard-burst');
  const files = Array.from({ length: 20 }, (_, i) => {
    const name = `burst-${String(i + 1).padStart(2, '0')}`;
    w.fixture('hello');
    w.nightcore(
      ...['sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0'],
      ...['--name', name, '--out', `${name}.ncb`]
    );
    return w.path(`${name}.ncb`);
  });
  const actor = await context.newPage();
  await pinKey(actor, w.text('alice.pub'));
  await actor.getByTestId('key').first().getByRole('combobox').selectOption('auto');
  await expect(actor.getByTestId('key').first()).toHaveAttribute('data-trust', 'auto');
  await actor.getByTestId('run-mode').getByLabel('Auto').check();
  await expect(actor.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
  await gotoReady(actor, '/inbox');

  await gotoReady(page, '/');
  await auditReady(page);
  const before = await settled(page);
  // Count every signal the Overview's tab hears, on both channels.
  await page.evaluate(() => {
    const w = window as Window & { __signals?: number };
    w.__signals = 0;
    for (const name of ['nightcore-requests', 'nightcore-runs'])
      new BroadcastChannel(name).onmessage = () => (w.__signals = (w.__signals ?? 0) + 1);
  });

  // One intake of 20 auto-approved bundles: the lane starts them all, the cap queues the rest.
  await actor.getByTestId('intake-file').setInputFiles(files);
  await expect(figure(page, 'dashboard-requests')).toHaveAttribute('data-count', '20', LIVE);
  // Every run ended and pictured: a duration is only recorded at the end.
  await expect(figure(page, 'chart-durations')).toHaveAttribute('data-count', '20', {
    timeout: 120_000
  });
  await expect(figure(page, 'dashboard-runs')).toHaveText('20 runs');
  await expect(figure(page, 'dashboard-pending')).toHaveAttribute('data-count', '0');
  await expect(figure(page, 'chart-runs-over-time').getByRole('img')).toHaveAttribute(
    'aria-label',
    /20 exited/
  );
  const reads = (await settled(page)) - before;
  const signals = await page.evaluate(() => (window as Window & { __signals?: number }).__signals);
  test.info().annotations.push({
    type: '20-run burst',
    description: `${signals} signals, ${reads} reads`
  });
  // Never more reads than signals (each read answers at least one); the 60-signal test above
  // shows how far coalescing folds a dense burst.
  expect(reads).toBeLessThanOrEqual((signals ?? 0) + 1);
  expect(problems).toEqual([]);
});
