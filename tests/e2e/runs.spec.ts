import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alterStoredModules, auditRecords, gotoReady } from './helpers';
import {
  FIXTURES,
  allowFiles,
  approveBundle,
  cliWorkspace,
  pinKey,
  runEnded,
  runReady,
  type Workspace
} from './workspace';

const workspace = () => cliWorkspace('runs');
const setup = (page: Page, w: Workspace) => pinKey(page, w.text('alice.pub'));
const approve = approveBundle;
const run = runReady;

test('hello runs in a worker and prints; the request is done and the run is audited', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('hello'));
  const hello = await run(page, 'hello');
  await expect(hello).toHaveAttribute('data-status', 'exited');
  await expect(hello).toHaveAttribute('data-exit-code', '0');
  await expect(hello.getByTestId('run-stdout')).toHaveText('hello from wasm\n');
  await expect(page.getByTestId('run-ready')).toHaveCount(0);
  const events = (await auditRecords(page)).filter((r) => r.event.startsWith('run.'));
  expect(events.map((r) => [r.event, r.details.status ?? null])).toEqual([
    ['run.started', null],
    ['run.finished', 'exited']
  ]);
  await page.reload();
  await expect(page.getByTestId('run').first()).toHaveAttribute('data-status', 'exited');
});

test('args and env reach the module only when granted; a capability lowered at review is withheld', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('echo-args', '--arg', 'hello, wörld', '--arg', '<b>x</b>'));
  const granted = await run(page, 'echo-args');
  await expect(granted).toHaveAttribute('data-status', 'exited');
  await expect(granted.getByTestId('run-stdout')).toHaveText('hello, wörld <b>x</b>\n');

  // The same kind of request, with args unticked on the review page before approving.
  w.nightcore(
    'sign',
    'echo-args.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.1',
    '--arg',
    'secret',
    '--out',
    'e2.ncb'
  );
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(w.text('e2.ncb'));
  await page.getByTestId('intake-submit').click();
  const second = page.getByTestId('request').filter({ hasText: '1.0.1' });
  await expect(second).toHaveAttribute('data-state', 'pending');
  await second.getByTestId('request-review').click();
  await page.getByTestId('review-grant-cap-args').uncheck();
  await page.getByTestId('approve').click();
  await expect(page.getByTestId('review-result')).toBeVisible();
  const withheld = await run(page, 'echo-args');
  await expect(withheld).toHaveAttribute('data-status', 'exited');
  await expect(withheld.getByTestId('run-stdout')).not.toContainText('secret');

  await approve(page, w.bundle('env-print', '--env', 'MODE=fast'));
  const env = await run(page, 'env-print');
  await expect(env.getByTestId('run-stdout')).toHaveText('MODE=fast\n');
});

test('stdin typed or from a file at run time reaches a module granted stdin', async ({ page }) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('cat-stdin'));
  await gotoReady(page, '/runs');
  const ready = page.getByTestId('run-ready').filter({ hasText: 'cat-stdin' });
  await ready.getByTestId('run-stdin').fill('typed ✓\n');
  await ready.getByTestId('run-start').click();
  const cat = page.getByTestId('run').filter({ hasText: 'cat-stdin' }).first();
  await expect(cat).toHaveAttribute('data-status', 'exited');
  await expect(cat.getByTestId('run-stdout')).toHaveText('typed ✓\n');

  // Or from a file, byte for byte.
  await approve(page, w.bundle('sha256-stdin'));
  await gotoReady(page, '/runs');
  const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff));
  const hashReady = page.getByTestId('run-ready').filter({ hasText: 'sha256-stdin' });
  await hashReady.getByTestId('run-stdin-file').setInputFiles({
    name: 'data.bin',
    mimeType: 'application/octet-stream',
    buffer: data
  });
  await hashReady.getByTestId('run-start').click();
  const hash = page.getByTestId('run').filter({ hasText: 'sha256-stdin' }).first();
  await expect(hash).toHaveAttribute('data-status', 'exited');
  await expect(hash.getByTestId('run-stdout')).toHaveText(
    `${createHash('sha256').update(data).digest('hex')}\n`
  );
});

