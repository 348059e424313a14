import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect, test, type Download, type Page } from '@playwright/test';
import { gotoReady, watchForProblems } from './helpers';

/* The Audit page: timeline, filters, keyboard, record detail with its inclusion proof, export,
   and a 100,000-record log painting its first rows (timed by npm run bench). Each test gets a fresh profile. */

interface AuditInput {
  event: string;
  subject: { requestId?: string; moduleSha256?: string; keyIds?: string[]; runId?: string };
  details: Record<string, unknown>;
  time?: number;
}

type Automation = {
  audit: {
    append(input: AuditInput): Promise<number>;
    appendMany(inputs: AuditInput[]): Promise<number>;
    status(): { status: string; brokenSeq: number | null; count: number };
  };
};

/** Waits until the page's audit log has started (device key made, first chain check done). */
async function auditReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const automation = (window as { nightcoreAutomation?: Automation }).nightcoreAutomation;
    return automation?.audit.status().status === 'ok';
  });
}

async function append(page: Page, inputs: AuditInput[]): Promise<void> {
  await page.evaluate(async (inputs) => {
    const audit = (window as unknown as { nightcoreAutomation: Automation }).nightcoreAutomation
      .audit;
    for (const input of inputs) await audit.append(input);
  }, inputs);
}

const MODULE_A = 'a1'.repeat(32);
const MODULE_B = 'b2'.repeat(32);
const KEY_A = 'c3'.repeat(32);
const KEY_B = 'd4'.repeat(32);

const SESSION: AuditInput[] = [
  {
    event: 'key.added',
    subject: { keyIds: [KEY_A] },
    details: { label: 'Acme release key', trust: 'auto' }
  },
  {
    event: 'key.added',
    subject: { keyIds: [KEY_B] },
    details: { label: 'Globex key', trust: 'review' }
  },
  {
    event: 'verdict',
    subject: { requestId: 'req-1', moduleSha256: MODULE_A, keyIds: [KEY_A] },
    details: { name: 'hello-world', verdict: 'accepted' }
  },
  {
    event: 'verdict',
    subject: { requestId: 'req-2', moduleSha256: MODULE_B, keyIds: [KEY_B] },
    details: { name: 'crypto-miner', verdict: 'rejected' }
  },
  {
    event: 'run.started',
    subject: { requestId: 'req-1', moduleSha256: MODULE_A, runId: 'run-1' },
    details: { name: 'hello-world' }
  },
  {
    event: 'run.finished',
    subject: { requestId: 'req-1', moduleSha256: MODULE_A, runId: 'run-1' },
    details: { name: 'hello-world', outcome: 'finished', exitCode: 0 }
  }
];

const rows = (page: Page) => page.getByTestId('audit-row');

/**
 * Opens the Audit page with the log started, and makes the first user gesture up front: the app
 * asks for persistent storage on it and records the answer (`settings.changed`), which would
 * otherwise land in the middle of a test's counts.
 */
async function openAudit(page: Page): Promise<void> {
  await gotoReady(page, '/audit');
  await auditReady(page);
  await page.getByRole('heading', { level: 1 }).click();
  await expect(rows(page).filter({ hasText: 'settings.changed' })).toHaveCount(1);
}

const count = (page: Page) =>
  page.evaluate(
    () =>
      (window as unknown as { nightcoreAutomation: Automation }).nightcoreAutomation.audit.status()
        .count
  );

