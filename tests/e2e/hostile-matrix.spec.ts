/**
 * The hostile module matrix, in the browser: every hostile runtime fixture signed, taken in and
 * approved through the real UI, then run from one Runs page. Each must end with its expected
 * status and exit code and be on record in the audit log; the page's main thread must stay free
 * (long-task observer) and the dedicated workers must be back to the one pre-spawned idle worker.
 */
import { expect, test, type Page } from '@playwright/test';
import { auditRecords, gotoReady, watchForProblems } from './helpers';
import { allowFiles, approveBundle, cliWorkspace, pinKey } from './workspace';

interface Case {
  /** The bundle's name (unique, and no name is a substring of another). */
  name: string;
  fixture: string;
  flags: string[];
  status: string;
  exitCode: number | null;
  stdout?: string;
  /** Text the card's message or stderr must contain. */
  says?: string;
}

const UNICODE_ARGS = ['héllo', 'wörld ✓', '日本語', '🎉🛡️', 'ﬁ Ω'];

const CASES: Case[] = [
  {
    name: 'm-loop',
    fixture: 'loop',
    flags: ['--timeout-ms', '1000'],
    status: 'timeout',
    exitCode: null
  },
  {
    name: 'm-bomb',
    fixture: 'memory-bomb',
    flags: ['--memory-mib', '8'],
    status: 'memory-cap',
    exitCode: null
  },
  {
    name: 'm-flood',
    fixture: 'flood',
    flags: ['--output-bytes', '65536'],
    status: 'output-cap',
    exitCode: null,
    says: 'Output truncated at the cap.'
  },
  {
    name: 'm-fsflood',
    fixture: 'fs-flood',
    flags: ['--fs-bytes', '262144'],
    status: 'exited',
    exitCode: 1,
    says: 'fs-flood: write'
  },
  {
    name: 'm-recursion',
    fixture: 'recursion',
    flags: [],
    status: 'trapped',
    exitCode: null,
    says: 'call stack'
  },
  {
    name: 'm-trap',
    fixture: 'trap',
    flags: [],
    status: 'trapped',
    exitCode: null,
    says: 'unreachable'
  },
  ...[0, 1, 255].map((code) => ({
    name: `m-exit${code}`,
    fixture: 'exit-code',
    flags: ['--arg', String(code)],
    status: 'exited',
    exitCode: code,
    stdout: `exit ${code}\n`
  })),
  {
    name: 'm-unicode',
    fixture: 'echo-args',
    flags: UNICODE_ARGS.flatMap((arg) => ['--arg', arg]),
    status: 'exited',
    exitCode: 0,
    stdout: `${UNICODE_ARGS.join(' ')}\n`
  },
  {
    // Signed as a reactor (the CLI takes the entry from the exports): only _initialize runs.
    name: 'm-reactor',
    fixture: 'reactor',
    flags: [],
    status: 'exited',
    exitCode: 0
  },
  {
    // A command signed as a reactor: what runs is what the manifest says, so _start never does.
    name: 'm-asreactor',
    fixture: 'hello',
    flags: ['--entry', 'reactor'],
    status: 'exited',
    exitCode: 0,
    stdout: ''
  },
  {
    // Its scratch file moved onto fd 1 is still held to fsBytes (every step fails with ENOSPC).
    name: 'm-renumber',
    fixture: 'fd-renumber',
    flags: ['--fs-bytes', '262144'],
    status: 'exited',
    exitCode: 1,
    says: 'fd-renumber: onto fd 1: wrote 262144 bytes, write errno 51, set_size errno 51, allocate errno 51'
  },
  {
    // Files unlinked while open still count against fsBytes.
    name: 'm-heldopen',
    fixture: 'scratch-escape',
    flags: ['--fs-bytes', '262144', '--arg', 'unlink'],
    status: 'exited',
    exitCode: 0,
    stdout: 'scratch-escape: unlink: held 262144 bytes, errno 51\n'
  }
];

/**
 * Approved although it imports `env.evil` (the policy sends foreign imports to review instead of
 * rejecting them): the host offers nothing outside WASI, so it cannot even be instantiated.
 */
const UNLINKED: Case = {
  name: 'm-unlinked',
  fixture: 'foreign-import',
  flags: [],
  status: 'trapped',
  exitCode: null,
  says: 'Import #0 "env"'
};
const RUNS = [...CASES, UNLINKED];

/** The page's dedicated workers (service workers are not counted: they belong to the context). */
const workers = (page: Page) => page.workers().length;

