/**
 * Backup and restore in real Chromium with real IndexedDB. A real profile (pinned key, saved
 * policy, approved + pinned + denied requests, a finished run with its receipt, audit records) is
 * exported in one browser context and restored in another (a new profile, a new device key):
 * everything comes back, the chain verifies on the Audit page and with `nightcore audit verify`,
 * and a restored approval runs the same module hash. Tampered backups and a non-empty profile are
 * refused with their reasons, recorded, and nothing is written.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { auditReady, auditRecords, gotoReady, watchForProblems } from './helpers';
import { FIXTURES, cliWorkspace, pinKey, runReady, type Workspace } from './workspace';

test.describe.configure({ mode: 'serial' });

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const fixtureSha = (name: string) => sha256(readFileSync(join(FIXTURES, `${name}.wasm`)));

let w: Workspace;
let backupPath = '';

/** What the stores hold, comparable across profiles (bytes as their SHA-256 in the page). */
async function profile(page: Page) {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const all = (store: string) =>
      new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const request = db.transaction(store).objectStore(store).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const hex = async (bytes: Uint8Array | Blob) => {
      const data = bytes instanceof Blob ? await bytes.arrayBuffer() : bytes;
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data as BufferSource));
      return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    };
    const keys = (await all('keys')).map((k) => ({ id: k.id, label: k.label, trust: k.trust }));
    const policies = (await all('policies')).map((p) => ({ version: p.version, doc: p.document }));
    const requests = (await all('requests')).map((r) => ({
      id: r.id,
      state: r.state,
      moduleSha256: r.moduleSha256,
      decision: r.decision ?? null
    }));
    const modules = [];
    for (const m of await all('modules')) {
      modules.push({ sha256: m.sha256, actual: await hex(m.bytes as Blob) });
    }
    const runs = (await all('runs')).map((r) => ({
      id: r.id,
      requestId: r.requestId,
      moduleSha256: r.moduleSha256,
      status: r.status,
      receipt: r.receipt ?? null
    }));
    db.close();
    return { keys, policies, requests, modules, runs };
  });
}

async function intake(page: Page, bundle: string, sha: string) {
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(bundle);
  await page.getByTestId('intake-submit').click();
  const request = page.locator(`[data-testid="request"][data-sha256="${sha}"]`).first();
  await expect(request).toHaveAttribute('data-state', 'pending');
  return request;
}

/** Opens Settings in a new, empty profile (its own browser context). */
async function freshSettings(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await gotoReady(page, '/settings');
  await auditReady(page);
  return { context, page };
}

async function chooseBackup(page: Page, path: string) {
  await page.getByTestId('backup-restore-file').setInputFiles(path);
}

function tampered(name: string, change: (files: Record<string, Uint8Array>) => void): string {
  const files = unzipSync(readFileSync(backupPath));
  change(files);
  const path = w.path(`${name}.ncbackup`);
  writeFileSync(path, zipSync(files));
  return path;
}