test('each hostile fixture ends with its outcome and the page stays responsive', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  const cases: [string, string[], string][] = [
    ['loop', ['--timeout-ms', '500'], 'timeout'],
    ['memory-bomb', ['--memory-mib', '8'], 'memory-cap'],
    ['flood', ['--output-bytes', '65536'], 'output-cap'],
    ['trap', [], 'trapped'],
    ['recursion', [], 'trapped']
  ];
  for (const [fixture, flags] of cases) await approve(page, w.bundle(fixture, ...flags));
  await gotoReady(page, '/runs');
  // Long tasks on the main thread while modules run: none may pass 50 ms because of a run.
  await page.evaluate(() => {
    const long: number[] = [];
    (window as { longTasks?: number[] }).longTasks = long;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) long.push(entry.duration);
    }).observe({ type: 'longtask' });
  });
  for (const [fixture, , status] of cases) {
    await page
      .getByTestId('run-ready')
      .filter({ hasText: fixture })
      .getByTestId('run-start')
      .click();
    const card = page.getByTestId('run').filter({ hasText: fixture }).first();
    await expect(card).toHaveAttribute('data-status', status, { timeout: 10_000 });
  }
  const flood = page.getByTestId('run').filter({ hasText: 'flood' }).first();
  await expect(flood).toContainText('Output truncated at the cap.');
  const long = await page.evaluate(() => (window as { longTasks?: number[] }).longTasks ?? []);
  expect(
    long.filter((d) => d > 50),
    `long tasks: ${long.join(', ')}`
  ).toEqual([]);

  // History filters: by outcome, and by name.
  await expect(page.getByTestId('run')).toHaveCount(5);
  await page.getByTestId('runs-filter').selectOption('trapped');
  await expect(page.getByTestId('run')).toHaveCount(2);
  await page.getByTestId('runs-search').fill('recur');
  await expect(page.getByTestId('run')).toHaveCount(1);
  await expect(page.getByTestId('run')).toHaveAttribute('data-status', 'trapped');
});

test('Stop and Stop all kill running modules within 100 ms', async ({ page }) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('loop', '--timeout-ms', '60000'));
  w.nightcore(
    'sign',
    'loop.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.1',
    '--name',
    'loop2',
    '--timeout-ms',
    '60000',
    '--out',
    'l2.ncb'
  );
  await approve(page, w.text('l2.ncb'));
  w.nightcore(
    'sign',
    'loop.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.2',
    '--name',
    'loop3',
    '--timeout-ms',
    '60000',
    '--out',
    'l3.ncb'
  );
  await approve(page, w.text('l3.ncb'));
  await gotoReady(page, '/runs');
  for (const name of ['loop', 'loop2', 'loop3']) {
    await page
      .getByTestId('run-ready')
      .filter({ hasText: new RegExp(`^${name}\\b`) })
      .first()
      .getByTestId('run-start')
      .click();
  }
  // Two run at once; the third waits in the queue.
  await expect(page.locator('[data-testid="run"][data-status="running"]')).toHaveCount(2);
  await expect(page.locator('[data-testid="run"][data-status="queued"]')).toHaveCount(1);

  // Time from the click to the card saying killed, measured in the page.
  const killTime = (selector: string) =>
    page.evaluate(async (sel) => {
      const button = document.querySelector<HTMLButtonElement>(sel)!;
      const card = button.closest('[data-testid="run"]') ?? document;
      const id = (card as HTMLElement).dataset?.runId;
      const t0 = performance.now();
      button.click();
      return new Promise<number>((resolve) => {
        const check = () => {
          const done = id
            ? document.querySelector(
                `[data-testid="run"][data-run-id="${id}"][data-status="killed"]`
              )
            : document.querySelectorAll('[data-testid="run"][data-status="killed"]').length >= 3;
          if (done) resolve(performance.now() - t0);
          else requestAnimationFrame(check);
        };
        check();
      });
    }, selector);
  const one = await killTime('[data-testid="run"][data-status="running"] [data-testid="run-stop"]');
  expect(one).toBeLessThan(100);
  await expect(page.locator('[data-testid="run"][data-status="running"]')).toHaveCount(2);
  const all = await killTime('[data-testid="stop-all"]');
  expect(all).toBeLessThan(100);
  await expect(page.locator('[data-testid="run"][data-status="killed"]')).toHaveCount(3);
});

