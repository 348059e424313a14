/**
 * Issue 9, faults: two and three tabs of one profile racing on runs, decisions, intake and audit
 * appends (tests/e2e/audit-log.spec.ts covers two tabs appending only). Every tab is a real page;
 * the stored rows are checked straight in IndexedDB (faults-idb.ts).
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { auditReady, gotoReady } from './helpers';
import { brokenInvariants, checkChain, readRows } from './faults-idb';
import { approveBundle, cliWorkspace, pinKey } from './workspace';

const PENDING = '[data-testid="request"][data-state="pending"]';

async function tabs(context: BrowserContext, first: Page, count: number, path: string) {
  const pages = [first];
  while (pages.length < count) pages.push(await context.newPage());
  for (const page of pages) {
    await gotoReady(page, path);
    await auditReady(page);
  }
  return pages;
}

test("a run queued in one tab is not taken for interrupted by another tab's sweep", async ({
  context,
  page
}) => {
  test.setTimeout(90_000);
  const w = cliWorkspace('faults-queued');
  await pinKey(page, w.text('alice.pub'));
  for (const name of ['loop-a', 'loop-b', 'loop-c']) {
    w.fixture('loop');
    w.nightcore(
      'sign',
      'loop.wasm',
      '--key',
      'alice.key',
      '--version',
      '1.0.0',
      '--name',
      name,
      '--timeout-ms',
      '60000',
      '--out',
      `${name}.ncb`
    );
    await approveBundle(page, w.text(`${name}.ncb`));
  }
  await gotoReady(page, '/runs');
  for (const name of ['loop-a', 'loop-b', 'loop-c']) {
    await page.getByTestId('run-ready').filter({ hasText: name }).getByTestId('run-start').click();
  }
  // The default policy runs two at once: the third waits in this tab's queue.
  const running = page.locator('[data-testid="run"][data-status="running"]');
  const queued = page.locator('[data-testid="run"][data-status="queued"]');
  await expect(running).toHaveCount(2);
  await expect(queued).toHaveCount(1);

  // Another tab opens the Runs page: its sweep looks for runs whose tab died.
  const other = await context.newPage();
  await gotoReady(other, '/runs');
  await auditReady(other);
  await expect(other.getByTestId('run')).toHaveCount(3);
  let rows = await readRows(other);
  expect(rows.runs.map((r) => r.status).sort()).toEqual(['queued', 'running', 'running']);
  expect(rows.audit.filter((r) => r.event === 'run.interrupted')).toEqual([]);

  // The queued run starts when a slot frees, runs, and is stopped like the others.
  await running.first().getByTestId('run-stop').click();
  await expect(queued).toHaveCount(0);
  await expect(running).toHaveCount(2);
  await page.getByTestId('stop-all').click();
  await expect(page.locator('[data-testid="run"][data-status="killed"]')).toHaveCount(3);
  await other.reload();
  await auditReady(other);
  rows = await readRows(other);
  expect(rows.runs.map((r) => r.status)).toEqual(['killed', 'killed', 'killed']);
  expect(rows.audit.filter((r) => r.event === 'run.started')).toHaveLength(3);
  expect(rows.audit.filter((r) => r.event === 'run.interrupted')).toEqual([]);
  expect(brokenInvariants(rows)).toEqual([]);
});

test('two, then three tabs deciding one request at once: one decision wins, the others are told', async ({
  context,
  page
}) => {
  const w = cliWorkspace('faults-decide-race');
  await pinKey(page, w.text('alice.pub'));
  const bundle = w.bundle('hello');
  for (const [round, actions] of [
    ['two tabs', ['approve', 'deny']],
    ['three tabs', ['deny', 'approve', 'approve']]
  ] as const) {
    await gotoReady(page, '/inbox');
    await page.getByTestId('intake-paste').fill(bundle);
    await page.getByTestId('intake-submit').click();
    await expect(page.locator(PENDING)).toHaveCount(1);
    const pages = await tabs(context, page, actions.length, '/inbox');
    for (const tab of pages) await expect(tab.locator(PENDING)).toHaveCount(1);
    // Each tab clicks its button in the same moment (no tab waits for another).
    await Promise.all(
      pages.map((tab, i) =>
        tab.evaluate(
          ({ selector, action }) =>
            document
              .querySelector<HTMLButtonElement>(`${selector} [data-testid="${action}"]`)!
              .click(),
          { selector: PENDING, action: actions[i]! }
        )
      )
    );
    const said = await Promise.all(
      pages.map(async (tab) => {
        const result = tab.getByTestId('intake-result');
        await expect(result).toHaveText(/approved once|denied|decided already/);
        return (await result.textContent()) ?? '';
      })
    );
    expect(
      said.filter((t) => t.includes('decided already')),
      round
    ).toHaveLength(actions.length - 1);
    const rows = await readRows(page);
    expect(brokenInvariants(rows), round).toEqual([]);
    // The newest request carries the one decision that won, and the tab that made it said so.
    const newest = rows.requests.reduce((x, y) => (y.createdAt > x.createdAt ? y : x));
    const won = rows.audit.filter(
      (r) => r.event === 'decision' && r.subject.requestId === newest.id && !r.details.result
    );
    expect(won, round).toHaveLength(1);
    const winner = actions.indexOf(won[0]!.details.action as (typeof actions)[number]);
    expect(said[winner], round).toContain(newest.state === 'approved' ? 'approved once' : 'denied');
  }
  const rows = await readRows(page);
  expect(rows.requests.map((r) => r.state).every((s) => s !== 'pending')).toBe(true);
  const applied = rows.audit.filter((r) => r.event === 'decision' && !r.details.result);
  expect(applied).toHaveLength(2);
  expect(await checkChain(page)).toMatchObject({ status: 'ok' });
});

test('three tabs taking in the same and different bundles at once: every intake whole and audited once', async ({
  context,
  page
}) => {
  const w = cliWorkspace('faults-intake-race');
  await pinKey(page, w.text('alice.pub'));
  const same = w.bundle('hello');
  const own = ['echo-args', 'env-print', 'cat-stdin'].map((name) => w.bundle(name));
  const pages = await tabs(context, page, 3, '/inbox');
  await Promise.all(
    pages.map((tab, i) =>
      tab.getByTestId('intake-file').setInputFiles([
        { name: 'same.ncb', mimeType: 'application/json', buffer: Buffer.from(same) },
        { name: `own-${i}.ncb`, mimeType: 'application/json', buffer: Buffer.from(own[i]!) }
      ])
    )
  );
  for (const tab of pages) {
    await expect(tab.getByTestId('intake-result')).toContainText('2 received, 2 verified', {
      timeout: 20_000
    });
  }
  const rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);
  // Each intake is its own request (the design keeps every arrival); bytes are stored once.
  expect(rows.requests).toHaveLength(6);
  expect(new Set(rows.requests.map((r) => r.moduleSha256)).size).toBe(4);
  expect(rows.modules).toHaveLength(4);
  expect(rows.audit.filter((r) => r.event === 'intake')).toHaveLength(6);
  expect(rows.audit.filter((r) => r.event === 'verdict')).toHaveLength(6);
  // Every tab shows all six, as the navigation count shows six waiting.
  for (const tab of pages) {
    await tab.reload();
    await expect(tab.locator(PENDING)).toHaveCount(6);
  }
  expect(await checkChain(page)).toMatchObject({ status: 'ok' });
});

test('three tabs at once: two appending 300 records each while the third takes in and decides', async ({
  context,
  page
}) => {
  test.setTimeout(120_000);
  const w = cliWorkspace('faults-mixed');
  await pinKey(page, w.text('alice.pub'));
  const bundle = w.bundle('hello');
  const [a, b, c] = await tabs(context, page, 3, '/inbox');
  const before = (await readRows(a!)).audit.length;
  const append = (tab: Page, name: string) =>
    tab.evaluate(async (name) => {
      const audit = (
        window as unknown as {
          nightcoreAutomation: { audit: { append(input: unknown): Promise<number> } };
        }
      ).nightcoreAutomation.audit;
      for (let i = 0; i < 300; i++) {
        await audit.append({ event: 'settings.changed', subject: {}, details: { tab: name, i } });
      }
    }, name);
  const work = async () => {
    for (let i = 0; i < 4; i++) {
      await c!.getByTestId('intake-paste').fill(bundle);
      await c!.getByTestId('intake-submit').click();
      await expect(c!.locator(PENDING)).toHaveCount(1);
      await c!
        .locator(PENDING)
        .getByTestId(i % 2 ? 'deny' : 'approve')
        .click();
      await expect(c!.locator(PENDING)).toHaveCount(0);
    }
  };
  await Promise.all([append(a!, 'a'), append(b!, 'b'), work()]);

  const rows = await readRows(a!);
  expect(brokenInvariants(rows)).toEqual([]);
  const events = (event: string) => rows.audit.filter((r) => r.event === event);
  expect(events('settings.changed').filter((r) => r.details.tab === 'a')).toHaveLength(300);
  expect(events('settings.changed').filter((r) => r.details.tab === 'b')).toHaveLength(300);
  expect([events('intake').length, events('verdict').length, events('decision').length]).toEqual([
    4, 4, 4
  ]);
  // Nothing else was written, and nothing was lost: the count is exact. (A tab's first click
  // asks for persistent storage, and that request is recorded too.)
  const asked = events('settings.changed').filter(
    (r) => r.details.setting === 'persistent-storage' && r.seq >= before
  );
  expect(asked.length).toBeLessThanOrEqual(3);
  expect(rows.audit.length).toBe(before + 600 + 12 + asked.length);
  for (const tab of [a!, b!, c!]) {
    expect(await checkChain(tab)).toMatchObject({ status: 'ok', brokenSeq: null });
  }
});
