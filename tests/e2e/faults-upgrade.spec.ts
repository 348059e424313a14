/**
 * Issue 9, faults: a schema upgrade from a saved v1 database. The database is made in the browser
 * exactly as rung 1 of the ladder (src/lib/storage/db.ts, unchanged since v1) makes it, filled
 * with tests/fixtures/db-v1.json (see db-v1.make.mjs for how those rows were made), and then the
 * app is loaded: it must climb to the current version, lose nothing, count everything on Settings,
 * and go on working (audit log, decisions, runs from the bytes stored under v1).
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { auditReady, gotoReady } from './helpers';
import { checkChain, openRawDatabase, readRows } from './faults-idb';

const FIXTURE = JSON.parse(
  readFileSync(new URL('../fixtures/db-v1.json', import.meta.url), 'utf8')
) as { version: 1; stores: Record<string, Record<string, unknown>[]> };
const V1_STORES = ['keys', 'policies', 'requests', 'modules', 'runs', 'audit', 'meta'];

/** Creates the v1 database (rung 1, as shipped) and puts the fixture rows in it. */
async function makeV1(page: Page) {
  expect(await openRawDatabase(page, 1)).toBe(1);
  await page.evaluate(async (stores) => {
    const decode = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(decode);
      if (value && typeof value === 'object') {
        if ('$bytes' in value)
          return (Uint8Array as unknown as { fromBase64(s: string): Uint8Array }).fromBase64(
            (value as { $bytes: string }).$bytes
          );
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
      }
      return value;
    };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore', 1);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(Object.keys(stores), 'readwrite');
      for (const [name, rows] of Object.entries(stores)) {
        for (const row of rows) tx.objectStore(name).add(decode(row));
      }
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }, FIXTURE.stores);
}

/** Every row of the given stores, bytes as {$bytes}, like the fixture. */
function dump(page: Page, names: string[]) {
  return page.evaluate(async (names) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction(names);
    const all = await Promise.all(
      names.map(
        (name) =>
          new Promise<unknown[]>((resolve) => {
            const got = tx.objectStore(name).getAll();
            got.onsuccess = () => resolve(got.result);
          })
      )
    );
    const shape = {
      version: db.version,
      stores: [...db.objectStoreNames].sort(),
      auditIndexes: [...db.transaction('audit').objectStore('audit').indexNames].sort()
    };
    db.close();
    const encode = (value: unknown): unknown => {
      if (value instanceof Uint8Array)
        return { $bytes: (value as unknown as { toBase64(): string }).toBase64() };
      if (Array.isArray(value)) return value.map(encode);
      if (value && typeof value === 'object')
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
      return value;
    };
    const rows = Object.fromEntries(names.map((n, i) => [n, encode(all[i]) as unknown[]]));
    return { shape, rows };
  }, names);
}

test('a saved v1 database is upgraded on load: nothing lost, counted on Settings, and it works on', async ({
  page
}) => {
  test.setTimeout(90_000);
  // Same origin, no app code: nothing opens the database before the v1 one exists.
  await page.goto('/favicon.svg');
  await makeV1(page);
  const before = await dump(page, V1_STORES);
  expect(before.shape.version).toBe(1);
  expect(before.shape.stores).toEqual([...V1_STORES].sort());

  await gotoReady(page, '/settings');
  await auditReady(page);
  const after = await dump(page, ['keys', 'policies', 'requests', 'modules', 'runs', 'meta']);
  expect(after.shape).toEqual({
    version: 3,
    stores: [
      'audit',
      'checkpoints',
      'keys',
      'meta',
      'modules',
      'policies',
      'requests',
      'runOutputs',
      'runs'
    ],
    auditIndexes: ['byEvent', 'byKey', 'byModule', 'byRun', 'byTime']
  });
  // Every v1 row is still there, unchanged (the device key is new, in meta).
  for (const name of ['keys', 'policies', 'requests', 'modules', 'runs']) {
    const byKey = (rows: unknown[]) =>
      [...rows].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    expect(byKey(after.rows[name]!), name).toEqual(byKey(FIXTURE.stores[name]!));
  }
  expect(after.rows.meta).toEqual(expect.arrayContaining(FIXTURE.stores.meta!));

  const counts = page.getByTestId('store-counts');
  for (const name of ['keys', 'policies', 'requests', 'modules', 'runs']) {
    const row = counts
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name, exact: true }) });
    await expect(row.getByRole('cell'), name).toHaveText(String(FIXTURE.stores[name]!.length));
  }
  // The audit log starts on the upgraded database and verifies.
  const audit = await readRows(page);
  expect(audit.audit[0]).toMatchObject({ seq: 0, event: 'device.key-created' });
  expect(await checkChain(page)).toMatchObject({ status: 'ok', brokenSeq: null });

  // What v1 held shows and works: the mode, the queue, the key, the run history.
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
  await gotoReady(page, '/keys');
  await expect(page.getByTestId('key')).toHaveCount(1);
  await gotoReady(page, '/inbox');
  const states = FIXTURE.stores.requests!.map((r) => r.state as string).sort();
  await expect(page.getByTestId('request')).toHaveCount(states.length);
  const pending = page.locator('[data-testid="request"][data-state="pending"]');
  await expect(pending).toHaveCount(states.filter((s) => s === 'pending').length);
  // The request stored in v1's fields only (no verdict) shows as such and cannot be approved.
  const bare = page.getByTestId('request').filter({ hasText: 'Stored without its verdict' });
  await expect(bare).toHaveCount(1);
  await expect(bare.getByTestId('verdict')).toHaveAttribute('data-verdict', 'rejected');
  await bare.getByTestId('approve').click();
  await expect(page.getByTestId('intake-result')).toContainText('Cannot approve');
  await expect(bare).toHaveAttribute('data-state', 'pending');
  // The one with its verdict is approved as usual.
  await pending.filter({ hasText: 'env-print' }).getByTestId('approve').click();
  await expect(pending).toHaveCount(1);
  await gotoReady(page, '/runs');
  await expect(page.getByTestId('run')).toHaveCount(1);
  // echo-args was approved under v1 and never run: its bytes (a v1 Uint8Array row) still run.
  const echo = page.getByTestId('run-ready').filter({ hasText: 'echo-args' });
  await echo.getByTestId('run-start').click();
  const run = page.getByTestId('run').filter({ hasText: 'echo-args' }).first();
  await expect(run).toHaveAttribute('data-status', 'exited');
  const rows = await readRows(page);
  expect(rows.audit.filter((r) => r.event.startsWith('run.')).map((r) => r.event)).toEqual([
    'run.started',
    'run.finished'
  ]);
  const decisions = rows.audit.filter((r) => r.event === 'decision');
  expect(decisions.map((r) => r.details.result ?? 'applied')).toEqual([
    'refused: not approvable now',
    'applied'
  ]);
  expect(await checkChain(page)).toMatchObject({ status: 'ok', brokenSeq: null });
  // The v1 run keeps its v1 shape (no status); the new one is whole.
  expect(rows.runs.map((r) => r.status ?? 'v1').sort()).toEqual(['exited', 'v1']);
});