test('a reload mid-run leaves the run interrupted', async ({ page }) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('loop', '--timeout-ms', '60000'));
  const loop = await run(page, 'loop');
  await expect(loop).toHaveAttribute('data-status', 'running');
  await page.reload();
  await expect(page.getByTestId('run').first()).toHaveAttribute('data-status', 'interrupted');
  const events = (await auditRecords(page)).map((r) => r.event);
  expect(events).toContain('run.interrupted');
});

test('an ended run says it is saving until its outcome is stored; a reload after that keeps it', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('hello'));
  await gotoReady(page, '/runs');
  // Every state the card shows, from its first render on.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => {
      for (const card of document.querySelectorAll('[data-testid="run"]')) {
        const state = `${card.getAttribute('data-status')}${card.hasAttribute('data-saving') ? '+saving' : ''}`;
        if (seen.at(-1) !== state) seen.push(state);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  // The receipt's signature and the write take longer on a slowed CPU: the window is wide open.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 8 });
  await page.getByTestId('run-ready').filter({ hasText: 'hello' }).getByTestId('run-start').click();
  const card = page.getByTestId('run').first();
  await runEnded(card, 'exited');
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  expect(seen).toContain('exited+saving');
  expect(seen.at(-1)).toBe('exited');
  await expect(card.getByRole('status').filter({ hasText: 'saving the outcome' })).toHaveCount(0);

  // Stored: a reload right away shows the same outcome, and the log has no interruption.
  await page.reload();
  await expect(page.getByTestId('run').first()).toHaveAttribute('data-status', 'exited');
  const events = (await auditRecords(page)).map((r) => r.event);
  expect(events).toContain('run.finished');
  expect(events).not.toContain('run.interrupted');
});

test('module bytes altered in IndexedDB after approval are refused, not run', async ({ page }) => {
  const w = workspace();
  await setup(page, w);
  await approve(page, w.bundle('hello'));
  expect(await alterStoredModules(page)).toBe(1);
  const hello = await run(page, 'hello');
  await expect(hello).toHaveAttribute('data-status', 'refused');
  await expect(hello).toContainText('changed after approval');
  await expect(hello.getByTestId('run-stdout')).toHaveText('');
});

test('fs-read mounts picked files read-only; fs-write scratch files download after the run', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  await allowFiles(page);
  await approve(
    page,
    w.bundle('read-file', '--arg', '/input/notes.txt', '--arg', '/input/new.txt')
  );
  await gotoReady(page, '/runs');
  const ready = page.getByTestId('run-ready').filter({ hasText: 'read-file' });
  await ready.getByTestId('run-files').setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('from the user ✓\n')
  });
  await ready.getByTestId('run-start').click();
  const read = page.getByTestId('run').filter({ hasText: 'read-file' }).first();
  await expect(read).toHaveAttribute('data-status', 'exited');
  await expect(read.getByTestId('run-stdout')).toHaveText(
    'from the user ✓\ncreate /input/new.txt: Read-only file system\n'
  );

  await approve(page, w.bundle('fs-flood', '--arg', '1'));
  const flood = await run(page, 'fs-flood');
  await expect(flood).toHaveAttribute('data-status', 'exited');
  await expect(flood.getByTestId('run-stdout')).toHaveText('wrote 1048576 bytes\n');
  const download = page.waitForEvent('download');
  await flood.getByTestId('run-file').click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('flood.bin');
  expect(readFileSync(await file.path()).length).toBe(1048576);
});