test('export a real profile, restore it into a new one: everything back, chain and approvals intact', async ({
  page,
  browser
}) => {
  test.setTimeout(180_000);
  const { problems } = watchForProblems(page);
  w = cliWorkspace('backup');
  const hello = fixtureSha('hello');
  const echo = fixtureSha('echo-args');
  const trap = fixtureSha('trap');
  await pinKey(page, w.text('alice.pub'));
  await (await intake(page, w.bundle('hello'), hello)).getByTestId('approve').click();
  await (
    await intake(page, w.bundle('echo-args', '--arg', 'restored'), echo)
  )
    .getByTestId('approve-pin')
    .click();
  const denied = await intake(page, w.bundle('trap'), trap);
  await denied.getByTestId('deny').click();
  await expect(denied).toHaveAttribute('data-state', 'denied');
  const run = await runReady(page, 'hello');
  await expect(run).toHaveAttribute('data-status', 'exited', { timeout: 30_000 });
  // The card shows the outcome a moment before the run row, receipt and request state are stored.
  await expect
    .poll(async () => (await profile(page)).requests.map((r) => r.state).sort(), {
      timeout: 15_000
    })
    .toEqual(['approved', 'denied', 'done']);

  const before = await profile(page);
  expect(before.keys).toHaveLength(1);
  expect(before.policies.length).toBeGreaterThanOrEqual(1); // the pin saved a policy version
  expect(before.requests.map((r) => r.state).sort()).toEqual(['approved', 'denied', 'done']);
  expect(before.runs).toHaveLength(1);
  expect(before.runs[0]!.receipt).not.toBeNull();

  await gotoReady(page, '/settings');
  await auditReady(page);
  const oldVkey = (await page.getByTestId('device-vkey').textContent())!;
  const oldDeviceKeyId = (await page.getByTestId('device-key').locator('dd').nth(1).textContent())!;
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('backup-export').click()
  ]);
  expect(download.suggestedFilename()).toMatch(/^nightcore-backup-.*\.ncbackup$/);
  backupPath = w.path('profile.ncbackup');
  await download.saveAs(backupPath);
  await expect(page.getByTestId('backup-result')).toHaveAttribute('data-status', 'ok');

  // The audit part is a standard export: the CLI verifies it against the key kept from Settings.
  const files = unzipSync(readFileSync(backupPath));
  writeFileSync(w.path('log.jsonl'), files['audit/log.jsonl']!);
  writeFileSync(w.path('log.checkpoint'), files['audit/log.checkpoint']!);
  writeFileSync(w.path('kept.vkey'), `${oldVkey}\n`);
  const verified = w.cli(
    'audit',
    'verify',
    'log.jsonl',
    '--checkpoint',
    'log.checkpoint',
    '--key',
    'kept.vkey'
  );
  expect(verified.stderr).toBe('');
  expect(verified.status).toBe(0);
  // The backup holds the log up to its snapshot; the export itself is recorded after it.
  const inBackup = Buffer.from(files['audit/log.jsonl']!).toString('utf8').split('\n').length - 2;
  const oldAudit = await auditRecords(page);
  expect(oldAudit.slice(inBackup).map((r) => r.event)).toContain('audit.export');
  expect(oldAudit.find((r) => r.event === 'audit.export')?.details).toMatchObject({
    scope: 'backup',
    records: inBackup
  });

  // A new profile: the summary first, then the restore.
  const fresh = await freshSettings(browser);
  const watchedFresh = watchForProblems(fresh.page);
  const newVkey = await fresh.page.getByTestId('device-vkey').textContent();
  expect(newVkey).not.toBe(oldVkey);
  await chooseBackup(fresh.page, backupPath);
  const summary = fresh.page.getByTestId('backup-summary');
  await expect(summary).toBeVisible({ timeout: 30_000 });
  await expect(summary).toHaveAttribute('data-device-key', oldDeviceKeyId);
  await expect(summary.locator('[data-store="requests"] td')).toHaveText('3');
  await expect(summary.locator('[data-store="modules"] td')).toHaveText('3');
  await expect(summary.locator('[data-store="audit"] td')).toHaveText(String(inBackup));
  // The summary (a 64-digit key id, a long file name) fits a phone's width.
  await fresh.page.setViewportSize({ width: 360, height: 740 });
  expect(
    await fresh.page.evaluate(
      () => document.documentElement.scrollWidth <= document.documentElement.clientWidth
    )
  ).toBe(true);
  // Another tab of the new profile, on the Overview: it hears of the restore without a reload.
  const overview = await fresh.context.newPage();
  await gotoReady(overview, '/');
  await expect(overview.getByTestId('dashboard-empty')).toBeVisible();
  const requestsShown = overview.getByTestId('dashboard-requests');
  await fresh.page.getByTestId('backup-restore-confirm').click();
  const result = fresh.page.getByTestId('backup-result');
  await expect(result).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  await expect(result).toContainText('the audit chain verifies');
  await expect(requestsShown).toHaveAttribute('data-count', '3', { timeout: 15_000 });
  await overview.close();

  expect(await profile(fresh.page)).toEqual(before);
  const newAudit = await auditRecords(fresh.page);
  expect(newAudit.slice(0, inBackup)).toEqual(oldAudit.slice(0, inBackup));
  const imported = newAudit[inBackup]!;
  expect(imported.event).toBe('audit.import');
  expect(imported.details).toMatchObject({ result: 'restored', importedRecords: inBackup });
  expect(imported.subject.keyIds?.[0]).toBe(oldDeviceKeyId);

  await gotoReady(fresh.page, '/audit');
  await expect(fresh.page.getByTestId('audit-status')).toHaveAttribute('data-chain', 'ok');

  // The pinned approval still runs, and runs the same module hash.
  const restoredRun = await runReady(fresh.page, 'echo-args');
  await expect(restoredRun).toHaveAttribute('data-status', 'exited', { timeout: 30_000 });
  await expect(restoredRun.getByTestId('run-stdout')).toContainText('restored');
  const after = await profile(fresh.page);
  const newRun = after.runs.find((r) => !before.runs.some((b) => b.id === r.id))!;
  expect(newRun.moduleSha256).toBe(echo);
  expect(after.modules.every((m) => m.sha256 === m.actual)).toBe(true);

  expect(problems).toEqual([]);
  expect(watchedFresh.problems).toEqual([]);
  await fresh.context.close();
});