test('the Audit page loads without console errors and lists the device key record', async ({
  page
}) => {
  const { problems } = watchForProblems(page);
  await gotoReady(page, '/audit');
  await auditReady(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  await expect(page.getByTestId('audit-status')).toHaveAttribute('data-chain', 'ok');
  await expect(rows(page).filter({ hasText: 'device.key-created' })).toHaveCount(1);
  await expect(rows(page).first()).toHaveAttribute('data-seq', /^\d+$/);
  await page.waitForLoadState('networkidle');
  expect(problems).toEqual([]);
});

test('appended records appear, and each filter narrows the list', async ({ page }) => {
  await openAudit(page);
  await append(page, SESSION);
  // Appended through auditLog: the page re-reads when the log's revision changes.
  await expect(rows(page).filter({ hasText: 'run.finished' })).toHaveCount(1);
  const total = await rows(page).count();
  expect(total).toBeGreaterThanOrEqual(SESSION.length + 1);
  // Newest first.
  const seqs = await rows(page).evaluateAll((els) => els.map((el) => Number(el.dataset.seq)));
  expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

  await page.getByLabel('Event', { exact: true }).selectOption('verdict');
  await expect(rows(page)).toHaveCount(2);
  await expect(rows(page).filter({ hasText: 'verdict' })).toHaveCount(2);

  await page.getByLabel('Verdict or outcome', { exact: true }).fill('rej');
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page)).toContainText(`module ${MODULE_B.slice(0, 12)}`);
  await page.getByLabel('Verdict or outcome', { exact: true }).fill('');
  await page.getByLabel('Event', { exact: true }).selectOption('');

  await page.getByLabel('Module SHA-256', { exact: true }).fill(MODULE_A.slice(0, 6));
  await expect(rows(page)).toHaveCount(3); // verdict, run started, run finished
  await page.getByLabel('Key id', { exact: true }).fill(KEY_A.slice(0, 8));
  await expect(rows(page)).toHaveCount(1); // only the verdict has both
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(rows(page)).toHaveCount(total);

  await page.getByLabel('Search', { exact: true }).fill('crypto-MINER');
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page)).toContainText('verdict');
  await page.getByLabel('Search', { exact: true }).fill('no record says this');
  await expect(rows(page)).toHaveCount(0);
  await expect(page.getByText('No records match these filters.')).toBeVisible();
  await page.getByLabel('Search', { exact: true }).fill('');

  // A time range after every record matches nothing; one around them matches all.
  await page.getByLabel('From', { exact: true }).fill('2999-01-01T00:00');
  await expect(rows(page)).toHaveCount(0);
  await page.getByLabel('From', { exact: true }).fill('2000-01-01T00:00');
  await page.getByLabel('To', { exact: true }).fill('2999-01-01T00:00');
  await expect(rows(page)).toHaveCount(total);
});

test('keyboard selection opens the record with an inclusion proof that verifies', async ({
  page
}) => {
  await openAudit(page);
  await append(page, SESSION);
  const size = await count(page);
  await page.getByRole('button', { name: 'Make checkpoint' }).click();
  await expect(page.getByTestId('audit-checkpoint')).toHaveAttribute('data-size', String(size));
  // Making a checkpoint may itself be recorded (after signing, so outside the checkpoint).
  await expect(rows(page)).toHaveCount(await count(page));

  const list = page.getByRole('listbox', { name: /Audit records/ });
  await list.focus();
  await page.keyboard.press('End'); // the oldest: device.key-created, seq 0
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const detail = page.getByTestId('audit-detail');
  await expect(detail.getByRole('heading', { name: 'Record #0' })).toBeVisible();
  await expect(detail).toContainText('device.key-created');
  const verdict = detail.getByTestId('proof-verdict');
  await expect(verdict).toHaveAttribute('data-verifies', 'true');
  await expect(verdict).toContainText(`Verifies against checkpoint of size ${size}: yes`);
  // Leaf 0's path in a tree of `size` leaves has ceil(log2(size)) sibling hashes, 32 bytes each.
  const hashes = await detail.getByTestId('proof-hashes').locator('li').allTextContents();
  expect(hashes.length).toBe(Math.ceil(Math.log2(size)));
  for (const hash of hashes) expect(hash.trim()).toMatch(/^[0-9a-f]{64}$/);

  // Home goes to the newest; PageDown / ArrowDown move; Enter opens that one.
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const second = await rows(page).nth(1).getAttribute('data-seq');
  await expect(detail.getByRole('heading', { name: `Record #${second}` })).toBeVisible();
  await expect(detail.getByTestId('proof-verdict')).toHaveAttribute('data-verifies', 'true');
  await expect(list).toBeFocused();
});

async function saved(download: Download): Promise<string> {
  const path = await download.path();
  return readFile(path, 'utf8');
}

const CLI = 'dist/cli/nightcore.js';

/** `nightcore audit verify` (built by `npm run build`) on a downloaded export: exit 0, intact. */
async function verifyWithCli(downloads: Download[]): Promise<string> {
  const file = (suffix: string) => downloads.find((d) => d.suggestedFilename().endsWith(suffix))!;
  const jsonl = await file('.jsonl').path();
  const checkpoint = await file('.checkpoint').path();
  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'audit',
    'verify',
    jsonl,
    '--checkpoint',
    checkpoint
  ]);
  return stdout;
}

