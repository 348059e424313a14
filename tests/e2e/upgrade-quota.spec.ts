/**
 * The v2 -> v3 upgrade on a profile with no room for a second copy of its run output: a real full
 * disk (a 64 MiB tmpfs profile, as in quota.spec.ts). The rung only creates a store, so the app
 * opens and shows every run and its output (still inline); the background migration meets the
 * quota and stops quietly; once space is back, a later load moves everything.
 * Mounting needs root (CAP_SYS_ADMIN); without it the test is skipped, saying why.
 */
import { chromium, expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { openRawDatabase } from './faults-idb';
import { watchForProblems } from './helpers';
import { dropDatabase, fill } from './quota-fill';

const RUNS = 24;
/** Random bytes (LevelDB compresses repeats to nothing): 24 x 512 KiB = 12 MiB of real output. */
const OUTPUT = 512 * 1024;

let MOUNT = '';
let mounted = false;
test.beforeAll(() => {
  MOUNT = mkdtempSync(join(tmpdir(), 'nightcore-upgrade-quota-'));
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', MOUNT]).status === 0;
});
test.afterAll(() => {
  if (mounted) spawnSync('umount', [MOUNT]);
  rmSync(MOUNT, { recursive: true, force: true });
});

/** RUNS v2 run rows with output inline; each stdout starts by naming its run. */
function seedV2(page: Page): Promise<void> {
  return page.evaluate(
    async ({ runs, output }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('nightcore');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const now = Date.now();
      for (let i = 0; i < runs; i++) {
        const stdout = new Uint8Array(output);
        for (let at = 0; at < output; at += 65536)
          crypto.getRandomValues(stdout.subarray(at, Math.min(output, at + 65536)));
        stdout.set(new TextEncoder().encode(`run ${i} says hello\n`));
        const tx = db.transaction('runs', 'readwrite');
        tx.objectStore('runs').put({
          id: `seed-${String(i).padStart(5, '0')}`,
          requestId: `seed-request-${i}`,
          moduleSha256: 'a'.repeat(64),
          startedAt: now - (runs - i) * 60_000,
          endedAt: now - (runs - i) * 60_000 + 40,
          outcome: 'exited',
          status: 'exited',
          name: `seeded-${i}`,
          version: '1.0.0',
          exitCode: 0,
          message: null,
          stdout,
          stderr: new Uint8Array(0),
          files: []
        });
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => resolve();
          tx.onabort = () => reject(tx.error);
        });
      }
      db.close();
    },
    { runs: RUNS, output: OUTPUT }
  );
}

/** Rows in runOutputs and rows still carrying output inline, read in the page. */
function shapes(page: Page): Promise<{ outputs: number; inline: number; version: number }> {
  return page.evaluate(async () => {
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
    const tx = db.transaction(['runs', 'runOutputs'], 'readonly');
    const outputs = await ask(tx.objectStore('runOutputs').count());
    const rows = (await ask(tx.objectStore('runs').getAll())) as Record<string, unknown>[];
    db.close();
    return { outputs, inline: rows.filter((r) => 'stdout' in r).length, version: db.version };
  });
}

test('a v2 profile without room for a second copy of its output still opens at v3, and migrates once space is back', async ({
  baseURL
}) => {
  test.setTimeout(300_000);
  test.skip(!mounted, 'needs root to mount a small tmpfs for the profile (a real quota)');
  const dir = join(MOUNT, `profile-${Date.now()}`);
  mkdirSync(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    args: chromiumArgs,
    baseURL
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // Same origin, no app code yet: the v2 database as the code before v3 left it.
    await page.goto('/favicon.svg');
    expect(await openRawDatabase(page, 2)).toBe(2);
    await seedV2(page);
    // About 1 MiB left: enough for the app's own small writes, far from the 10 MiB a batch moves.
    // Set aside before filling, given back after (fillLeaving's exact booking is not needed here).
    for (let i = 0; i < 4; i++) expect(await fill(page, `slack-${i}`, 256 * 1024, 1)).toBe(1);
    expect(await fill(page, 'quota-filler', 1024 * 1024, 200)).toBeLessThan(200);
    expect(await fill(page, 'quota-filler', 32 * 1024, 200)).toBeLessThan(200);
    for (let i = 0; i < 4; i++) await dropDatabase(page, `slack-${i}`);
    const { problems } = watchForProblems(page);

    await page.goto('/runs');
    const cards = page.locator('[data-run-id^="seed-"]');
    await expect(cards.first()).toBeVisible({ timeout: 120_000 });
    await expect(cards).toHaveCount(RUNS);
    await expect(cards.first().getByTestId('run-stdout')).toContainText(
      `run ${RUNS - 1} says hello`,
      { timeout: 60_000 }
    );
    await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
    // Opened at v3; the migration met the quota and left every row as it was (nothing lost).
    await expect.poll(async () => (await shapes(page)).version, { timeout: 30_000 }).toBe(3);
    await page.waitForTimeout(3_000); // the migration's first batch has had time to fail
    expect(await shapes(page)).toEqual({ outputs: 0, inline: RUNS, version: 3 });
    expect(problems).toEqual([]);

    // Space back (the user cleared other data): the next load moves every output.
    await dropDatabase(page, 'quota-filler');
    await page.reload();
    await expect(cards.first()).toBeVisible({ timeout: 120_000 });
    await expect
      .poll(async () => shapes(page), { timeout: 120_000, intervals: [1_000] })
      .toEqual({ outputs: RUNS, inline: 0, version: 3 });
    await expect(cards.nth(5).getByTestId('run-stdout')).toContainText(
      `run ${RUNS - 6} says hello`,
      { timeout: 60_000 }
    );
    expect(problems).toEqual([]);
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
