/**
 * Many runs with large outputs (docs/performance.md): RUNS finished runs, each with OUTPUT bytes of
 * stdout, seeded straight into the page's IndexedDB in the schema the app stores them in; then the
 * Overview and the Runs page are opened. Timings and heap are printed, not asserted (this machine
 * is slow and shared); what is asserted is what the user must see.
 */
import { expect, test, type Page } from '@playwright/test';
import { openRawDatabase } from './faults-idb';
import { gotoReady, watchForProblems } from './helpers';

const RUNS = 1500;
const OUTPUT = 128 * 1024;

test.describe.configure({ timeout: 600_000 });

/**
 * Writes RUNS finished runs. Output goes where the app keeps it: its own `runOutputs` store when
 * the schema has one (v3), else inside the run row (v2), so the same spec measures both.
 */
async function seed(page: Page): Promise<string> {
  return page.evaluate(
    async ({ runs, output }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('nightcore');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const split = db.objectStoreNames.contains('runOutputs');
      const now = Date.now();
      const statuses = ['exited', 'exited', 'exited', 'trapped', 'timeout'];
      for (let from = 0; from < runs; from += 100) {
        const stores = split ? ['runs', 'runOutputs'] : ['runs'];
        const tx = db.transaction(stores, 'readwrite');
        for (let i = from; i < Math.min(runs, from + 100); i++) {
          const id = `seed-${String(i).padStart(5, '0')}`;
          // Each output names its run on its first line, then filler up to OUTPUT bytes.
          const head = `run ${i} says hello\n`;
          const stdout = new TextEncoder().encode(head + 'x'.repeat(output - head.length));
          const status = statuses[i % statuses.length];
          const row: Record<string, unknown> = {
            id,
            requestId: `seed-request-${i}`,
            moduleSha256: 'a'.repeat(64),
            startedAt: now - (runs - i) * 60_000,
            endedAt: now - (runs - i) * 60_000 + 40,
            outcome: status,
            status,
            name: `seeded-${i}`,
            version: '1.0.0',
            exitCode: status === 'exited' ? 0 : null,
            message: null,
            limits: {},
            capabilities: [],
            durationMs: 40 + (i % 50),
            peakMemoryBytes: 65536 * (1 + (i % 4)),
            stdoutBytes: stdout.length,
            stderrBytes: 0,
            truncated: false,
            refusedCalls: {}
          };
          if (split) {
            row.filesCount = 0;
            tx.objectStore('runs').put(row);
            tx.objectStore('runOutputs').put({ id, stdout, stderr: new Uint8Array(0), files: [] });
          } else {
            tx.objectStore('runs').put({ ...row, stdout, stderr: new Uint8Array(0), files: [] });
          }
        }
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
          tx.onabort = () => reject(tx.error);
        });
      }
      const version = String(db.version);
      db.close();
      return version;
    },
    { runs: RUNS, output: OUTPUT }
  );
}

/**
 * Creates the v2 database exactly as rungs 1 and 2 of src/lib/storage/db.ts make it (no app code
 * has run on this origin yet), so seed() fills it the way the code before v3 stored runs.
 */
async function makeV2(page: Page): Promise<void> {
  expect(await openRawDatabase(page, 2)).toBe(2);
}