test('export downloads the JSONL records and the signed checkpoint', async ({ page }) => {
  await openAudit(page);
  await append(page, SESSION);
  const before = await count(page);
  const downloads: Download[] = [];
  page.on('download', (download) => downloads.push(download));
  await page.getByTestId('audit-export').click();
  await expect.poll(() => downloads.length).toBe(2);
  const names = downloads.map((d) => d.suggestedFilename()).sort();
  expect(names[0]).toMatch(/^nightcore-audit-\d{4}-\d{2}-\d{2}\.checkpoint$/);
  expect(names[1]).toMatch(/^nightcore-audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
  const jsonl = await saved(downloads.find((d) => d.suggestedFilename().endsWith('.jsonl'))!);
  const checkpoint = await saved(
    downloads.find((d) => d.suggestedFilename().endsWith('.checkpoint'))!
  );
  const lines = jsonl.split('\n').filter((line) => line.trim() !== '');
  const records = lines.map((line) => JSON.parse(line)).filter((r) => typeof r.seq === 'number');
  expect(records.length).toBe(before);
  expect(records.map((r) => r.seq)).toEqual(Array.from({ length: before }, (_, i) => i));
  expect(checkpoint).toContain(`\n${before}\n`);
  expect(existsSync(CLI), `${CLI} is missing: run npm run build`).toBe(true);
  console.log(`CLI: ${(await verifyWithCli(downloads)).trim()}`);
  // The export itself is recorded, after the checkpoint it carries.
  await expect(rows(page).first()).toContainText('audit.export');
  await expect(page.getByTestId('audit-export-result')).toContainText(`Exported ${before} records`);

  // A filtered export holds only the matching records.
  downloads.length = 0;
  await page.getByLabel('Event', { exact: true }).selectOption('key.added');
  await expect(rows(page)).toHaveCount(2);
  await page.getByTestId('audit-export-filtered').click();
  await expect.poll(() => downloads.length).toBe(2);
  const filtered = await saved(downloads.find((d) => d.suggestedFilename().endsWith('.jsonl'))!);
  const kept = filtered
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
    .filter((r) => typeof r.seq === 'number');
  expect(kept.map((r) => r.event)).toEqual(['key.added', 'key.added']);
  console.log(`CLI (filtered): ${(await verifyWithCli(downloads)).trim()}`);
});

test('a later export is checked with the CLI against a checkpoint kept from an earlier one', async ({
  page
}) => {
  await openAudit(page);
  await append(page, SESSION);
  const downloads: Download[] = [];
  page.on('download', (download) => downloads.push(download));
  const exportNow = async () => {
    downloads.length = 0;
    await page.getByTestId('audit-export').click();
    await expect.poll(() => downloads.length).toBe(2);
    const file = (suffix: string) => downloads.find((d) => d.suggestedFilename().endsWith(suffix))!;
    return { jsonl: await file('.jsonl').path(), checkpoint: await file('.checkpoint').path() };
  };
  const first = await exportNow();
  const keptSize = Number((await readFile(first.checkpoint, 'utf8')).split('\n')[1]);
  // The log grows (the export's own record, then more work) before the second export.
  await append(page, SESSION);
  const second = await exportNow();
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [CLI, 'audit', 'verify', ...args]);
  const { stdout } = await cli(
    second.jsonl,
    '--checkpoint',
    second.checkpoint,
    '--earlier',
    first.checkpoint
  );
  expect(stdout).toMatch(
    new RegExp(`consistent with the checkpoint of size ${keptSize}, root [0-9a-f]{64}\n`)
  );
  // Given the other way round, the newer checkpoint covers more than the older export holds.
  const refused = await cli(first.jsonl, '--earlier', second.checkpoint).then(
    () => null,
    (error: { code: number; stderr: string }) => error
  );
  expect(refused?.code).toBe(1);
  expect(refused?.stderr).toContain('audit.earlier-ahead');
});

