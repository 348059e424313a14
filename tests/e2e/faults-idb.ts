/**
 * What the fault specs check after a fault, read straight from the page's IndexedDB (an outside
 * view, not through the app): the rows, and the invariants that must hold whatever died when.
 *
 * - A request never exists without its module bytes, nor without its `intake` and `verdict`
 *   records (request, bytes and verdict record share one transaction; the intake record is written
 *   before it). An `intake` record with no request is an intake that was cut off: allowed.
 * - A request is decided if and only if exactly one applied `decision` record names it (the
 *   decision and its record share one transaction); a pending request has none.
 * - Every run row is finished or interrupted once no tab runs it, and every `run.started` has
 *   exactly one outcome record.
 */
import type { Page } from '@playwright/test';

export interface Rows {
  requests: {
    id: string;
    state: string;
    createdAt: number;
    moduleSha256: string;
    decision?: { action: string };
  }[];
  modules: { sha256: string; size: number }[];
  runs: { id: string; requestId: string; status?: string }[];
  audit: {
    seq: number;
    event: string;
    subject: { requestId?: string; runId?: string };
    details: Record<string, unknown>;
  }[];
}

export function readRows(page: Page): Promise<Rows> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const names = ['requests', 'modules', 'runs', 'audit'] as const;
    const tx = db.transaction([...names], 'readonly');
    const all = await Promise.all(
      names.map(
        (name) =>
          new Promise<unknown[]>((resolve, reject) => {
            const request = tx.objectStore(name).getAll();
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          })
      )
    );
    db.close();
    // Module bytes stay in the page: only what the checks need crosses.
    const modules = (all[1] as { sha256: string; size: number }[]).map(({ sha256, size }) => ({
      sha256,
      size
    }));
    const runs = (all[2] as { id: string; requestId: string; status?: string }[]).map(
      ({ id, requestId, status }) => ({ id, requestId, status })
    );
    return { requests: all[0], modules, runs, audit: all[3] } as Rows;
  });
}

const DECIDED = new Set(['approved', 'denied', 'running', 'done']);
const OUTCOMES = new Set(['run.finished', 'run.killed', 'run.interrupted']);

/** Every invariant above that does not hold, as a sentence (empty when all hold). */
export function brokenInvariants(rows: Rows): string[] {
  const problems: string[] = [];
  const modules = new Set(rows.modules.map((m) => m.sha256));
  const about = (event: string, requestId: string) =>
    rows.audit.filter((r) => r.event === event && r.subject.requestId === requestId);
  for (const request of rows.requests) {
    if (request.moduleSha256 && !modules.has(request.moduleSha256))
      problems.push(`request ${request.id} has no module bytes`);
    if (about('intake', request.id).length !== 1)
      problems.push(
        `request ${request.id} has ${about('intake', request.id).length} intake records`
      );
    if (about('verdict', request.id).length !== 1)
      problems.push(`request ${request.id} has ${about('verdict', request.id).length} verdicts`);
    const applied = about('decision', request.id).filter((r) => r.details.result === undefined);
    const decided = DECIDED.has(request.state) && request.decision !== undefined;
    if (decided !== (applied.length === 1) || applied.length > 1)
      problems.push(
        `request ${request.id} is ${request.state} with ${applied.length} decision records`
      );
  }
  const ids = new Set(rows.requests.map((r) => r.id));
  for (const record of rows.audit.filter((r) => r.event === 'decision')) {
    if (record.details.result === undefined && !ids.has(record.subject.requestId ?? ''))
      problems.push(`decision record ${record.seq} names no stored request`);
  }
  for (const run of rows.runs) {
    if (run.status === 'running' || run.status === 'queued')
      problems.push(`run ${run.id} is still ${run.status}`);
  }
  for (const started of rows.audit.filter((r) => r.event === 'run.started')) {
    const ends = rows.audit.filter(
      (r) => OUTCOMES.has(r.event) && r.subject.runId === started.subject.runId
    );
    if (ends.length !== 1)
      problems.push(`run ${started.subject.runId} has ${ends.length} outcomes`);
  }
  const seqs = rows.audit.map((r) => r.seq);
  if (!seqs.every((s, i) => s === i)) problems.push('audit sequence numbers have a gap');
  return problems;
}

/** Checks the whole chain in the page (same code as the Audit page's check) and returns its status. */
export function checkChain(page: Page): Promise<{ status: string; brokenSeq: number | null }> {
  return page.evaluate(() =>
    (
      window as unknown as {
        nightcoreAutomation: {
          audit: { check(): Promise<{ status: string; brokenSeq: number | null }> };
        };
      }
    ).nightcoreAutomation.audit.check()
  );
}

/**
 * Creates `nightcore` at an old schema version (1 or 2) in a page where no app code has run,
 * exactly as rungs 1 (and 2) of src/lib/storage/db.ts made it, or opens it at any later version
 * without changing it (a stand-in for a newer app in another tab). With `hold`, the connection
 * stays open in `window.__held` (an old tab that does not let go); otherwise it is closed.
 * Returns the version opened.
 */
export function openRawDatabase(page: Page, version: number, hold = false): Promise<number> {
  return page.evaluate(
    ({ version, hold }) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('nightcore', version);
        open.onupgradeneeded = (event) => {
          const db = open.result;
          if (event.oldVersion < 1 && version <= 2) {
            db.createObjectStore('keys', { keyPath: 'id' }).createIndex('byTrust', 'trust');
            db.createObjectStore('policies', { keyPath: 'version' });
            const requests = db.createObjectStore('requests', { keyPath: 'id' });
            requests.createIndex('byState', 'state');
            requests.createIndex('byCreated', 'createdAt');
            requests.createIndex('byModule', 'moduleSha256');
            db.createObjectStore('modules', { keyPath: 'sha256' });
            const runs = db.createObjectStore('runs', { keyPath: 'id' });
            runs.createIndex('byRequest', 'requestId');
            runs.createIndex('byStarted', 'startedAt');
            const audit = db.createObjectStore('audit', { keyPath: 'seq' });
            audit.createIndex('byEvent', 'event');
            audit.createIndex('byTime', 'time');
            db.createObjectStore('meta', { keyPath: 'name' });
          }
          if (event.oldVersion < 2 && version === 2) {
            const audit = open.transaction!.objectStore('audit');
            audit.createIndex('byModule', 'subject.moduleSha256');
            audit.createIndex('byKey', 'subject.keyIds', { multiEntry: true });
            audit.createIndex('byRun', 'subject.runId');
            db.createObjectStore('checkpoints', { keyPath: 'size' });
          }
        };
        open.onsuccess = () => {
          if (hold) (window as unknown as { __held: IDBDatabase }).__held = open.result;
          else open.result.close();
          resolve(open.result.version);
        };
        open.onerror = () => reject(open.error);
      }),
    { version, hold }
  );
}
