import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { auditReady, gotoReady, watchForProblems } from './helpers';
import { approveBundle, cliWorkspace, pinKey, type Workspace } from './workspace';

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

/**
 * Writes random (incompressible) values of `chunk` bytes into the database `name` until the
 * browser refuses one for quota, or `max` were written; returns how many fit. Any other failure
 * fails the test.
 */
async function fill(page: Page, name: string, chunk: number, max = 200): Promise<number> {
  return page.evaluate(
    async ({ name, chunk, max }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onupgradeneeded = () => open.result.createObjectStore('fill', { autoIncrement: true });
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      try {
        for (let i = 0; i < max; i++) {
          const value = new Uint8Array(chunk);
          for (let at = 0; at < chunk; at += 65536) {
            crypto.getRandomValues(value.subarray(at, Math.min(chunk, at + 65536)));
          }
          const error = await new Promise<DOMException | null>((resolve) => {
            const tx = db.transaction('fill', 'readwrite');
            tx.objectStore('fill').add(value);
            tx.oncomplete = () => resolve(null);
            tx.onabort = () => resolve(tx.error);
          });
          if (error?.name === 'QuotaExceededError') return i;
          if (error) throw new Error(`filler write failed: ${error.name}: ${error.message}`);
        }
        return max;
      } finally {
        db.close();
      }
    },
    { name, chunk, max }
  );
}

async function dropDatabase(page: Page, name: string): Promise<void> {
  await page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      }),
    name
  );
}

/** What the browser's quota books say is left for the origin (negative: already over). */
async function headroom(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const origin = new URL(page.url()).origin;
    const { usage, quota } = await cdp.send('Storage.getUsageAndQuota', { origin });
    return quota - usage;
  } finally {
    await cdp.detach();
  }
}

const SLACK_UNIT = 256 * 1024;
const SLACK_UNITS = 8;

/**
 * Fills the origin's quota, then gives back at least `slack` bytes. Chromium accepts writes a
 * little past its quota (it books LevelDB's growth after the fact), so the space is given back
 * in whole databases set aside beforehand, until the books show `slack` free.
 */
async function fillLeaving(page: Page, slack: number): Promise<void> {
  const units = slack > 0 ? SLACK_UNITS : 0;
  for (let i = 0; i < units; i++)
    expect(await fill(page, `quota-slack-${i}`, SLACK_UNIT, 1)).toBe(1);
  // Each stage must end on the browser's refusal, not on `max`: the quota is really reached.
  expect(await fill(page, 'quota-filler', 1024 * 1024, 200)).toBeLessThan(200);
  expect(await fill(page, 'quota-filler', 32 * 1024, 200)).toBeLessThan(200);
  if (slack === 0) {
    expect(await fill(page, 'quota-filler', 256, 2000)).toBeLessThan(2000);
    return;
  }
  for (let i = 0; i < units; i++) {
    const was = await headroom(page);
    if (was >= slack) return;
    await dropDatabase(page, `quota-slack-${i}`);
    // The delete is booked a moment later.
    await expect.poll(() => headroom(page), { timeout: 20_000 }).toBeGreaterThan(was);
  }
  expect(await headroom(page)).toBeGreaterThanOrEqual(slack);
}

interface Snapshot {
  requests: { id: string; fileName: string; state: string; moduleSha256: string }[];
  modules: string[];
  audit: { seq: number; event: string; hash: string; details: Record<string, unknown> }[];
  runs: { id: string; status: string; stdoutBytes: number | null }[];
}

/** Every request, module key, audit record and run, read straight from IndexedDB. */
async function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const all = <T>(store: string, keys = false) =>
      new Promise<T[]>((resolve, reject) => {
        const os = db.transaction(store).objectStore(store);
        const request = keys ? os.getAllKeys() : os.getAll();
        request.onsuccess = () => resolve(request.result as T[]);
        request.onerror = () => reject(request.error);
      });
    type Row = Record<string, unknown>;
    const [requests, modules, audit, runs] = await Promise.all([
      all<Row>('requests'),
      all<string>('modules', true),
      all<Row>('audit'),
      all<Row>('runs')
    ]);
    db.close();
    return {
      requests: requests.map((r) => ({
        id: r.id as string,
        fileName: r.fileName as string,
        state: r.state as string,
        moduleSha256: r.moduleSha256 as string
      })),
      modules,
      audit: audit.map((r) => ({
        seq: r.seq as number,
        event: r.event as string,
        hash: r.hash as string,
        details: r.details as Record<string, unknown>
      })),
      runs: runs.map((r) => ({
        id: r.id as string,
        status: r.status as string,
        stdoutBytes: r.stdout instanceof Uint8Array ? r.stdout.length : null
      }))
    };
  });
}

/** The chain as a fresh page load verifies it (read-only: nothing is appended to a full log). */
async function chainOnLoad(page: Page): Promise<string> {
  await gotoReady(page, '/audit');
  await auditReady(page);
  return page.evaluate(
    () =>
      (
        window as unknown as { nightcoreAutomation: { audit: { status(): { status: string } } } }
      ).nightcoreAutomation.audit.status().status
  );
}

/** hello.wasm with a 3 MiB custom section of random bytes: a valid module too big to fit. */
function bigBundle(w: Workspace): { path: string; sha256: string; size: number } {
  const hello = readFileSync(w.fixture('hello'));
  const name = Buffer.from('pad');
  const payload = randomBytes(3 * 1024 * 1024);
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  const leb: number[] = [];
  for (let n = body.length; ;) {
    const byte = n & 0x7f;
    n >>>= 7;
    if (n === 0) {
      leb.push(byte);
      break;
    }
    leb.push(byte | 0x80);
  }
  const wasm = Buffer.concat([hello, Buffer.from([0, ...leb]), body]);
  writeFileSync(w.path('big.wasm'), wasm);
  w.nightcore('sign', 'big.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'big.ncb');
  return {
    path: w.path('big.ncb'),
    sha256: createHash('sha256').update(wasm).digest('hex'),
    size: wasm.length
  };
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

test('a run whose output does not fit is named in the UI; its outcome is audited and the chain holds', async ({
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
    await expect(error).toContainText('The run ended (exited) but could not be recorded:', {
      timeout: 30_000
    });
    await expect(error).toContainText(/Storage is full: the record of run [0-9a-f]{8} \(exited\)/);
    await expect(error).toContainText('Free space on this device');

    const after = await snapshot(page);
    // The outcome is on record; the run row is the last one that fitted, whole (no partial output).
    const added = after.audit
      .slice(before.audit.length)
      .map((r) => r.event)
      .filter((e) => e !== 'settings.changed'); // the persistence request on the first click
    expect(added).toEqual(['run.started', 'run.finished']);
    const finished = after.audit[after.audit.length - 1]!;
    expect(finished.details.stdoutBytes).toBe(900 * 1024);
    expect(after.runs).toHaveLength(1);
    expect(after.runs[0]!.status).toBe('running');
    expect(after.runs[0]!.stdoutBytes).toBeNull();
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
    // The first click on each page asks for persistent storage and audits the answer (Keys page,
    // then here): let both records land before the disk fills.
    const persistence = async () =>
      (await snapshot(page)).audit.filter((r) => r.event === 'settings.changed').length;
    await expect.poll(persistence).toBe(2);
    const before = await snapshot(page);

    await fillLeaving(page, 0);
    await request.getByTestId('approve').click();
    const result = page.getByTestId('intake-result');
    await expect(result).toHaveAttribute('role', 'alert', { timeout: 30_000 });
    await expect(result).toContainText(
      'Storage is full: the audit record (decision) could not be saved, and nothing of it was written.'
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