test('a record edited by hand shows a broken chain and a detail that does not verify', async ({
  page
}) => {
  await openAudit(page);
  await append(page, SESSION);
  const target = (await count(page)) - 3;
  await page.evaluate(async (seq) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('audit', 'readwrite');
      const store = tx.objectStore('audit');
      const get = store.get(seq);
      // Hostile content too: markup (shown as text, never parsed) and a BigInt JSON cannot hold.
      get.onsuccess = () =>
        store.put({
          ...get.result,
          details: { name: '<img src=x onerror="window.pwned=1">', big: 10n }
        });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, target);
  const { problems } = watchForProblems(page);
  await gotoReady(page, '/audit');
  const status = page.getByTestId('audit-status');
  await expect(status).toHaveAttribute('data-chain', 'broken');
  await expect(status).toContainText(`at record ${target}`);
  // The broken check is itself recorded; wait for that row so the list stops moving under the click.
  await expect(page.locator('[data-testid="audit-row"]').first()).toContainText('audit.check');
  const row = page.locator(`[data-testid="audit-row"][data-seq="${target}"]`);
  await expect(row).toContainText('<img src=x onerror="window.pwned=1">');
  await row.click();
  const detail = page.getByTestId('audit-detail');
  await expect(detail).toContainText('"big": "10n"');
  await expect(detail.getByTestId('proof-verdict')).toHaveAttribute('data-verifies', 'false');
  await expect(detail).toContainText('Record content hashes to its hash: no');
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
  expect(await page.locator('main img').count()).toBe(0);
  expect(problems).toEqual([]);
});

test('a 100,000-record log paints its first rows (time printed) and reaches its oldest record', async ({
  page
}) => {
  test.setTimeout(300_000);
  await gotoReady(page, '/audit');
  await auditReady(page);
  await page.getByRole('heading', { level: 1 }).click(); // the first gesture, recorded
  await expect(rows(page).filter({ hasText: 'settings.changed' })).toHaveCount(1);
  const seeded = await page.evaluate(async () => {
    const audit = (window as unknown as { nightcoreAutomation: Automation }).nightcoreAutomation
      .audit;
    const start = performance.now();
    const inputs = Array.from({ length: 100_000 }, (_, i) => ({
      event: i % 3 === 0 ? 'run.finished' : 'settings.changed',
      time: Date.now() - (100_000 - i) * 1000,
      subject: i % 3 === 0 ? { runId: `run-${i}` } : {},
      details: { i, name: `record ${i}` }
    }));
    await audit.appendMany(inputs);
    return { count: audit.status().count, ms: Math.round(performance.now() - start) };
  });
  expect(seeded.count).toBeGreaterThanOrEqual(100_000);
  console.log(`seeded ${seeded.count} records in ${seeded.ms} ms`);

  const started = Date.now();
  await page.goto('/audit');
  await expect(rows(page).first()).toContainText(/#\d+/);
  await expect(rows(page).first()).not.toContainText('Loading');
  const wall = Date.now() - started;
  const mark = await page.evaluate(async () => {
    for (
      let i = 0;
      i < 50 && performance.getEntriesByName('nightcore:audit-first-rows').length === 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.getEntriesByName('nightcore:audit-first-rows')[0]?.startTime ?? null;
  });
  const sinceOpen = await page.evaluate(
    () => performance.getEntriesByName('nightcore:audit-first-paint')[0]?.duration ?? null
  );
  console.log(
    `100k log: first rows painted ${mark === null ? '?' : Math.round(mark)} ms after navigation start, ` +
      `${sinceOpen === null ? '?' : Math.round(sinceOpen)} ms after the Audit view opened ` +
      `(${wall} ms wall clock including navigation)`
  );
  // The speed itself is the bench's `timeline` target (npm run bench), not an assertion here.
  expect(mark).not.toBeNull();
  // Only the visible rows (plus overscan) are in the DOM.
  expect(await rows(page).count()).toBeLessThan(100);
  // The newest record is first, and End reaches the oldest.
  await expect(rows(page).first()).toHaveAttribute('data-seq', String(seeded.count - 1));
  await page.getByRole('listbox', { name: /Audit records/ }).focus();
  await page.keyboard.press('End');
  await expect(page.locator('[data-testid="audit-row"][data-seq="0"]')).toBeVisible();
  // The oldest record's inclusion proof in the 100,000-leaf tree: built from the Merkle ranges
  // stored with a few records, not by reading them all.
  const opened = Date.now();
  await page.keyboard.press('Enter');
  const verdict = page.getByTestId('audit-detail').getByTestId('proof-verdict');
  await expect(verdict).toHaveAttribute('data-verifies', 'true', { timeout: 60_000 });
  console.log(`100k log: inclusion proof of record 0 ready in ${Date.now() - opened} ms`);
  const hashes = page.getByTestId('audit-detail').getByTestId('proof-hashes').locator('li');
  await expect(hashes).toHaveCount(Math.ceil(Math.log2(seeded.count)));
});
