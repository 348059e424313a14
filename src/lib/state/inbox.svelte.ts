/**
 * The Inbox: intake by paste or file, verification against the pinned keys, and the request
 * queue. Every intake and every verdict is audited, including inputs that are refused outright.
 */
import {
  groupFiles,
  decodePaste,
  decodeUrlImport,
  type IntakeItem,
  type NamedBytes
} from '$lib/core/intake';
import { evaluatePolicy } from '$lib/core/policy/evaluate';
import { inspectWasm } from '$lib/core/wasm/inspect';
import { listKeys } from '$lib/storage/keys-store';
import { currentPolicy } from '$lib/storage/policy-store';
import type { KeyRow, RequestRow } from '$lib/storage/records';
import { listRequests, saveRequest } from '$lib/storage/requests-store';
import { isQuotaError, StorageFullError, untilFull } from '$lib/storage/storage-errors';
import { auditLog } from './audit-log.svelte';
import { runMode } from './run-mode.svelte';
import { decide, type DecisionAction } from './decisions';
import type { RunInputs } from './runs.svelte';

const DECIDED: Record<DecisionAction, string> = {
  approve: 'approved once',
  pin: 'approved, and its hash pinned',
  deny: 'denied',
  block: 'denied, and its hash blocked'
};
import { database } from './database';
import { pendingCount } from './pending.svelte';
import { autoLane } from './auto-lane.svelte';
import { attention } from './attention.svelte';
import { readAll, type Collected } from './file-intake';
import { formatBytes } from '$lib/core/units';
import {
  approvedHistory,
  moduleSize,
  PROGRESS_FROM_BYTES,
  toRequest,
  signedCommentDetails,
  verifyAgainst
} from './intake-judging';

/**
 * How files arrived: the request's `channel`, recorded in the audit log. `file-handler`: opened
 * with the installed app from the file manager; `share-target`: shared to the installed app;
 * `watched-folder`: dropped by an agent in the watched folder's inbox/; `demo`: the Try-it set.
 */
export type FileChannel =
  'file' | 'folder' | 'drop' | 'file-handler' | 'share-target' | 'watched-folder' | 'demo';

/** Every channel: files, pasted text, or a link (`/inbox#import=…`). */
export type Channel = FileChannel | 'paste' | 'url';

/** What the Inbox shows while it works: bytes read, then items verified. */
export interface IntakeProgress {
  stage: 'reading' | 'verifying';
  done: number;
  total: number;
  /** The file being read or verified now. */
  current: string;
}

/** How many not-understood file names one message lists before saying "and N more". */
const LISTED = 5;

export type { RequestRow };

export class InboxState {
  requests = $state.raw<RequestRow[]>([]);
  busy = $state(false);
  message = $state<{ kind: 'ok' | 'error'; text: string } | null>(null);
  progress = $state<IntakeProgress | null>(null);

  async load(): Promise<void> {
    this.requests = await listRequests(await database());
  }

  /** A human decision on a pending request (see decisions.ts). */
  async decide(request: RequestRow, action: DecisionAction): Promise<void> {
    let problem: string | null;
    try {
      problem = await decide(request, action);
    } catch (error) {
      // decide() writes the decision and its audit record in one transaction: a full disk
      // stops both, and nothing of either is written.
      if (!isQuotaError(error)) throw error;
      problem =
        error instanceof StorageFullError
          ? error.message
          : new StorageFullError('the decision and its audit record').message;
    }
    this.message = problem
      ? { kind: 'error', text: problem }
      : { kind: 'ok', text: `${request.name ?? request.fileName}: ${DECIDED[action]}.` };
    await this.load();
  }

  async intakePaste(text: string): Promise<void> {
    const decoded = decodePaste(text);
    if (!decoded.ok) return this.refuse('paste', decoded.message);
    await this.#run([decoded.item], 'paste');
  }

  /** A bundle carried in a link (`/inbox#import=<base64url>`): verified and judged like any. */
  async intakeUrl(data: string): Promise<void> {
    const decoded = decodeUrlImport(data);
    if (!decoded.ok) return this.refuse('url', decoded.message);
    await this.#run([decoded.item], 'url');
  }

