/**
 * Issue 9, faults around runs: the whole browser closed mid-run (a persistent profile, opened
 * again on the same user-data-dir).
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
