/**
 * The "Try it" demo set (static/demo, built by scripts/make-demo.mjs) and the guided tour: the set
 * goes through the real pipeline and gives the verdicts and run outcomes its index promises; the
 * tour walks from the Inbox to the audit log; removal takes the demo key and requests away in one
 * click and is itself audited, with the chain intact.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { auditReady, auditRecords, gotoReady, watchForProblems } from './helpers';
import { runEnded, runReady } from './workspace';

interface DemoIndex {
  key: { id: string; label: string };
  bundles: {
    file: string;
    name: string;
    expect: { verdict: string; state: string; run?: string; stdout?: string; reason?: string };
  }[];
}
const INDEX: DemoIndex = JSON.parse(
  readFileSync(new URL('../../static/demo/index.json', import.meta.url), 'utf8')
);

/** The Inbox request whose name is exactly `name`. */
const request = (page: Page, name: string) =>
  page.getByTestId('request').filter({ has: page.getByText(name, { exact: true }) });

/** Every stored request's state, sorted (read from IndexedDB directly). */
const requestStates = (page: Page) =>
  page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<{ state: string }[]>((resolve, reject) => {
      const all = db.transaction('requests').objectStore('requests').getAll();
      all.onsuccess = () => resolve(all.result);
      all.onerror = () => reject(all.error);
    });
    db.close();
    return rows.map((r) => r.state).sort();
  });

async function loadDemo(page: Page) {
  await gotoReady(page, '/');
  await auditReady(page);
  await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'absent');
  await page.getByTestId('demo-load').click();
  await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'loaded');
}

test('the Try-it set gives the verdicts and outcomes its index promises; removal is one audited click', async ({
  page
}) => {
  test.setTimeout(90_000);
  const watch = watchForProblems(page);
  await loadDemo(page);

  await gotoReady(page, '/inbox');
  await expect(page.locator('[data-testid=request][data-channel=demo]')).toHaveCount(
    INDEX.bundles.length
  );
  for (const bundle of INDEX.bundles) {
    const row = request(page, bundle.name);
    await expect(row, bundle.name).toHaveAttribute('data-state', bundle.expect.state);
    await expect(row.getByTestId('verdict')).toHaveAttribute('data-verdict', bundle.expect.verdict);
    await expect(row.getByTestId('demo-badge')).toHaveText('demo data');
    if (bundle.expect.reason) await expect(row).toContainText(bundle.expect.reason);
  }

  // The Review page says it too, in its heading.
  await request(page, 'hello').getByTestId('request-review').click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  await expect(
    page.getByRole('heading', { level: 1 }).getByTestId('demo-badge'),
    'review header'
  ).toHaveText('demo data');
  await gotoReady(page, '/inbox');

  const runnable = INDEX.bundles.filter((b) => b.expect.run);
  for (const bundle of runnable) {
    await request(page, bundle.name).getByTestId('approve').click();
    await expect(request(page, bundle.name)).toHaveAttribute('data-state', 'approved');
  }
  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run-ready')).toHaveCount(runnable.length);
  await expect(page.getByTestId('run-ready').getByTestId('demo-badge')).toHaveCount(
    runnable.length
  );
  for (const bundle of runnable) {
    const run = await runReady(page, bundle.name);
    await expect(run.getByTestId('demo-badge'), `${bundle.name} run card`).toHaveText('demo data');
    await runEnded(run, bundle.expect.run!);
    if (bundle.expect.stdout !== undefined) {
      await expect(run.getByTestId('run-stdout')).toHaveText(bundle.expect.stdout);
      await expect(run).toHaveAttribute('data-exit-code', '0');
    }
  }

  // A run's outcome shows before it is written: leave the page only once every one is stored.
  await expect
    .poll(() => requestStates(page), { timeout: 15_000 })
    .toEqual(INDEX.bundles.map((b) => (b.expect.run ? 'done' : b.expect.state)).sort());
  // Read back from history (the run rows name only their request): every card is labelled.
  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run')).toHaveCount(runnable.length);
  await expect(page.getByTestId('run').getByTestId('demo-badge')).toHaveCount(runnable.length);
  // The labels, and the cards of runs that printed nothing (loop, memory-bomb), pass axe in both
  // themes (a named <pre> without a role did not, on an empty card).
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const scan = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const serious = scan.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    expect(serious, colorScheme).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: null });
  await gotoReady(page, '/');
  await auditReady(page);
  await page.getByTestId('demo-remove').click();
  await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'absent');
  await expect(page.getByTestId('demo-message')).toContainText('Demo data removed');

  await gotoReady(page, '/inbox');
  await expect(page.locator('[data-testid=request][data-channel=demo]')).toHaveCount(0);
  await gotoReady(page, '/keys');
  await expect(page.getByText(INDEX.key.label)).toHaveCount(0);
  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run')).toHaveCount(0);
  await expect(page.getByTestId('demo-badge')).toHaveCount(0);

  const records = await auditRecords(page);
  const removal = records.filter((r) => r.details.setting === 'demo-data');
  expect(removal).toHaveLength(1);
  expect(removal[0]!.details).toMatchObject({
    action: 'removed',
    key: true,
    requests: INDEX.bundles.length,
    runs: runnable.length
  });
  expect(removal[0]!.subject.keyIds).toEqual([INDEX.key.id]);
  // Append-only: the demo's intake, verdict, decision and run records are all still there.
  expect(records.filter((r) => r.event === 'verdict').length).toBe(INDEX.bundles.length);
  expect(records.filter((r) => r.event === 'run.finished').length).toBe(runnable.length);
  const check = await page.evaluate(() =>
    (
      window as unknown as {
        nightcoreAutomation: { audit: { check(): Promise<{ status: string }> } };
      }
    ).nightcoreAutomation.audit.check()
  );
  expect(check.status).toBe('ok');
  expect(watch.problems).toEqual([]);
});

