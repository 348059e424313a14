import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { auditReady, gotoReady, watchForProblems } from './helpers';
import { approveBundle, cliWorkspace, pinKey } from './workspace';
import { bigBundle, chainOnLoad, dropDatabase, fillLeaving, snapshot } from './quota-fill';

/**
 * A real full disk. Chromium 156 ignores DevTools' Storage.overrideQuotaForOrigin for IndexedDB
 * writes (the override shows in Storage.getUsageAndQuota, but every write still commits), and the
 * quota of an ordinary profile is gigabytes. So the profile lives on a 64 MiB tmpfs: Chromium gives
 * the origin 60% of that volume, a filler database takes it up, and Night Core's next write fails
 * with the browser's own QuotaExceededError. Deleting the filler gives the space back.
 * Mounting needs root (CAP_SYS_ADMIN); without it these tests are skipped, saying why.
 */
let MOUNT = '';
let mounted = false;

test.beforeAll(() => {
  MOUNT = mkdtempSync(join(tmpdir(), 'nightcore-quota-'));
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', MOUNT]);
  mounted = result.status === 0;
});

test.afterAll(() => {
  if (mounted) spawnSync('umount', [MOUNT]);
  rmSync(MOUNT, { recursive: true, force: true });
});

/**
 * A fresh profile on the small volume; `close` deletes it, so the next test's filler meets the
 * quota and not a volume still holding this test's filler (that fails differently: an IOError).
 */
