/**
 * Filling an origin's real quota, and reading IndexedDB directly, for tests/e2e/quota.spec.ts (see
 * docs/reliability/quota-and-updates.md for why the quota is real and how the slack is given back).
 */
import { expect, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { auditReady, gotoReady } from './helpers';
import type { Workspace } from './workspace';

/**
 * Writes random (incompressible) values of `chunk` bytes into the database `name` until the
 * browser refuses one for quota, or `max` were written; returns how many fit. Any other failure
 * fails the test.
 */
export async function fill(page: Page, name: string, chunk: number, max = 200): Promise<number> {
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

export async function dropDatabase(page: Page, name: string): Promise<void> {
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
export async function headroom(page: Page): Promise<number> {
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
export async function fillLeaving(page: Page, slack: number): Promise<void> {
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

export interface Snapshot {
  requests: { id: string; fileName: string; state: string; moduleSha256: string }[];
  modules: string[];
  audit: { seq: number; event: string; hash: string; details: Record<string, unknown> }[];
  runs: { id: string; status: string; stdoutBytes: number | null }[];
}

/** Every request, module key, audit record and run, read straight from IndexedDB. */
export async function snapshot(page: Page): Promise<Snapshot> {
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
    const [requests, modules, audit, runs, outputs] = await Promise.all([
      all<Row>('requests'),
      all<string>('modules', true),
      all<Row>('audit'),
      all<Row>('runs'),
      // Output lives beside the run rows since schema v3.
      all<Row>('runOutputs')
    ]);
    const output = new Map(outputs.map((o) => [o.id as string, o]));
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
        stdoutBytes: (() => {
          const stdout = output.get(r.id as string)?.stdout;
          return stdout instanceof Uint8Array ? stdout.length : null;
        })()
      }))
    };
  });
}

/** The chain as a fresh page load verifies it (read-only: nothing is appended to a full log). */
export async function chainOnLoad(page: Page): Promise<string> {
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
export function bigBundle(w: Workspace): { path: string; sha256: string; size: number } {
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
