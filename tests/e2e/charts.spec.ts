/**
 * The pictures (docs/pictures.md) on real data: bundles signed by the real CLI, runs in real
 * workers, rows in the real IndexedDB. What each chart says it represents (data-count) is checked
 * against the stored rows read directly, not against the chart code.
 */
import { expect, test, type Page } from '@playwright/test';
import { gotoReady, watchForProblems } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runReady } from './workspace';

test.describe.configure({ timeout: 90_000 });

interface StoredRows {
  runs: { durationMs?: unknown; peakMemoryBytes?: unknown }[];
  requests: {
    state: string;
    name: string | null;
    version: string | null;
    verdict: { reasons: { code: string }[] };
    policy?: { reasons: { code: string }[]; risk: { score: number } };
  }[];
}

/** Every run and request row, read from IndexedDB without the app's code. */
async function storedRows(page: Page): Promise<StoredRows> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const all = (store: string) =>
      new Promise<unknown[]>((resolve, reject) => {
        const request = db.transaction(store).objectStore(store).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const [runs, requests] = await Promise.all([all('runs'), all('requests')]);
    db.close();
    return { runs, requests } as StoredRows;
  });
}

const count = (page: Page, testid: string) =>
  page.getByTestId(testid).getAttribute('data-count').then(Number);

test('with nothing stored, the Overview says so instead of drawing empty charts', async ({
  page
}) => {
  const { problems } = watchForProblems(page);
  await gotoReady(page, '/');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('dashboard-empty')).toContainText('Nothing to picture yet');
  await expect(page.locator('[data-testid^="chart-"]')).toHaveCount(0);
  expect(problems).toEqual([]);
});

test('Overview charts count the stored runs and requests; the review page pictures risk and the diff', async ({
  page
}) => {
  const { problems } = watchForProblems(page);
  const w = cliWorkspace('charts');
  await pinKey(page, w.text('alice.pub'));
  await approveBundle(page, w.bundle('hello'));
  await approveBundle(page, w.bundle('loop', '--timeout-ms', '500'));
  await expect(await runReady(page, 'hello')).toHaveAttribute('data-status', 'exited', {
    timeout: 30_000
  });
  await expect(await runReady(page, 'loop')).toHaveAttribute('data-status', 'timeout', {
    timeout: 30_000
  });

  // A second version of hello that asks for a new capability, left pending; and an input signed
  // by a key nobody pinned, so at least one request carries a verdict reason.
  await gotoReady(page, '/inbox');
  const v2Flags = ['--version', '1.1.0', '--capability', 'clock', '--out', 'v2.ncb'];
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', ...v2Flags);
  await page.getByTestId('intake-paste').fill(w.text('v2.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'pending');
  w.nightcore('keygen', '--out', 'mallory');
  w.nightcore('sign', 'hello.wasm', '--key', 'mallory.key', '--version', '9.0.0', '--out', 'm.ncb');
  await page.getByTestId('intake-paste').fill(w.text('m.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request')).toHaveCount(4);

  const rows = await storedRows(page);
  expect(rows.runs).toHaveLength(2);
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const reasonTotal = rows.requests.reduce(
    (n, r) =>
      n + new Set([...r.verdict.reasons, ...(r.policy?.reasons ?? [])].map((x) => x.code)).size,
    0
  );
  expect(reasonTotal).toBeGreaterThan(0);

  await gotoReady(page, '/');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('chart-runs-over-time')).toHaveAttribute('data-count', '2');
  expect(await count(page, 'chart-durations')).toBe(
    rows.runs.filter((r) => finite(r.durationMs)).length
  );
  expect(await count(page, 'chart-memory')).toBe(
    rows.runs.filter((r) => finite(r.peakMemoryBytes)).length
  );
  expect(await count(page, 'chart-verdict-reasons')).toBe(reasonTotal);
  const pending = rows.requests.filter((r) => r.state === 'pending').length;
  expect(pending).toBeGreaterThan(0);
  expect(await count(page, 'chart-pending-age')).toBe(pending);
  // Outcomes are told apart in words, not only colour: the legend and the accessible summary.
  const overTime = page.getByTestId('chart-runs-over-time');
  await expect(overTime.locator('.legend')).toContainText('exited');
  await expect(overTime.locator('.legend')).toContainText('timeout');
  await expect(overTime.getByRole('img')).toHaveAttribute('aria-label', /1 exited, 1 timeout/);
  await expect(page.getByTestId('chart-pending-age').getByRole('img')).toHaveAttribute(
    'aria-label',
    new RegExp(`< 1 h: ${pending},`)
  );

  // On a phone-sized screen the charts shrink with their container; nothing scrolls sideways.
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = () =>
    page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth
    );
  expect(await overflow()).toBeLessThanOrEqual(0);

  // The review page of hello 1.1.0.
  const v2 = rows.requests.find((r) => r.name === 'hello' && r.version === '1.1.0');
  expect(v2?.policy).toBeDefined();
  await gotoReady(page, '/inbox');
  await page
    .getByTestId('request')
    .filter({ hasText: '1.1.0' })
    .getByTestId('request-review')
    .click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  const gauge = page.getByTestId('risk-gauge');
  const score = v2!.policy!.risk.score;
  await expect(gauge).toHaveAttribute('data-score', String(score));
  await expect(gauge.getByTestId('risk-score')).toHaveText(`Risk ${score}/100`);
  const diff = page.getByTestId('diff-chart');
  const clock = diff.locator('[data-capability="clock"]');
  await expect(clock).toHaveAttribute('data-change', 'added');
  await expect(clock.getByTestId('diff-capability-change')).toHaveText('+ added');
  await expect(diff.locator('[data-change="removed"]')).toHaveCount(0);
  await expect(diff.locator('[data-limit]')).toHaveCount(4);
  expect(await overflow()).toBeLessThanOrEqual(0);
  expect(problems).toEqual([]);
});