test('every hostile fixture ends as expected, is audited, the page stays free, workers go back', async ({
  page
}) => {
  test.setTimeout(120_000);
  const problems = watchForProblems(page);
  const w = cliWorkspace('matrix');
  await pinKey(page, w.text('alice.pub'));
  await allowFiles(page); // fs-flood, fd-renumber, scratch-escape need /scratch

  // Sign every case, plus the one that must never reach the Runs page.
  const files = CASES.map(({ name, fixture, flags }) => {
    w.fixture(fixture);
    w.nightcore(
      'sign',
      `${fixture}.wasm`,
      '--key',
      'alice.key',
      '--version',
      '1.0.0',
      '--name',
      name,
      ...flags,
      '--out',
      `${name}.ncb`
    );
    return w.path(`${name}.ncb`);
  });
  w.fixture('foreign-import');
  const foreign = w.cli(
    'sign',
    'foreign-import.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.0',
    '--name',
    'm-foreign',
    '--out',
    'm-foreign.ncb'
  );
  expect(foreign.status, foreign.stderr).toBe(0);

  // One intake of every bundle; each runnable one approved once from the Inbox.
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles([...files, w.path('m-foreign.ncb')]);
  await expect(page.getByTestId('request')).toHaveCount(CASES.length + 1, { timeout: 20_000 });
  const rejected = page.getByTestId('request').filter({ hasText: 'm-foreign' });
  await expect(rejected).toHaveAttribute('data-state', 'rejected');
  await expect(rejected).toContainText('foreign-imports');

  // The command signed as a reactor is flagged on Review before anyone approves it.
  await page
    .getByTestId('request')
    .filter({ hasText: 'm-asreactor' })
    .getByTestId('request-review')
    .click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  const mismatch = page.locator('[data-testid="review-flag"][data-flag="entry-mismatch"]');
  await expect(mismatch).toHaveAttribute('data-severity', 'review');
  await expect(mismatch).toContainText("The manifest's entry does not match the module's exports");
  await expect(mismatch).toContainText('its _start never runs');
  // The real reactor (exports _initialize) is not; the signer-review flag shows the list is there.
  await gotoReady(page, '/inbox');
  await page
    .getByTestId('request')
    .filter({ hasText: 'm-reactor' })
    .getByTestId('request-review')
    .click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('[data-testid="review-flag"][data-flag="signer-review"]')).toHaveCount(
    1
  );
  await expect(mismatch).toHaveCount(0);
  await gotoReady(page, '/inbox');
  for (const { name } of CASES) {
    const request = page.getByTestId('request').filter({ hasText: name });
    await expect(request).toHaveAttribute('data-state', 'pending');
    await request.getByTestId('approve').click();
    await expect(request).toHaveAttribute('data-state', 'approved');
  }

  // Foreign imports sent to review by the policy, and one approved by a human.
  await gotoReady(page, '/policy');
  const json = page.getByTestId('policy-json');
  await expect(json).not.toHaveValue('');
  const policy = JSON.parse(await json.inputValue());
  await json.fill(JSON.stringify({ ...policy, foreignImports: 'review' }, null, 2));
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-message')).toContainText('Saved as version');
  const unlinked = w.cli(
    'sign',
    'foreign-import.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.0',
    '--name',
    UNLINKED.name,
    '--out',
    `${UNLINKED.name}.ncb`
  );
  expect(unlinked.status, unlinked.stderr).toBe(0);
  await approveBundle(page, w.text(`${UNLINKED.name}.ncb`));

  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run-ready')).toHaveCount(RUNS.length);
  await expect.poll(() => workers(page), { timeout: 15_000 }).toBe(1);
  const baseline = workers(page);
  let peak = baseline;
  page.on('worker', () => (peak = Math.max(peak, workers(page))));
  // Registered before any run starts, on the page that stays open through every run.
  await page.evaluate(() => {
    const long: number[] = [];
    (window as { longTasks?: number[] }).longTasks = long;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) long.push(Math.round(entry.duration));
    }).observe({ type: 'longtask' });
  });

  // Started all at once: two run, the rest wait behind the concurrency cap.
  for (const { name } of RUNS) {
    await page.getByTestId('run-ready').filter({ hasText: name }).getByTestId('run-start').click();
  }
  const measured: string[] = [];
  for (const c of RUNS) {
    const card = page.getByTestId('run').filter({ hasText: c.name }).first();
    await expect(card, c.name).toHaveAttribute('data-status', c.status, { timeout: 30_000 });
    await expect(card, c.name).toHaveAttribute('data-exit-code', c.exitCode?.toString() ?? '');
    if (c.stdout !== undefined) await expect(card.getByTestId('run-stdout')).toHaveText(c.stdout);
    if (c.says) await expect(card, c.name).toContainText(c.says);
  }
  await expect(page.locator('[data-testid="run"][data-status="running"]')).toHaveCount(0);
  await expect(page.locator('[data-testid="run"][data-status="queued"]')).toHaveCount(0);

  // Each run is on record: started, then finished with the status the card shows.
  const records = await auditRecords(page);
  const requestIds = new Map<string, string>();
  for (const r of records) {
    if (r.event === 'verdict' && typeof r.details.name === 'string')
      requestIds.set(r.details.name, (r.subject as { requestId?: string }).requestId ?? '');
  }
  for (const c of RUNS) {
    const requestId = requestIds.get(c.name);
    expect(requestId, c.name).toBeTruthy();
    const of = records.filter((r) => (r.subject as { requestId?: string }).requestId === requestId);
    const finished = of.find((r) => r.event === 'run.finished');
    expect(
      of.map((r) => r.event),
      c.name
    ).toEqual(
      expect.arrayContaining(['intake', 'verdict', 'decision', 'run.started', 'run.finished'])
    );
    expect(of.filter((r) => r.event === 'run.started').length, c.name).toBe(1);
    expect(finished?.details.status, c.name).toBe(c.status);
    expect(finished?.details.exitCode ?? null, c.name).toBe(c.exitCode);
    measured.push(
      `| ${c.fixture} ${c.flags.join(' ')} | ${finished?.details.status} | ${finished?.details.exitCode ?? '-'} | ${finished?.details.durationMs} ms | ${finished?.details.peakMemoryBytes ?? '-'} |`
    );
  }
  const foreignVerdict = records.find(
    (r) => r.event === 'verdict' && r.details.name === 'm-foreign'
  );
  expect(foreignVerdict?.details).toMatchObject({ outcome: 'reject' });
  expect(foreignVerdict?.details.rules).toContain('policy.foreign-imports');
  const foreignId = (foreignVerdict?.subject as { requestId?: string }).requestId;
  expect(
    records.filter(
      (r) =>
        r.event !== 'intake' &&
        r.event !== 'verdict' &&
        (r.subject as { requestId?: string }).requestId === foreignId
    )
  ).toEqual([]);

  // The main thread: nothing a run caused blocked it for 200 ms (generous for a shared 2-core box).
  const long = await page.evaluate(() => (window as { longTasks?: number[] }).longTasks ?? []);
  expect(
    long.filter((d) => d > 200),
    `long tasks: ${long.join(', ')}`
  ).toEqual([]);

  // The observer is live: a 300 ms task of the page's own is seen, so an empty list means
  // something. (Code evaluated from the test itself is not reported: it runs as a DevTools task.)
  await page.evaluate(() =>
    setTimeout(() => {
      const end = performance.now() + 300;
      while (performance.now() < end);
    }, 0)
  );
  await expect
    .poll(() => page.evaluate(() => (window as { longTasks?: number[] }).longTasks ?? []))
    .toContainEqual(expect.any(Number));

  // Every run's worker is gone; only the idle one for the next run is left.
  await expect.poll(() => workers(page), { timeout: 15_000 }).toBe(baseline);
  expect(peak).toBeGreaterThan(baseline);
  expect(problems.problems).toEqual([]);
  console.log(
    `hostile matrix: ${RUNS.length} runs; workers baseline ${baseline}, peak ${peak}, after ${workers(page)}; long tasks [${long.join(', ')}]\n${measured.join('\n')}`
  );
});