test('the guided tour goes from the Inbox to the audit log as the user acts, and Esc ends it', async ({
  page
}) => {
  test.setTimeout(60_000);
  const step = page.getByTestId('tour-step');
  const nav = (href: string) => page.locator(`header nav a[href="${href}"]`);
  await gotoReady(page, '/');
  await auditReady(page);
  // Starting the tour loads the demo set when it is not there yet.
  await page.getByTestId('tour-start').click();
  await expect(step).toHaveAttribute('data-step', '1');
  await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'loaded');
  await expect(page.getByRole('heading', { name: /Step 1 of 5/ })).toBeFocused();

  await nav('/inbox').click();
  await expect(step).toHaveAttribute('data-step', '2');
  await expect(request(page, 'forged')).toHaveAttribute('data-state', 'rejected');
  await request(page, 'hello').getByTestId('request-review').click();
  await expect(step).toHaveAttribute('data-step', '3');
  await page.getByTestId('review-decision-panel').getByTestId('approve').click();
  await expect(step).toHaveAttribute('data-step', '4');

  await nav('/runs').click();
  await page.getByTestId('run-ready').filter({ hasText: 'hello' }).getByTestId('run-start').click();
  await runEnded(page.getByTestId('run').first(), 'exited');
  await expect(step).toHaveAttribute('data-step', '5');
  await nav('/audit').click();
  await expect(step).toHaveAttribute('data-complete', 'true');
  await expect(page.getByRole('heading', { name: 'Tour complete' })).toBeVisible();
  await page.getByTestId('tour-close').click();
  await expect(step).toHaveCount(0);

  // Next moves on without the action; Esc ends the tour from anywhere; a reload keeps the step.
  await nav('/').click();
  await page.getByTestId('tour-start').click();
  await expect(step).toHaveAttribute('data-step', '1');
  await page.getByTestId('tour-next').click();
  await expect(step).toHaveAttribute('data-step', '2');
  await page.reload();
  await expect(step).toHaveAttribute('data-step', '2');
  await page.keyboard.press('Escape');
  await expect(step).toHaveCount(0);
});

test.describe('a demo set that cannot be read', () => {
  // Without the service worker, the page's own fetches reach Playwright's routing.
  test.use({ serviceWorkers: 'block' });

  test('is refused with its reason, audited, and leaves no key or request behind', async ({
    page
  }) => {
    await page.route('**/demo/loop.ncb', (route) => route.fulfill({ status: 404, body: '' }));
    await gotoReady(page, '/');
    await auditReady(page);
    await page.getByTestId('demo-load').click();
    await expect(page.getByTestId('demo-message')).toHaveText(
      'The demo set could not be read: loop.ncb: HTTP 404'
    );
    await expect(page.getByTestId('demo-status')).toHaveAttribute('data-status', 'absent');
    const refused = (await auditRecords(page)).filter(
      (r) => r.event === 'intake' && r.details.channel === 'demo'
    );
    expect(refused).toHaveLength(1);
    expect(refused[0]!.details).toMatchObject({
      result: 'refused',
      reason: 'The demo set could not be read: loop.ncb: HTTP 404'
    });
    expect(await requestStates(page)).toEqual([]);
    await gotoReady(page, '/keys');
    await expect(page.getByText(INDEX.key.label)).toHaveCount(0);
  });
});