test('tampered backups are refused with their reason, recorded, and nothing is written', async ({
  browser
}) => {
  test.setTimeout(120_000);
  expect(backupPath, 'the export test runs first').not.toBe('');
  const cases = [
    {
      name: 'module',
      code: 'backup.part-hash',
      file: tampered('module', (files) => {
        const name = Object.keys(files).find((p) => p.startsWith('modules/'))!;
        files[name]![20] = files[name]![20]! ^ 1;
      })
    },
    {
      name: 'row',
      code: 'backup.part-hash',
      file: tampered('row', (files) => {
        const text = Buffer.from(files['requests.jsonl']!).toString('utf8');
        files['requests.jsonl'] = Buffer.from(text.replace('"state":"denied"', '"state":"approv"'));
      })
    },
    {
      name: 'manifest',
      code: 'backup.signature',
      file: tampered('manifest', (files) => {
        const text = Buffer.from(files['manifest.json']!).toString('utf8');
        files['manifest.json'] = Buffer.from(text.replace('"created": "2', '"created": "1'));
      })
    },
    {
      name: 'truncated',
      code: 'backup.zip',
      file: (() => {
        const bytes = readFileSync(backupPath);
        const path = w.path('truncated.ncbackup');
        writeFileSync(path, bytes.subarray(0, bytes.length - 40));
        return path;
      })()
    }
  ];
  const { context, page } = await freshSettings(browser);
  const { problems } = watchForProblems(page);
  const result = page.getByTestId('backup-result');
  for (const { name, code, file } of cases) {
    await chooseBackup(page, file);
    await expect(result, name).toHaveAttribute('data-status', 'error', { timeout: 30_000 });
    await expect(result, name).toHaveAttribute('data-code', code);
    await expect(page.getByTestId('backup-summary')).toHaveCount(0);
  }
  const empty = await profile(page);
  expect(empty).toEqual({ keys: [], policies: [], requests: [], modules: [], runs: [] });
  const refusals = (await auditRecords(page)).filter((r) => r.event === 'audit.import');
  expect(refusals.map((r) => r.details.code)).toEqual(cases.map((c) => c.code));
  expect(refusals.every((r) => r.details.result === 'refused')).toBe(true);

  // The refusals left the profile restorable: the intact file goes in.
  await chooseBackup(page, backupPath);
  await page.getByTestId('backup-restore-confirm').click({ timeout: 30_000 });
  await expect(result).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  const restored = await auditRecords(page);
  const record = restored.find((r) => r.details.result === 'restored');
  // The fresh profile's own records, the refusals among them, are kept in the import record.
  const replaced = record?.details.replaced as { event: string; details: { code?: string } }[];
  expect(replaced.filter((r) => r.event === 'audit.import').map((r) => r.details.code)).toEqual(
    cases.map((c) => c.code)
  );
  expect(problems).toEqual([]);
  await context.close();
});