async function profile(
  baseURL: string | undefined
): Promise<{ context: BrowserContext; page: Page; close: () => Promise<void> }> {
  test.skip(!mounted, 'needs root to mount a small tmpfs for the profile (a real quota)');
  const dir = join(MOUNT, `profile-${Date.now()}`);
  mkdirSync(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    args: chromiumArgs,
    baseURL
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { context, page, close };
}

test('an intake that does not fit is refused whole, named, audited; it succeeds once space is back', async ({
  baseURL
}) => {
  test.setTimeout(120_000);
  const { page, close } = await profile(baseURL);
  const watch = watchForProblems(page);
  const w = cliWorkspace('quota');
  try {
    await pinKey(page, w.text('alice.pub'));
    await approveBundle(page, w.bundle('hello'));
    const big = bigBundle(w);
    await gotoReady(page, '/inbox');
    await auditReady(page);
    const before = await snapshot(page);
    expect(before.requests).toHaveLength(1);

    await fillLeaving(page, 512 * 1024);
    await page.getByTestId('intake-file').setInputFiles(big.path);
    const result = page.getByTestId('intake-result');
    await expect(result).toHaveAttribute('role', 'alert', { timeout: 30_000 });
    await expect(result).toContainText(
      `Storage is full: the request for big.ncb (${big.size} bytes of module) could not be saved, and nothing of it was written.`
    );
    await expect(result).toContainText('Free space on this device');
    await expect(result).toContainText('The refusal is in the audit log.');
    await expect(page.getByTestId('request')).toHaveCount(1); // the page shows what is stored

    const after = await snapshot(page);
    // Nothing half-written: no request row for it, no module bytes for it.
    expect(after.requests.map((r) => r.fileName)).toEqual(['pasted bundle']);
    expect(after.modules).not.toContain(big.sha256);
    // What was there is there, unchanged; the log only grew (intent, then the refusal).
    expect(after.requests).toEqual(before.requests);
    expect(after.modules).toEqual(before.modules);
    expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
    const added = after.audit.slice(before.audit.length);
    expect(added.map((r) => [r.event, r.details.result ?? null])).toEqual([
      ['intake', null],
      ['intake', 'refused']
    ]);
    expect(added[1]!.details.reason).toBe('storage full');
    expect(await chainOnLoad(page)).toBe('ok');

    // Space back (the user cleared other data): the same file goes in whole.
    await dropDatabase(page, 'quota-filler');
    await gotoReady(page, '/inbox');
    await page.getByTestId('intake-file').setInputFiles(big.path);
    await expect(page.getByTestId('intake-result')).toHaveText(
      '1 received, 1 verified (1 pending).',
      { timeout: 30_000 }
    );
    const restored = await snapshot(page);
    const stored = restored.requests.find((r) => r.fileName === 'big.ncb');
    expect(stored?.moduleSha256).toBe(big.sha256);
    expect(restored.modules).toContain(big.sha256);
    expect(await chainOnLoad(page)).toBe('ok');
    expect(watch.problems.filter((p) => !p.includes('QuotaExceeded'))).toEqual([]);
  } finally {
    await close();
  }
});

test('an audit append that does not fit adds nothing: the chain stays whole and the intake it records does not happen', async ({
  baseURL
}) => {
  test.setTimeout(120_000);
  const { page, close } = await profile(baseURL);
  const w = cliWorkspace('quota-audit');
  try {
    await pinKey(page, w.text('alice.pub'));
    const bundle = w.bundle('echo-args');
    await gotoReady(page, '/inbox');
    await auditReady(page);
    const before = await snapshot(page);

    await fillLeaving(page, 0); // not even room for one audit record
    await page.getByTestId('intake-paste').fill(bundle);
    await page.getByTestId('intake-submit').click();
    const result = page.getByTestId('intake-result');
    await expect(result).toHaveAttribute('role', 'alert', { timeout: 30_000 });
    await expect(result).toContainText(
      'Storage is full: the audit record (intake) could not be saved, and nothing of it was written.'
    );
    await expect(result).toContainText('The audit log is full too: this refusal is not in it.');

    // Intent not on record, so no effect: no request, no module, not one audit row added.
    expect(await snapshot(page)).toEqual(before);
    // A reload on the full disk still opens and verifies the log (read-only).
    expect(await chainOnLoad(page)).toBe('ok');

    // Space back: the next append chains straight onto the old head, no gap, no fork.
    await dropDatabase(page, 'quota-filler');
    await gotoReady(page, '/inbox');
    await page.getByTestId('intake-paste').fill(bundle);
    await page.getByTestId('intake-submit').click();
    await expect(page.getByTestId('intake-result')).toHaveText(
      '1 received, 1 verified (1 pending).',
      {
        timeout: 30_000
      }
    );
    const after = await snapshot(page);
    expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
    expect(after.audit.map((r) => r.seq)).toEqual(after.audit.map((_, i) => i));
    expect(await chainOnLoad(page)).toBe('ok');
  } finally {
    await close();
  }
});

test('a run whose output does not fit: its outcome is still recorded whole, without the output, and the UI says so', async ({
  baseURL
}) => {
  test.setTimeout(120_000);
  const { page, close } = await profile(baseURL);
  const w = cliWorkspace('quota-run');
  try {
    await pinKey(page, w.text('alice.pub'));
    await approveBundle(page, w.bundle('cat-stdin'));
    await gotoReady(page, '/runs');
    await auditReady(page);
    const ready = page.getByTestId('run-ready').filter({ hasText: 'cat-stdin' });
    // 900 KiB of random bytes echoed back: incompressible output under the 1 MiB output cap.
    await ready.getByTestId('run-stdin-file').setInputFiles({
      name: 'noise.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(900 * 1024)
    });
    const before = await snapshot(page);
    await fillLeaving(page, 256 * 1024);
    await ready.getByTestId('run-start').click();

    const run = page.getByTestId('run').filter({ hasText: 'cat-stdin' }).first();
    await expect(run).toHaveAttribute('data-status', 'exited', { timeout: 30_000 });
    const error = page.getByTestId('run-error');
    await expect(error).toContainText(
      'The run ended (exited) and its outcome is on record, but its output was not kept: storage is full.',
      { timeout: 30_000 }
    );
    await expect(error).toContainText('Free space on this device');

    const after = await snapshot(page);
    // The outcome is on record with the run row and the request, in one transaction: the row
    // ended (no output kept, its message says why), the record says the output was not kept.
    const added = after.audit
      .slice(before.audit.length)
      .map((r) => r.event)
      .filter((e) => e !== 'settings.changed'); // the persistence request on the first click
    expect(added).toEqual(['run.started', 'run.finished']);
    const finished = after.audit[after.audit.length - 1]!;
    expect(finished.details.stdoutBytes).toBe(900 * 1024);
    expect(finished.details.outputKept).toBe(false);
    expect(after.runs).toHaveLength(1);
    expect(after.runs[0]!.status).toBe('exited');
    expect(after.runs[0]!.stdoutBytes).toBeNull();
    await expect(run).toContainText('Its output was not kept: storage was full.');
    expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);
    expect(await chainOnLoad(page)).toBe('ok');
  } finally {
    await close();
  }
});

