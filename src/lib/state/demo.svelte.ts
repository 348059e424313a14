/**
 * The "Try it" demo set (static/demo, built by scripts/make-demo.mjs): a public demo publisher key
 * and five signed bundles, taken in through the normal Inbox pipeline (channel `demo`), and removed
 * again in one click. Removal deletes the demo key and every demo request, its runs and its module
 * bytes in ONE transaction with the audit record that says so; audit records are never deleted.
 */
import { runLockName } from '$lib/storage/audit-store';
import type { RequestRow } from '$lib/storage/records';
import { auditLog } from './audit-log.svelte';
import { database } from './database';
import { inboxState } from './inbox.svelte';
import { keysState } from './keys.svelte';
import { pendingCount } from './pending.svelte';

export const DEMO_CHANNEL = 'demo';
export const DEMO_KEY_LABEL = 'Demo publisher (demo data)';
const BASE = '/demo/';

/** What static/demo/index.json says (checked on read: it is input like any other). */
export interface DemoIndex {
  key: { file: string; id: string; label: string };
  bundles: { file: string; name: string }[];
}

export type DemoStatus = 'unknown' | 'absent' | 'loaded';

export class DemoState {
  status = $state<DemoStatus>('unknown');
  /** Demo requests stored now. */
  requests = $state(0);
  keyPinned = $state(false);
  busy = $state(false);
  message = $state<{ kind: 'ok' | 'error'; text: string } | null>(null);

  /** Re-reads what of the demo set is stored. */
  async refresh(): Promise<void> {
    const index = await readIndex().catch(() => null);
    const db = await database();
    const rows = await db.getAll('requests');
    this.requests = rows.filter((r) => r.channel === DEMO_CHANNEL).length;
    this.keyPinned = index ? Boolean(await db.get('keys', index.key.id)) : false;
    this.status = this.requests > 0 || this.keyPinned ? 'loaded' : 'absent';
  }

  /** Pins the demo key (trust review) and takes every demo bundle in through the Inbox. */
  async load(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.refresh();
      if (this.requests > 0) {
        this.message = { kind: 'ok', text: 'The demo set is already loaded.' };
        return;
      }
      let index: DemoIndex;
      const files: { name: string; bytes: Uint8Array }[] = [];
      let keyText: string;
      try {
        index = await readIndex();
        keyText = await fetchText(index.key.file);
        for (const bundle of index.bundles) {
          files.push({ name: bundle.file, bytes: await fetchBytes(bundle.file) });
        }
      } catch (error) {
        const text = `The demo set could not be read: ${describe(error)}`;
        this.message = { kind: 'error', text };
        await inboxState.refuse('demo', text);
        return;
      }
      const pinned = await keysState.import(keyText, DEMO_KEY_LABEL, 'review');
      if (pinned.error) {
        this.message = { kind: 'error', text: `The demo key was not pinned: ${pinned.error}` };
        return;
      }
      await inboxState.intakeFiles(files, 'demo');
      this.message = inboxState.message
        ? { kind: inboxState.message.kind, text: `Demo data: ${inboxState.message.text}` }
        : null;
    } finally {
      this.busy = false;
      await this.refresh().catch(() => undefined);
    }
  }

  /** Removes the demo key and every demo request with its runs and bytes; audited. */
  async remove(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      let index: DemoIndex;
      try {
        index = await readIndex();
      } catch (error) {
        this.message = { kind: 'error', text: `Could not read the demo set: ${describe(error)}` };
        return;
      }
      // A run is live while its tab holds its lock; a row left 'running' by a closed tab is not.
      const held = new Set(((await navigator.locks?.query())?.held ?? []).map((l) => l.name));
      const store = await auditLog.store();
      const removed = { key: false, requests: 0, runs: 0, modules: 0 };
      let running = false;
      const row = await store.appendWith(
        ['keys', 'requests', 'runs', 'runOutputs', 'modules'],
        async (tx) => {
          const all: RequestRow[] = await tx.objectStore('requests').getAll();
          const demo = all.filter((r) => r.channel === DEMO_CHANNEL);
          const runs = tx.objectStore('runs');
          // A run in progress holds its request: stopping it first keeps its outcome on record.
          for (const request of demo.filter((r) => r.state === 'running')) {
            const rows = await runs.index('byRequest').getAll(request.id);
            if (
              rows.some(
                (run) =>
                  run.status === 'queued' ||
                  (run.status === 'running' && held.has(runLockName(run.id)))
              )
            ) {
              running = true;
              return null;
            }
          }
          const kept = new Set(
            all.filter((r) => r.channel !== DEMO_CHANNEL).map((r) => r.moduleSha256)
          );
          const modules = new Set(demo.map((r) => r.moduleSha256).filter((s) => s && !kept.has(s)));
          for (const request of demo) {
            for (const id of await runs.index('byRequest').getAllKeys(request.id)) {
              await runs.delete(id);
              // Its output (schema v3) goes with it.
              await tx.objectStore('runOutputs').delete(id);
              removed.runs++;
            }
            await tx.objectStore('requests').delete(request.id);
            removed.requests++;
          }
          for (const sha256 of modules) await tx.objectStore('modules').delete(sha256);
          removed.modules = modules.size;
          const keys = tx.objectStore('keys');
          removed.key = Boolean(await keys.get(index.key.id));
          if (removed.key) await keys.delete(index.key.id);
          if (!removed.key && removed.requests === 0) return null;
          return {
            time: Date.now(),
            event: 'settings.changed',
            subject: removed.key ? { keyIds: [index.key.id] } : {},
            details: { setting: 'demo-data', action: 'removed', ...removed }
          };
        },
        'the removal of the demo data'
      );
      if (running) {
        this.message = {
          kind: 'error',
          text: 'A demo module is running: stop it on the Runs page, then remove the demo data.'
        };
      } else if (!row) {
        this.message = { kind: 'ok', text: 'There is no demo data to remove.' };
      } else {
        this.message = {
          kind: 'ok',
          text: `Demo data removed: ${removed.requests} requests, ${removed.runs} runs${removed.key ? ' and the demo key' : ''}. The audit log keeps its records.`
        };
      }
      await Promise.all([auditLog.refresh(), inboxState.load(), keysState.load()]);
      pendingCount.changed();
    } catch (error) {
      this.message = { kind: 'error', text: `The demo data was not removed: ${describe(error)}` };
    } finally {
      this.busy = false;
      await this.refresh().catch(() => undefined);
    }
  }
}

async function readIndex(): Promise<DemoIndex> {
  const value: unknown = JSON.parse(await fetchText('index.json'));
  const index = value as DemoIndex;
  const fileName = (v: unknown) => typeof v === 'string' && /^[a-z0-9-]+\.(ncb|pub)$/.test(v);
  if (
    typeof value !== 'object' ||
    value === null ||
    !fileName(index.key?.file) ||
    typeof index.key?.id !== 'string' ||
    !/^[0-9a-f]{64}$/.test(index.key.id) ||
    !Array.isArray(index.bundles) ||
    !index.bundles.every((b) => fileName(b?.file))
  ) {
    throw new Error('index.json is not a demo index');
  }
  return index;
}

async function fetchOk(file: string): Promise<Response> {
  const response = await fetch(`${BASE}${file}`);
  if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
  return response;
}

async function fetchText(file: string): Promise<string> {
  return (await fetchOk(file)).text();
}

async function fetchBytes(file: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetchOk(file)).arrayBuffer());
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const demoState = new DemoState();