test('restore into a profile that holds data is refused and changes nothing', async ({
  browser
}) => {
  test.setTimeout(60_000);
  expect(backupPath, 'the export test runs first').not.toBe('');
  const { context, page } = await freshSettings(browser);
  await pinKey(page, w.text('alice.pub'), 'already here');
  await gotoReady(page, '/settings');
  await auditReady(page);
  const before = await profile(page);
  await chooseBackup(page, backupPath);
  const result = page.getByTestId('backup-result');
  await expect(result).toHaveAttribute('data-status', 'error', { timeout: 30_000 });
  await expect(result).toHaveAttribute('data-code', 'backup.not-empty');
  await expect(result).toContainText('only into an empty profile');
  await expect(page.getByTestId('backup-restore-confirm')).toHaveCount(0);
  expect(await profile(page)).toEqual(before);
  expect((await auditRecords(page)).at(-1)?.details).toMatchObject({
    result: 'refused',
    code: 'backup.not-empty'
  });
  await context.close();
});

test('a large profile (20,000 audit records, a 10 MiB module) round-trips; timings printed', async ({
  page,
  browser
}) => {
  test.setTimeout(300_000);
  const records = 20_000;
  await gotoReady(page, '/settings');
  await auditReady(page);
  const moduleSha = await page.evaluate(async (count) => {
    type Audit = { appendMany(inputs: unknown[]): Promise<number> };
    const audit = (window as unknown as { nightcoreAutomation: { audit: Audit } })
      .nightcoreAutomation.audit;
    const details = { note: 'seeded record for the large backup test' };
    const batch = Array.from({ length: count }, (_, i) => ({
      time: Date.now(),
      event: 'intake',
      subject: {},
      details: { ...details, i }
    }));
    for (let i = 0; i < count; i += 5000) await audit.appendMany(batch.slice(i, i + 5000));
    // Random bytes: they do not compress, so the file is as large as the module.
    const bytes = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 65536) {
      crypto.getRandomValues(bytes.subarray(i, i + 65536));
    }
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const sha = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('modules', 'readwrite');
      const row = { sha256: sha, size: bytes.length, bytes: new Blob([bytes]), addedAt: 1 };
      tx.objectStore('modules').put(row);
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return sha;
  }, records);

  let started = Date.now();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('backup-export').click()
  ]);
  await expect(page.getByTestId('backup-result')).toHaveAttribute('data-status', 'ok', {
    timeout: 120_000
  });
  const exportMs = Date.now() - started;
  const path = join(w?.dir ?? '/tmp', 'large.ncbackup');
  await download.saveAs(path);

  const fresh = await freshSettings(browser);
  started = Date.now();
  await chooseBackup(fresh.page, path);
  const summary = fresh.page.getByTestId('backup-summary');
  await expect(summary).toBeVisible({ timeout: 120_000 });
  const verifyMs = Date.now() - started;
  await expect(summary.locator('[data-store="audit"] td')).toHaveText(/^200\d\d$/);
  started = Date.now();
  await fresh.page.getByTestId('backup-restore-confirm').click();
  await expect(fresh.page.getByTestId('backup-result')).toHaveAttribute('data-status', 'ok', {
    timeout: 120_000
  });
  const restoreMs = Date.now() - started;
  const restored = await profile(fresh.page);
  expect(restored.modules).toEqual([{ sha256: moduleSha, actual: moduleSha }]);
  const timings = { records, fileBytes: readFileSync(path).length, exportMs, verifyMs, restoreMs };
  test.info().annotations.push({ type: 'timings', description: JSON.stringify(timings) });
  console.log(`backup timings ${JSON.stringify(timings)}`);
  await fresh.context.close();
});
