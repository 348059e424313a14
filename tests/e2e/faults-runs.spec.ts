/**
 * Issue 9, faults around runs: the whole browser closed mid-run (a persistent profile, opened
 * again), and runs started back to back behind a concurrency cap of one, where a finishing run
 * and a new start both reach for the queue (each run must start exactly once).
 */
import { chromium, expect, test, type Download, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { auditReady, gotoReady } from './helpers';
import { brokenInvariants, readRows } from './faults-idb';
import { approveBundle, cliWorkspace, pinKey, runReady } from './workspace';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;

/** Saves the two files of a whole-log export (JSONL and checkpoint) into `dir`. */
async function exportLog(page: Page, dir: string) {
  const saved: Promise<void>[] = [];
  const both = new Promise<void>((resolve) => {
    const onDownload = (download: Download) => {
      const name = download.suggestedFilename().endsWith('.jsonl') ? 'log.jsonl' : 'log.checkpoint';
      saved.push(download.saveAs(join(dir, name)));
      if (saved.length === 2) {
        page.off('download', onDownload);
        resolve();
      }
    };
    page.on('download', onDownload);
  });
  await page.getByTestId('audit-export').click();
  await both;
  await Promise.all(saved);
}

test('the whole browser closed mid-run: the same profile opened again shows the run interrupted, and the exported log verifies', async ({
  baseURL
}) => {
  test.setTimeout(120_000);
  const w = cliWorkspace('faults-browser');
  const profile = mkdtempSync(join(tmpdir(), 'nightcore-e2e-profile-'));
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      args: chromiumArgs,
      baseURL
    });
  try {
    const first = await launch();
    const page = first.pages()[0] ?? (await first.newPage());
    await pinKey(page, w.text('alice.pub'));
    await approveBundle(page, w.bundle('loop', '--timeout-ms', '60000'));
    const loop = await runReady(page, 'loop');
    await expect(loop).toHaveAttribute('data-status', 'running');
    await first.close();

    const second = await launch();
    const again = second.pages()[0] ?? (await second.newPage());
    await gotoReady(again, '/runs');
    await auditReady(again);
    await expect(again.getByTestId('run').first()).toHaveAttribute('data-status', 'interrupted');
    const rows = await readRows(again);
    expect(brokenInvariants(rows)).toEqual([]);
    expect(rows.audit.filter((r) => r.event === 'run.interrupted')).toHaveLength(1);

    await gotoReady(again, '/settings');
    writeFileSync(
      join(w.dir, 'device.vkey'),
      `${await again.getByTestId('device-vkey').textContent()}\n`
    );
    await gotoReady(again, '/audit');
    await expect(again.getByTestId('audit-status')).toHaveAttribute('data-chain', 'ok');
    await exportLog(again, w.dir);
    const verified = spawnSync(
      process.execPath,
      [
        CLI,
        'audit',
        'verify',
        'log.jsonl',
        '--checkpoint',
        'log.checkpoint',
        '--key',
        'device.vkey'
      ],
      { cwd: w.dir, encoding: 'utf8' }
    );
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^intact: \d+ records \(full export\)/);
    await second.close();
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});

test('runs started back to back behind a cap of one each start once and end exited', async ({
  page
}) => {
  test.setTimeout(120_000);
  const w = cliWorkspace('faults-cap');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/policy');
  const json = page.getByTestId('policy-json');
  await expect(json).not.toHaveValue('');
  const policy = JSON.parse(await json.inputValue());
  await json.fill(JSON.stringify({ ...policy, maxConcurrentRuns: 1 }, null, 2));
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-version').first()).not.toHaveAttribute(
    'data-version',
    'default'
  );
  const count = 8;
  const bundle = w.bundle('hello');
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles(
    Array.from({ length: count }, (_, i) => ({
      name: `hello-${i}.ncb`,
      mimeType: 'application/json',
      buffer: Buffer.from(bundle)
    }))
  );
  const pending = page.locator('[data-testid="request"][data-state="pending"]');
  await expect(pending).toHaveCount(count, { timeout: 20_000 });
  for (let i = 0; i < count; i++) {
    await pending.first().getByTestId('approve').click();
    await expect(pending).toHaveCount(count - i - 1);
  }
  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run-start')).toHaveCount(count);
  // Each start lands while the run before it is ending: a start and a finishing run both look
  // for the next queued run to launch.
  for (let round = 0; round < count; round++) {
    await page.getByTestId('run-start').first().click();
    await page.waitForTimeout(round * 3);
  }
  const runs = page.getByTestId('run');
  await expect(runs).toHaveCount(count);
  await expect(page.locator('[data-testid="run"][data-status="exited"]')).toHaveCount(count, {
    timeout: 30_000
  });
  const rows = await readRows(page);
  expect(brokenInvariants(rows)).toEqual([]);
  expect(rows.runs.map((r) => r.status)).toEqual(Array(count).fill('exited'));
  const started = rows.audit.filter((r) => r.event === 'run.started');
  expect(new Set(started.map((r) => r.subject.runId)).size).toBe(count);
  expect(started).toHaveLength(count);
});