  /** An input refused before anything could be taken in: shown, and audited with its channel. */
  async refuse(channel: Channel, text: string): Promise<void> {
    this.message = { kind: 'error', text };
    await auditLog.record({
      event: 'intake',
      subject: {},
      details: { channel, result: 'refused', reason: text }
    });
  }

  /**
   * Files picked, or dropped, or a folder's files: read with progress, then taken in. A refusal of
   * the whole selection (too many files, unreadable folder) is shown and audited.
   */
  async intakeSelection(collect: () => Promise<Collected>, channel: FileChannel): Promise<void> {
    if (this.busy) {
      this.message = {
        kind: 'error',
        text: 'Still working on the last intake; try again when it ends.'
      };
      return;
    }
    this.busy = true;
    let files: NamedBytes[];
    try {
      const collected = await collect();
      if (!collected.ok) {
        this.message = { kind: 'error', text: collected.message };
        await auditLog.record({
          event: 'intake',
          subject: {},
          details: { channel, result: 'refused', reason: collected.message }
        });
        return;
      }
      files = await readAll(collected.files, (done, total, current) => {
        this.progress = { stage: 'reading', done, total, current };
      });
    } catch (error) {
      const text = `The files could not be read: ${error instanceof Error ? error.message : String(error)}`;
      this.message = { kind: 'error', text };
      await auditLog.record({
        event: 'intake',
        subject: {},
        details: { channel, result: 'refused', reason: text }
      });
      return;
    } finally {
      this.busy = false;
      this.progress = null;
    }
    await this.intakeFiles(files, channel);
  }

  /**
   * Files taken in together; returns the requests made. `inputs` (stdin, input files) go with an
   * auto-approved request into its run (the watched folder brings them next to the bundle).
   */
  async intakeFiles(
    files: readonly NamedBytes[],
    channel: FileChannel = 'file',
    inputs: RunInputs = {}
  ): Promise<RequestRow[]> {
    const { items, unknown } = groupFiles(files);
    for (const file of unknown) {
      await auditLog.record({
        event: 'intake',
        subject: {},
        details: {
          channel,
          fileName: file.name,
          size: file.bytes.length,
          result: 'refused',
          reason: 'not a bundle, module, zip or paired signature'
        }
      });
    }
    const taken = items.length > 0 ? await this.#run(items, channel, inputs) : [];
    if (unknown.length > 0) {
      const names = unknown.slice(0, LISTED).map((f) => f.name);
      const more = unknown.length > LISTED ? ` and ${unknown.length - LISTED} more` : '';
      const said = items.length > 0 ? `${this.message?.text ?? ''} ` : '';
      this.message = {
        kind: 'error',
        text: `${said}Not understood: ${names.join(', ')}${more} (not a bundle, a .wasm, a zip, or a signature next to its .wasm).`
      };
    }
    return taken;
  }