test('an approval that cannot be audited is not made, and the Inbox says why', async ({
  baseURL
}) => {
  test.setTimeout(120_000);
  const { page, close } = await profile(baseURL);
  const w = cliWorkspace('quota-decide');
  try {
    await pinKey(page, w.text('alice.pub'));
    await gotoReady(page, '/inbox');
    await auditReady(page);
    await page.getByTestId('intake-paste').fill(w.bundle('hello'));
    await page.getByTestId('intake-submit').click();
    const request = page.getByTestId('request').first();
    await expect(request).toHaveAttribute('data-state', 'pending');
    // The first click on a page asks for persistent storage and audits the answer when it
    // changed (the Keys page's click): let that record land before the disk fills.
    const persistence = async () =>
      (await snapshot(page)).audit.filter((r) => r.event === 'settings.changed').length;
    await expect.poll(persistence).toBe(1);
    const before = await snapshot(page);

    await fillLeaving(page, 0);
    await request.getByTestId('approve').click();
    const result = page.getByTestId('intake-result');
    await expect(result).toHaveAttribute('role', 'alert', { timeout: 30_000 });
    await expect(result).toContainText(
      'Storage is full: the decision and its audit record could not be saved, and nothing of it was written.'
    );
    await expect(request).toHaveAttribute('data-state', 'pending');
    const after = await snapshot(page);
    expect(after.requests).toEqual(before.requests);
    expect(after.audit).toEqual(before.audit);
    expect(await chainOnLoad(page)).toBe('ok');
  } finally {
    await close();
  }
});

test('a full disk (before the quota is reached) is reported the same way, and nothing is half-written', async ({
  baseURL
}) => {
  test.setTimeout(120_000);
  const { page, close } = await profile(baseURL);
  const w = cliWorkspace('quota-disk');
  const ballast = join(MOUNT, 'ballast.bin');
  try {
    await pinKey(page, w.text('alice.pub'));
    const big = bigBundle(w);
    await gotoReady(page, '/inbox');
    await auditReady(page);
    const before = await snapshot(page);

    // Another program fills the volume, leaving 1 MiB: the origin is far below its quota.
    const { bavail, bsize } = statfsSync(MOUNT);
    writeFileSync(ballast, Buffer.alloc(Math.max(0, bavail * bsize - 1024 * 1024)));
    await page.getByTestId('intake-file').setInputFiles(big.path);
    const result = page.getByTestId('intake-result');
    await expect(result).toHaveAttribute('role', 'alert', { timeout: 30_000 });
    await expect(result).toContainText('Storage is full: the request for big.ncb');
    const after = await snapshot(page);
    expect(after.requests).toEqual(before.requests);
    expect(after.modules).toEqual(before.modules);
    expect(after.audit.slice(0, before.audit.length)).toEqual(before.audit);

    rmSync(ballast);
    await gotoReady(page, '/inbox');
    await page.getByTestId('intake-file').setInputFiles(big.path);
    await expect(page.getByTestId('intake-result')).toHaveText(
      '1 received, 1 verified (1 pending).',
      { timeout: 30_000 }
    );
    expect((await snapshot(page)).modules).toContain(big.sha256);
    expect(await chainOnLoad(page)).toBe('ok');
  } finally {
    rmSync(ballast, { force: true });
    await close();
  }
});
