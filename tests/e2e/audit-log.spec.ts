import { expect, test, type Page } from '@playwright/test';
import { auditReady, gotoReady } from './helpers';

const status = (page: Page) =>
  page.evaluate(
    () =>
      (window as any).nightcoreAutomation.audit.status() as {
        status: string;
        count: number;
        brokenSeq: number | null;
      }
  );

test('two tabs appending 500 records each end with 1000 more records and an intact chain', async ({
  context
}) => {
  test.setTimeout(120_000);
  const [a, b] = [await context.newPage(), await context.newPage()];
  await gotoReady(a, '/');
  await auditReady(a);
  await gotoReady(b, '/');
  await auditReady(b);
  const before = (await status(a)).count;
  const appendFrom = (page: Page, tab: string) =>
    page.evaluate(async (tab) => {
      const audit = (window as any).nightcoreAutomation.audit;
      for (let i = 0; i < 500; i++) {
        await audit.append({ event: 'settings.changed', subject: {}, details: { tab, i } });
      }
    }, tab);
  await Promise.all([appendFrom(a, 'a'), appendFrom(b, 'b')]);
  const check = await a.evaluate(() => (window as any).nightcoreAutomation.audit.check());
  expect(check).toEqual({ status: 'ok', brokenSeq: null, problem: null });
  // +1: the check itself is recorded.
  await expect.poll(async () => (await status(b)).count).toBe(before + 1000 + 1);
  const interleaved = await a.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<any[]>((resolve) => {
      const request = db.transaction('audit').objectStore('audit').getAll();
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    const tabs = rows.filter((r) => r.details?.tab).map((r) => r.details.tab as string);
    const seqs = rows.map((r) => r.seq);
    return {
      a: tabs.filter((t) => t === 'a').length,
      b: tabs.filter((t) => t === 'b').length,
      contiguous: seqs.every((s, i) => s === i)
    };
  });
  expect(interleaved).toEqual({ a: 500, b: 500, contiguous: true });
});

test('a record edited by hand in IndexedDB shows a broken chain at that seq on every page', async ({
  page
}) => {
  await gotoReady(page, '/');
  await auditReady(page);
  for (let i = 0; i < 5; i++) {
    await page.evaluate(
      (i) =>
        (window as any).nightcoreAutomation.audit.append({
          event: 'settings.changed',
          subject: {},
          details: { i }
        }),
      i
    );
  }
  const target = (await status(page)).count - 3;
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
      get.onsuccess = () => store.put({ ...get.result, details: { i: 999, edited: true } });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, target);
  for (const path of ['/', '/audit', '/settings']) {
    await gotoReady(page, path);
    const banner = page.getByTestId('chain-broken');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText(`broken at record ${target}`);
  }
  expect((await status(page)).brokenSeq).toBe(target);
});

test('a run that started without an outcome is recorded as interrupted on the next load', async ({
  page
}) => {
  await gotoReady(page, '/');
  await auditReady(page);
  await page.evaluate(() =>
    (window as any).nightcoreAutomation.audit.append({
      event: 'run.started',
      subject: { runId: 'run-e2e-1' },
      details: {}
    })
  );
  await page.reload();
  await auditReady(page);
  const events = () =>
    page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('nightcore');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const rows = await new Promise<any[]>((resolve) => {
        const request = db
          .transaction('audit')
          .objectStore('audit')
          .index('byRun')
          .getAll('run-e2e-1');
        request.onsuccess = () => resolve(request.result);
      });
      db.close();
      return rows.map((r) => r.event);
    });
  await expect.poll(events).toEqual(['run.started', 'run.interrupted']);
});

test('a whole and a filtered export from the Audit page verify with the CLI; a tampered one does not', async ({
  page
}) => {
  const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const cli = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-export-'));
  const nightcore = (...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });

  await gotoReady(page, '/settings');
  await auditReady(page);
  writeFileSync(
    join(dir, 'device.vkey'),
    `${await page.getByTestId('device-vkey').textContent()}\n`
  );
  for (let i = 0; i < 12; i++) {
    await page.evaluate(
      (i) =>
        (window as any).nightcoreAutomation.audit.append({
          event: i % 3 ? 'settings.changed' : 'intake',
          subject: {},
          details: { i }
        }),
      i
    );
  }
  await gotoReady(page, '/audit');
  const save = async (testId: string, prefix: string) => {
    const files: string[] = [];
    const done = new Promise<void>((resolve) => {
      page.on('download', async function onDownload(download) {
        const name = download.suggestedFilename().endsWith('.jsonl')
          ? `${prefix}.jsonl`
          : `${prefix}.checkpoint`;
        await download.saveAs(join(dir, name));
        files.push(name);
        if (files.length === 2) {
          page.off('download', onDownload);
          resolve();
        }
      });
    });
    await page.getByTestId(testId).click();
    await done;
  };
  await save('audit-export', 'all');
  const whole = nightcore(
    'audit',
    'verify',
    'all.jsonl',
    '--checkpoint',
    'all.checkpoint',
    '--key',
    'device.vkey'
  );
  expect(whole.status, whole.stderr).toBe(0);
  expect(whole.stdout).toMatch(/^intact: \d+ records \(full export\)/);
  expect(whole.stdout).toContain('checkpoint signature verified');

  await page.getByLabel('Event').selectOption('intake');
  await save('audit-export-filtered', 'some');
  const filtered = nightcore(
    'audit',
    'verify',
    'some.jsonl',
    '--checkpoint',
    'some.checkpoint',
    '--key',
    'device.vkey'
  );
  expect(filtered.status, filtered.stderr).toBe(0);
  expect(filtered.stdout).toMatch(/\(filtered export\)/);

  const lines = readFileSync(join(dir, 'all.jsonl'), 'utf8').split('\n');
  lines[3] = lines[3]!.replace('"time":', '"time":1');
  writeFileSync(join(dir, 'tampered.jsonl'), lines.join('\n'));
  const tampered = nightcore(
    'audit',
    'verify',
    'tampered.jsonl',
    '--checkpoint',
    'all.checkpoint',
    '--key',
    'device.vkey'
  );
  expect(tampered.status).toBe(1);
  expect(tampered.stderr).toMatch(/broken at record 2 \(line 4\)/);
});