test('runs started back to back each run exactly once (approve once means once)', async ({
  page
}) => {
  test.setTimeout(120_000);
  const w = cliWorkspace('once');
  await pinKey(page, w.text('alice.pub'));
  w.fixture('hello');
  const names = Array.from({ length: 16 }, (_, i) => `q${i}x`);
  for (const name of names) {
    w.nightcore(
      'sign',
      'hello.wasm',
      '--key',
      'alice.key',
      '--version',
      '1.0.0',
      '--name',
      name,
      '--out',
      `${name}.ncb`
    );
  }
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(names.map((n) => w.path(`${n}.ncb`)));
  await expect(page.getByTestId('request')).toHaveCount(names.length, { timeout: 20_000 });
  for (const name of names) {
    const request = page.getByTestId('request').filter({ hasText: name });
    await request.getByTestId('approve').click();
    await expect(request).toHaveAttribute('data-state', 'approved');
  }
  await gotoReady(page, '/runs');
  // Each click lands while earlier runs end and pull the next from the queue.
  for (const name of names)
    await page.getByTestId('run-ready').filter({ hasText: name }).getByTestId('run-start').click();
  await expect(page.locator('[data-testid="run"][data-status="exited"]')).toHaveCount(
    names.length,
    { timeout: 30_000 }
  );
  const records = await auditRecords(page);
  const started = records.filter((r) => r.event === 'run.started').map((r) => r.subject.runId);
  const finished = records.filter((r) => r.event === 'run.finished').map((r) => r.subject.runId);
  expect(started.length, 'run.started records').toBe(names.length);
  expect(new Set(started).size).toBe(names.length);
  expect(finished.sort()).toEqual([...started].sort());
  await expect.poll(() => workers(page), { timeout: 15_000 }).toBe(1);
});