test('a 50 MiB module runs, and the page stays responsive while it does', async ({ page }) => {
  const w = workspace();
  await setup(page, w);
  // hello plus a 50 MiB custom section appended: still a valid command.
  const hello = readFileSync(join(FIXTURES, 'hello.wasm'));
  const payload = 50 * 1024 * 1024;
  const name = Buffer.from('\u0003pad', 'latin1');
  const size = payload + name.length;
  const leb: number[] = [];
  for (let rest = size; ;) {
    const byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    leb.push(rest > 0 ? byte | 0x80 : byte);
    if (rest === 0) break;
  }
  writeFileSync(
    join(w.dir, 'big.wasm'),
    Buffer.concat([hello, Buffer.from([0]), Buffer.from(leb), name, Buffer.alloc(payload)])
  );
  w.nightcore('sign', 'big.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'big.ncb');
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(join(w.dir, 'big.ncb'));
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending', { timeout: 20_000 });
  await request.getByTestId('approve').click();
  await expect(request).toHaveAttribute('data-state', 'approved');
  await gotoReady(page, '/runs');
  await page.evaluate(() => {
    const long: number[] = [];
    (window as { longTasks?: number[] }).longTasks = long;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) long.push(entry.duration);
    }).observe({ type: 'longtask' });
  });
  await page.getByTestId('run-ready').filter({ hasText: 'big' }).getByTestId('run-start').click();
  const big = page.getByTestId('run').filter({ hasText: 'big' }).first();
  await expect(big).toHaveAttribute('data-status', 'exited', { timeout: 20_000 });
  await expect(big.getByTestId('run-stdout')).toHaveText('hello from wasm\n');
  const long = await page.evaluate(() => (window as { longTasks?: number[] }).longTasks ?? []);
  // Stored as a Blob and read, hashed and compiled by the worker: nothing big on this thread.
  expect(
    long.filter((d) => d > 50),
    `long tasks: ${long.join(', ')}`
  ).toEqual([]);
});

test('the auto lane runs auto-approved bundles without a click; paused, it holds them', async ({
  page
}) => {
  const w = workspace();
  await setup(page, w);
  await gotoReady(page, '/keys');
  await page.getByTestId('key').first().getByRole('combobox').selectOption('auto');
  await expect(page.getByTestId('key').first()).toHaveAttribute('data-trust', 'auto');
  await page.getByTestId('run-mode').getByLabel('Auto').check();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');

  await gotoReady(page, '/inbox');
  await expect(page.getByTestId('auto-lane')).toHaveAttribute('data-paused', 'false');
  await page.getByTestId('intake-paste').fill(w.bundle('hello'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request').first()).toHaveAttribute(
    'data-state',
    /^(running|done)$/
  );
  // Client-side navigation: the run lives in this page (a full reload would interrupt it).
  await page.getByRole('link', { name: 'Runs', exact: true }).click();
  const hello = page.getByTestId('run').filter({ hasText: 'hello' }).first();
  await expect(hello).toHaveAttribute('data-status', 'exited');
  await expect(hello.getByTestId('run-stdout')).toHaveText('hello from wasm\n');

  // Paused: the next one waits, approved by policy, on the Runs page.
  await page.getByTestId('auto-lane-toggle').click();
  await expect(page.getByTestId('auto-lane')).toHaveAttribute('data-paused', 'true');
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(w.bundle('echo-args', '--arg', 'held'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'auto-approved');
  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run-ready').filter({ hasText: 'echo-args' })).toHaveCount(1);
  await expect(page.getByTestId('run').filter({ hasText: 'echo-args' })).toHaveCount(0);
  const lane = (await auditRecords(page)).filter((r) => r.details.setting === 'auto-lane');
  expect(lane.map((r) => r.details.to)).toEqual(['paused']);
});