  async #run(
    items: readonly IntakeItem[],
    channel: Channel,
    inputs: RunInputs = {}
  ): Promise<RequestRow[]> {
    this.busy = true;
    try {
      const db = await database();
      const keys = await listKeys(db);
      const policy = await currentPolicy(db);
      await runMode.load(); // now, not as this tab last saw it: another tab may have locked down
      // Approved modules as stored now (another tab may have approved some), plus the ones this
      // batch auto-approves, so rollback and drift hold inside a batch too.
      const history = approvedHistory(await listRequests(db));
      let accepted = 0;
      /** Set when storage ran out: what the user is told instead of the summary. */
      let full: string | null = null;
      const taken: RequestRow[] = [];
      const outcomes: Record<string, number> = {};
      for (const [index, item] of items.entries()) {
        if (items.length > 1 || moduleSize(item) > PROGRESS_FROM_BYTES) {
          this.progress = {
            stage: 'verifying',
            done: index,
            total: items.length,
            current: `${item.fileName} (${formatBytes(moduleSize(item))})`
          };
          // Let the progress paint before the hashing of a large item takes the thread.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        const verdict = await verifyAgainst(item, keys);
        const decision = evaluatePolicy({
          verdict,
          inspection: verdict.moduleBytes ? inspectWasm(verdict.moduleBytes) : null,
          signerTrust: Object.fromEntries(keys.map((k) => [k.id, k.trust])),
          signerScope: Object.fromEntries(
            keys.map((k) => [k.id, { names: k.scope, capabilities: k.capabilities ?? null }])
          ),
          history,
          policy,
          mode: runMode.mode,
          ...(verdict.tenant !== undefined ? { tenant: verdict.tenant } : {})
        });
        const request = toRequest(item, verdict, channel, decision);
        if (request.state === 'auto-approved') history.push(...approvedHistory([request]));
        const module =
          verdict.moduleBytes && verdict.module
            ? {
                sha256: verdict.module.sha256,
                size: verdict.module.size,
                // A Blob, so later reads do not copy the module on the page's thread.
                bytes: new Blob([verdict.moduleBytes as Uint8Array<ArrayBuffer>]),
                addedAt: Date.now()
              }
            : null;
        const subject = {
          requestId: request.id,
          ...(request.moduleSha256 ? { moduleSha256: request.moduleSha256 } : {})
        };
        // Intent, then effect: the intake record, then the request, its bytes and its verdict
        // record in one transaction (requests-store). A full disk at either step stops the batch
        // with the step named (see #storageFull); an intent that cannot be audited is never acted on.
        const auditStore = await auditLog.store();
        const step = await untilFull(
          () =>
            auditLog.record({
              event: 'intake',
              subject,
              details: {
                channel,
                fileName: item.fileName,
                size: request.size,
                format: request.format,
                ...(request.tenant !== undefined ? { tenant: request.tenant } : {})
              }
            }),
          () =>
            saveRequest(auditStore, request, module, {
              time: Date.now(),
              event: 'verdict',
              subject: {
                ...subject,
                ...(verdict.signers.length ? { keyIds: verdict.signers } : {})
              },
              details: {
                verdict: request.verdict.kind,
                outcome: decision.outcome,
                risk: decision.risk.score,
                policy: policy.version,
                rules: decision.reasons.filter((r) => r.severity !== 'info').map((r) => r.code),
                name: request.name,
                version: request.version,
                reasons: verdict.reasons.map((r) => r.code),
                ...signedCommentDetails(request.verdict)
              }
            })
        );
        if (step) {
          full = await this.#storageFull(
            step,
            item.fileName,
            channel,
            subject,
            taken.length,
            items.length
          );
          break;
        }
        await auditLog.refresh();
        if (verdict.ok) accepted++;
        outcomes[request.state] = (outcomes[request.state] ?? 0) + 1;
        taken.push(request);
        if (full) break;
      }
      const summary = Object.entries(outcomes)
        .map(([state, count]) => `${count} ${state}`)
        .join(', ');
      this.message = full
        ? { kind: 'error', text: full }
        : {
            kind: 'ok',
            text: `${items.length} received, ${accepted} verified${summary ? ` (${summary})` : ''}.`
          };
      await this.load();
      void attention.notifyNeedsReview(taken);
      // Auto-approved requests go straight to the auto lane (unless it is paused).
      if (await autoLane.take(taken, inputs)) await this.load();
      return taken;
    } finally {
      pendingCount.changed();
      this.progress = null;
      this.busy = false;
    }
  }

  /**
   * An intake that did not fit: nothing of it is stored (one transaction, rolled back), and the
   * refusal is audited when even that tiny record fits; when it does not, the message says so.
   */
  async #storageFull(
    error: StorageFullError,
    fileName: string,
    channel: Channel,
    subject: { requestId: string; moduleSha256?: string },
    done: number,
    total: number
  ): Promise<string> {
    const rest =
      total > 1 ? ` ${done} of ${total} items were taken in before it; the rest were not.` : '';
    // Best effort: the disk is known to be full, and on a full volume Chromium may abort this
    // small write with no error named (a bare AbortError), so any failure here means "not in it".
    let audited = true;
    try {
      await auditLog.record({
        event: 'intake',
        subject,
        details: { channel, fileName, result: 'refused', reason: 'storage full', what: error.what }
      });
    } catch {
      audited = false;
    }
    const trail = audited
      ? ' The refusal is in the audit log.'
      : ' The audit log is full too: this refusal is not in it.';
    return `${error.message}${rest}${trail}`;
  }
}

export const inboxState = new InboxState();