/** Rows in a store, counted in the page. */
const countRows = (page: Page, store: string) =>
  page.evaluate(async (store) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const n = await new Promise<number>((resolve, reject) => {
      const request = db.transaction(store).objectStore(store).count();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return n;
  }, store);

/** From now on, the longest main-thread task (set before the navigation it measures, via init). */
async function watchLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { longest: number };
    w.longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longest = Math.max(w.longest, entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** JS heap used by the page after a full garbage collection, in MiB (Chromium DevTools protocol). */
async function heapMiB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

const id = (i: number) => `seed-${String(i).padStart(5, '0')}`;
/** What run `i` printed, as seeded. */
const outputText = (i: number) => {
  const head = `run ${i} says hello\n`;
  return head + 'x'.repeat(OUTPUT - head.length);
};

const longest = (page: Page) =>
  page.evaluate(() => Math.round((window as unknown as { longest: number }).longest));

test(`${RUNS} runs of ${OUTPUT / 1024} KiB output: the Overview counts them all, the Runs page pages them`, async ({
  page
}) => {
  const { problems } = watchForProblems(page);
  await watchLongTasks(page);
  await gotoReady(page, '/settings');
  // The app creates its database (at its own version) before anything is seeded into it.
  await expect
    .poll(() =>
      page.evaluate(async () =>
        (await indexedDB.databases()).some((d) => d.name === 'nightcore' && (d.version ?? 0) >= 2)
      )
    )
    .toBe(true);
  const version = await seed(page);

  // Overview: until the charts are drawn from every run.
  let started = Date.now();
  await page.goto('/');
  await expect(page.getByTestId('chart-runs-over-time')).toBeVisible({ timeout: 300_000 });
  const overviewMs = Date.now() - started;
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-state', 'ready');
  const overviewLongest = await longest(page);
  const overviewHeap = await heapMiB(page);
  // Every run is counted, and pictured (each seeded run has a duration).
  await expect(page.getByTestId('dashboard-runs')).toHaveAttribute('data-count', String(RUNS));
  await expect(page.getByTestId('chart-durations')).toHaveAttribute('data-count', String(RUNS));

  // Runs page: until the first history card is shown.
  started = Date.now();
  await page.goto('/runs');
  const cards = page.locator('[data-run-id^="seed-"]');
  await expect(cards.first()).toBeVisible({ timeout: 300_000 });
  const runsMs = Date.now() - started;
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  // The newest page only, newest first, each card's output read when it is shown.
  await expect(cards).toHaveCount(50);
  await expect(page.getByTestId('runs-showing')).toHaveText(
    `Showing 50 of ${RUNS.toLocaleString('en-US')}`
  );
  const newest = cards.first();
  await expect(newest).toHaveAttribute('data-run-id', id(RUNS - 1));
  await expect(newest.getByTestId('run-stdout')).toContainText(`run ${RUNS - 1} says hello`, {
    timeout: 120_000
  });
  expect(await newest.getByTestId('run-stdout').textContent()).toBe(outputText(RUNS - 1));
  await expect(newest.getByTestId('run-output-loading')).toHaveCount(0);
  const runsLongest = await longest(page);
  const runsHeap = await heapMiB(page);

  // "Show 50 more", from the keyboard: 100 cards, and the next page's output arrives too.
  const more = page.getByTestId('runs-more');
  expect((await more.boundingBox())?.height).toBeGreaterThanOrEqual(44);
  await more.focus();
  await page.keyboard.press('Enter');
  await expect(cards).toHaveCount(100);
  await expect(page.getByTestId('runs-showing')).toHaveText(
    `Showing 100 of ${RUNS.toLocaleString('en-US')}`
  );
  const older = cards.nth(75);
  await expect(older).toHaveAttribute('data-run-id', id(RUNS - 76));
  await expect(older.getByTestId('run-stdout')).toContainText(`run ${RUNS - 76} says hello`, {
    timeout: 120_000
  });
  // Search runs over every row, not only the cards drawn: the oldest run is found.
  await page.getByTestId('runs-search').fill('seeded-0');
  await expect(page.getByTestId('runs-showing')).toHaveText('Showing 1 of 1');
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toHaveAttribute('data-run-id', id(0));
  await expect(cards.first().getByTestId('run-stdout')).toContainText('run 0 says hello');

  console.log(
    `runs-scale (schema v${version}, ${RUNS} runs x ${OUTPUT / 1024} KiB): ` +
      `overview ${overviewMs} ms, longest task ${overviewLongest} ms, heap ${overviewHeap.toFixed(1)} MiB; ` +
      `runs page ${runsMs} ms to first card, longest task ${runsLongest} ms, heap ${runsHeap.toFixed(1)} MiB, ` +
      `50 cards first`
  );
  // Drawing every card kept 23.3 MiB of heap after GC before paging (three runs); a page of 50
  // keeps 4.7 MiB. The bound is far from both.
  expect(runsHeap).toBeLessThan(12);
  expect(problems).toEqual([]);
});

test(`a v2 profile holding ${RUNS} runs of ${OUTPUT / 1024} KiB opens at v3 at once, its outputs moved afterwards`, async ({
  page
}) => {
  // Same origin, no app code: nothing opens the database before the v2 one exists.
  await page.goto('/favicon.svg');
  await makeV2(page);
  expect(await seed(page)).toBe('2');
  // Watched from the app's first load on (the bare SVG page asks for a favicon.ico it lacks).
  const { problems } = watchForProblems(page);

  const started = Date.now();
  await page.goto('/runs');
  const cards = page.locator('[data-run-id^="seed-"]');
  await expect(cards.first()).toBeVisible({ timeout: 300_000 });
  const firstCardMs = Date.now() - started;
  await expect(cards).toHaveCount(50);
  // Right whether or not this run was moved yet (reads take both shapes).
  await expect(cards.first().getByTestId('run-stdout')).toContainText(
    `run ${RUNS - 1} says hello`,
    { timeout: 120_000 }
  );
  expect(await cards.first().getByTestId('run-stdout').textContent()).toBe(outputText(RUNS - 1));

  // The rung moved nothing; the background migration moves every output, batch by batch.
  await expect
    .poll(() => countRows(page, 'runOutputs'), { timeout: 400_000, intervals: [1_000] })
    .toBe(RUNS);
  const migratedMs = Date.now() - started;
  expect(await countRows(page, 'runs')).toBe(RUNS);
  const after = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const ask = <T>(request: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const tx = db.transaction(['runs', 'meta'], 'readonly');
    const rows = (await ask(tx.objectStore('runs').getAll())) as Record<string, unknown>[];
    const meta = (await ask(tx.objectStore('meta').get('run-output-migration'))) as
      { value: unknown } | undefined;
    db.close();
    return {
      version: db.version,
      inline: rows.filter((r) => 'stdout' in r).length,
      sized: rows.filter((r) => r.stdoutBytes === 128 * 1024).length,
      done: meta?.value
    };
  });
  expect(after).toEqual({ version: 3, inline: 0, sized: RUNS, done: 'done' });

  // A card read after the move shows the same output, now from its own store.
  await page.reload();
  await expect(cards.first()).toBeVisible({ timeout: 300_000 });
  await expect(cards.nth(10).getByTestId('run-stdout')).toContainText(
    `run ${RUNS - 11} says hello`,
    { timeout: 120_000 }
  );
  expect(await cards.nth(10).getByTestId('run-stdout').textContent()).toBe(outputText(RUNS - 11));
  console.log(
    `runs-scale upgrade (v2 -> v3, ${RUNS} runs x ${OUTPUT / 1024} KiB): ${firstCardMs} ms to the first card, ` +
      `${migratedMs} ms until every output was in runOutputs`
  );
  expect(problems).toEqual([]);
});
