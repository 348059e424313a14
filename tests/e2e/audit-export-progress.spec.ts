import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test, type Download, type Page } from '@playwright/test';
import { auditReady, gotoReady, watchForProblems } from './helpers';

/* Exporting a large audit log shows its progress stage by stage, keeps the page responsive, can
   be cancelled (nothing saved, nothing recorded), and still writes an export the CLI verifies. */

const RECORDS = 50_000;
const STAGES = ['reading', 'hashing', 'tree', 'writing'];

type Sample = { stage: string; done: number; total: number };
type Automation = {
  audit: {
    appendMany(inputs: unknown[]): Promise<number>;
    status(): { count: number };
  };
};

/** Appends `count` records through the app's own audit log (hashed, chained, checkpointed). */
async function seed(page: Page, count: number): Promise<number> {
  return page.evaluate(async (count) => {
    const audit = (window as unknown as { nightcoreAutomation: Automation }).nightcoreAutomation
      .audit;
    for (let from = 0; from < count; from += 5000) {
      await audit.appendMany(
        Array.from({ length: Math.min(5000, count - from) }, (_, i) => ({
          time: Date.now(),
          event: 'settings.changed',
          subject: {},
          details: { i: from + i, note: 'seeded for the export progress test' }
        }))
      );
    }
    return audit.status().count;
  }, count);
}

/** Records every state the progress bar shows (and the longest main-thread task) from now on. */
async function watchProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { samples: Sample[]; longest: number };
    w.samples = [];
    w.longest = 0;
    const sample = () => {
      const box = document.querySelector('[data-testid="audit-export-progress"]');
      const bar = box?.querySelector('progress');
      const stage = box?.getAttribute('data-stage');
      if (!bar || !stage) return;
      const last = w.samples.at(-1);
      const next = {
        stage,
        done: Number(bar.getAttribute('data-done')),
        total: Number(bar.getAttribute('data-total'))
      };
      if (last?.stage !== next.stage || last.done !== next.done) w.samples.push(next);
    };
    new MutationObserver(sample).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true
    });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longest = Math.max(w.longest, entry.duration);
    }).observe({ type: 'longtask' });
  });
}

const samples = (page: Page) =>
  page.evaluate(() => (window as unknown as { samples: Sample[] }).samples);

/** The Audit page with RECORDS records appended; what the page reports as broken, from now on. */
async function openSeeded(page: Page) {
  const { problems } = watchForProblems(page);
  await gotoReady(page, '/audit');
  await auditReady(page);
  const count = await seed(page, RECORDS);
  expect(count).toBeGreaterThanOrEqual(RECORDS);
  return { problems, count };
}

/** `audit.export` records, counted in the page (auditRecords would ship all 50,000 to Node). */
const exportRecords = (page: Page) =>
  page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<{ event: string }[]>((resolve, reject) => {
      const request = db.transaction('audit').objectStore('audit').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    db.close();
    return rows.filter((row) => row.event === 'audit.export').length;
  });

test('a 50,000-record export shows each stage counting up, then verifies with the CLI', async ({
  page
}) => {
  test.setTimeout(300_000);
  const { problems, count } = await openSeeded(page);
  await watchProgress(page);

  const downloads: Download[] = [];
  page.on('download', (download) => downloads.push(download));
  const started = Date.now();
  await page.getByTestId('audit-export').click();
  await expect(page.getByTestId('audit-export-result')).toContainText(/^Exported \d+ records/, {
    timeout: 180_000
  });
  const wall = Date.now() - started;
  await expect.poll(() => downloads.length).toBe(2);

  const seen = await samples(page);
  // Stages only move forward, and within a stage the count only grows, up to its total.
  const order = seen.map((s) => STAGES.indexOf(s.stage));
  expect(order.every((stage) => stage >= 0)).toBe(true);
  expect(order).toEqual([...order].sort((a, b) => a - b));
  for (const [i, s] of seen.entries()) {
    expect(s.done).toBeLessThanOrEqual(s.total);
    const before = seen[i - 1];
    if (before?.stage === s.stage) expect(s.done).toBeGreaterThan(before.done);
  }
  // The long stages were seen part way: the bar moved, it did not jump from nothing to done.
  for (const stage of ['reading', 'writing']) {
    const partway = seen.filter((s) => s.stage === stage && s.done > 0 && s.done < s.total);
    expect(partway.length, `${stage} seen part way`).toBeGreaterThan(0);
  }
  const longest = await page.evaluate(() => (window as unknown as { longest: number }).longest);
  console.log(
    `export of ${count} records: ${wall} ms, ${seen.length} progress states, ` +
      `longest main-thread task ${Math.round(longest)} ms`
  );

  const jsonl = downloads.find((d) => d.suggestedFilename().endsWith('.jsonl'))!;
  const checkpoint = downloads.find((d) => d.suggestedFilename().endsWith('.checkpoint'))!;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      'dist/cli/nightcore.js',
      'audit',
      'verify',
      await jsonl.path(),
      '--checkpoint',
      await checkpoint.path()
    ],
    { maxBuffer: 1 << 20 }
  );
  expect(stdout).toContain(`${count}`);
  console.log(`CLI: ${stdout.trim()}`);
  expect(problems).toEqual([]);
});

test('Cancel stops an export: no file is saved, nothing is recorded, Export works again', async ({
  page
}) => {
  test.setTimeout(300_000);
  const { problems } = await openSeeded(page);
  const exportsBefore = await exportRecords(page);
  const downloads: Download[] = [];
  page.on('download', (download) => downloads.push(download));

  await page.getByTestId('audit-export').click();
  const progress = page.getByTestId('audit-export-progress');
  await expect(progress).toHaveAttribute('data-stage', /reading|hashing|tree|writing/);
  await expect(page.getByTestId('audit-export')).toBeDisabled();
  await page.getByTestId('audit-export-cancel').click();
  await expect(page.getByTestId('audit-export-result')).toHaveText(
    'Export cancelled: nothing was saved.'
  );
  await expect(progress).toHaveCount(0);
  await expect(page.getByTestId('audit-export')).toBeEnabled();
  // Give a late download every chance to appear before saying there was none.
  await page.waitForTimeout(1000);
  expect(downloads).toHaveLength(0);
  expect(await exportRecords(page)).toBe(exportsBefore);

  // The next export runs to the end.
  await page.getByTestId('audit-export').click();
  await expect(page.getByTestId('audit-export-result')).toContainText(/^Exported \d+ records/, {
    timeout: 180_000
  });
  await expect.poll(() => downloads.length).toBe(2);
  expect(await exportRecords(page)).toBe(exportsBefore + 1);
  expect(problems).toEqual([]);
});
