/**
 * Runs: starting an approved request in a fresh worker, the live view (streamed output, Stop,
 * Stop all), the queue behind the concurrency cap, and history. The bytes that run are the
 * stored bytes re-hashed against the approval; deny rules are checked again at start (a hash
 * blocked or a signer revoked since the approval stops it); every start and end is audited.
 */
import { stripAnsi } from '$lib/core/ansi';
import { currentPolicy } from '$lib/storage/policy-store';
import { DEFAULT_CONCURRENT_RUNS } from '$lib/core/policy/document';
import { getModule, readRequest } from '$lib/storage/requests-store';
import {
  listRuns,
  markInterrupted,
  moveRequest,
  putRun,
  recordRunEnd
} from '$lib/storage/runs-store';
import { runLockName } from '$lib/storage/audit-store';
import { FREE_SPACE_ADVICE } from '$lib/storage/storage-errors';
import type { RequestRow, RunRow } from '$lib/storage/records';
import { startRun, type RunHandle } from '$lib/runtime/host';
import { takeRunWorker, warmRunWorker } from '$lib/runtime/browser-worker';
import { compiledModule, rememberCompiled } from '$lib/runtime/module-cache';
import type { InputFile } from '$lib/runtime/protocol';
import type { RunStatus } from '$lib/core/run-status';
import { auditLog } from './audit-log.svelte';
import { database } from './database';
import { databaseStatus } from './database-status.svelte';
import { runMode } from './run-mode.svelte';
import { announceStopAll, onStopAllElsewhere, STOP_MESSAGE, type StopAllReason } from './stop-all';
import { pendingCount } from './pending.svelte';
import { signRunReceipt } from './receipts';
import { denyNow, fromResult, grantFor, grantSummary, join } from './run-checks';

export type { RunRow, RunStatus };

/**
 * Said whenever a run row is written (queued, running, ended, found interrupted), to other tabs and
 * to other listeners in this tab (a BroadcastChannel reaches every other object of its name): the
 * Overview's dashboard refreshes on it. The message carries nothing; listeners re-read storage.
 */
export const RUNS_CHANNEL = 'nightcore-runs';
let runsChannel: BroadcastChannel | null | undefined;

function runsChanged(): void {
  if (runsChannel === undefined)
    runsChannel =
      typeof BroadcastChannel === 'function' ? new BroadcastChannel(RUNS_CHANNEL) : null;
  runsChannel?.postMessage('changed');
}

/** Runs at once, from the policy (`maxConcurrentRuns`); the rest wait in a visible queue. */
/** How much of each stream the live view keeps (the run row keeps everything up to the cap). */
const LIVE_CHARS = 256 * 1024;

export interface RunInputs {
  stdin?: Uint8Array;
  files?: InputFile[];
}

export class LiveRun {
  status = $state<RunStatus>('queued');
  exitCode = $state<number | null>(null);
  truncated = $state(false);
  message = $state<string | null>(null);
  /** Ended and shown, its outcome not yet written (a reload now would record it interrupted). */
  saving = $state(false);
  readonly startedAt = Date.now();
  stdout = $state('');
  stderr = $state('');
  constructor(
    readonly id: string,
    readonly request: RequestRow,
    readonly inputs: RunInputs
  ) {}
  handle: RunHandle | null = null;
  /** Counted against the concurrency cap from the moment it is launched; set once, never reset. */
  launched = false;
  ended = false;
  /** Lets go of the run's Web Lock (held from queueing to the recorded end); idempotent. */
  release: () => void = () => {};
  decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  raw = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
}

export class RunsState {
  live = $state.raw<LiveRun[]>([]);
  history = $state.raw<RunRow[]>([]);
  ready = $state.raw<RequestRow[]>([]);
  /** Each stored request's intake channel, by id: a history row names only its request. */
  requestChannels = $state.raw<ReadonlyMap<string, string>>(new Map());
  error = $state<string | null>(null);
  concurrency = $state(DEFAULT_CONCURRENT_RUNS);

  async load(): Promise<void> {
    const db = await database();
    this.concurrency = (await currentPolicy(db)).maxConcurrentRuns ?? DEFAULT_CONCURRENT_RUNS;
    await this.#markInterrupted();
    this.history = await listRuns(db);
    const requests = (await db.getAllFromIndex('requests', 'byCreated')).map(readRequest);
    this.requestChannels = new Map(requests.map((r) => [r.id, r.channel]));
    this.ready = requests
      .filter((r) => r.state === 'approved' || r.state === 'auto-approved')
      .reverse();
    // A worker loaded ahead only when something can run (not on every visit to the page).
    if (this.ready.length > 0) warmRunWorker();
  }

  /**
   * Runs this tab did not finish and no tab holds: the page died mid-run (or while it was queued).
   * Rows are read before the locks are asked for: every run takes its lock before its row says
   * queued and lets go only after its end is written, so a row read as live whose lock is free
   * afterwards is dead or finished, and markInterrupted re-reads it to tell which.
   */
  async #markInterrupted(): Promise<void> {
    const db = await database();
    const live = (await listRuns(db)).filter(
      (run) => run.status === 'running' || run.status === 'queued'
    );
    if (live.length === 0) return;
    const held = new Set(((await navigator.locks?.query())?.held ?? []).map((l) => l.name));
    const mine = new Set(this.live.map((r) => r.id));
    let found = false;
    for (const run of live) {
      if (mine.has(run.id) || held.has(runLockName(run.id))) continue;
      if (!(await markInterrupted(db, run.id, Date.now()))) continue;
      await moveRequest(db, run.requestId, ['running'], 'done');
      found = true;
    }
    if (!found) return;
    runsChanged();
    await auditLog.recordInterruptedRuns();
  }

  /** Starts (or queues) a run of an approved request. Returns the problem, or null. */
  async start(request: RequestRow, inputs: RunInputs = {}): Promise<string | null> {
    this.error = null;
    if (!runMode.loaded) await runMode.load();
    if (runMode.mode === 'lockdown')
      return this.#fail('Lockdown: nothing runs. Switch to Review or Auto to run.');
    const db = await database();
    // From the request's move to the queued row: the database must stay open (a newer tab waits).
    this.#starting++;
    try {
      return await this.#startOn(db, request, inputs);
    } finally {
      this.#starting--;
    }
  }

  /** Runs, queued or not, and starts under way: while any, this tab keeps the database open. */
  busy(): boolean {
    return this.#starting > 0 || this.live.some((run) => !run.ended || run.saving);
  }

  #starting = 0;

  async #startOn(
    db: Awaited<ReturnType<typeof database>>,
    request: RequestRow,
    inputs: RunInputs
  ): Promise<string | null> {
    const moved = await moveRequest(db, request.id, ['approved', 'auto-approved'], 'running');
    if (!moved) return this.#fail('Only an approved request that has not run yet can run.');
    pendingCount.changed();
    const run = new LiveRun(crypto.randomUUID(), readRequest(moved), inputs);
    // The lock is taken before the row says "queued": another tab's sweep must not take a run
    // waiting in this (live) tab for one whose tab died.
    await hold(run);
    this.live = [...this.live, run];
    await putRun(db, this.#row(run, { status: 'queued' }));
    runsChanged();
    this.concurrency = (await currentPolicy(db)).maxConcurrentRuns ?? DEFAULT_CONCURRENT_RUNS;
    // A run that ended meanwhile may have launched this one already (or it was stopped).
    if (run.launched || run.ended) return null;
    if (this.live.filter((r) => r.launched && !r.ended).length >= this.concurrency) {
      await auditLog.record({
        event: 'run.queued',
        subject: { runId: run.id, requestId: request.id, moduleSha256: request.moduleSha256 },
        details: { position: this.live.filter((r) => r.status === 'queued').length }
      });
      return null;
    }
    void this.#launch(run);
    return null;
  }

  stop(id: string, message?: string): void {
    const run = this.live.find((r) => r.id === id);
    if (!run) return;
    if (run.handle) run.handle.stop(message);
    else
      void this.#end(run, { status: 'killed', message: message ?? 'Stopped before it started.' });
  }

  /**
   * Stops every run of this tab and, unless it was another tab's stop, tells the other tabs to do
   * the same: "Stop all" and lockdown mean every run, not this page's. Each tab records what it
   * stopped; a tab with nothing running records nothing for another tab's stop or a lockdown.
   */
  stopAll(why: StopAllReason = 'button'): void {
    const count = this.live.length;
    for (const run of [...this.live]) this.stop(run.id, STOP_MESSAGE[why]);
    if (why === 'button') announceStopAll();
    if (why !== 'button' && count === 0) return;
    void auditLog.record({
      event: 'run.stop-all',
      subject: {},
      details: { runs: count, reason: why }
    });
  }

  /** Starts a run's worker; once per run, whoever calls (start, or a run that ended). */
  async #launch(run: LiveRun): Promise<void> {
    // Both start() and a run ending (pulling the next from the queue) may reach here for the
    // same queued run; a second launch would run the module again.
    if (run.launched || run.ended) return;
    run.launched = true;
    const request = run.request;
    const db = await database();
    const grant = grantFor(request, run.inputs);
    try {
      // "running" is shown only once the start is on record (intent before effect).
      await auditLog.record({
        event: 'run.started',
        subject: { runId: run.id, requestId: request.id, moduleSha256: request.moduleSha256 },
        details: { limits: grant.limits, capabilities: grant.capabilities }
      });
      // Stopped while the start was recorded: #end writes the row, which must not be overwritten.
      if (run.ended) return;
      await putRun(db, this.#row(run, { status: 'running' }));
      runsChanged();
      if (!run.ended) run.status = 'running';
      const denied = await denyNow(request);
      if (denied) return void (await this.#end(run, { status: 'refused', message: denied }));
      // A module compiled before from the same approved bytes under the same memory cap runs
      // as is (V8 keeps its optimized code); otherwise the worker re-hashes and compiles the
      // stored bytes, off this thread.
      const cached = compiledModule(request.moduleSha256, grant.limits.memoryMiB);
      const stored = cached ? null : await getModule(db, request.moduleSha256);
      if (!cached && !stored) {
        return void (await this.#end(run, {
          status: 'refused',
          message: 'The module bytes are not stored.'
        }));
      }
      if (run.ended) return; // stopped while reading
      run.handle = startRun(
        takeRunWorker(),
        {
          type: 'start',
          runId: run.id,
          module: cached?.module ?? null,
          prepare: stored
            ? {
                bytes: stored.bytes,
                sha256: request.moduleSha256,
                memoryMiB: grant.limits.memoryMiB
              }
            : null,
          grant
        },
        { onOutput: (stream, bytes) => this.#output(run, stream, bytes) }
      );
      const result = await run.handle.done;
      const prepared = result.prepared ?? cached;
      if (result.prepared)
        rememberCompiled(request.moduleSha256, grant.limits.memoryMiB, result.prepared);
      await this.#end(
        run,
        fromResult(result),
        prepared && prepared.runSha256 !== prepared.moduleSha256 ? prepared.runSha256 : null
      );
    } catch (error) {
      await this.#end(run, {
        status: 'refused',
        message: `The run could not start: ${error instanceof Error ? error.message : String(error)}`
      });
    } finally {
      // An ended run is released by #end once its end is written; this covers a start that threw
      // before any end.
      if (!run.ended) run.release();
    }
  }

  #output(run: LiveRun, stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    run.raw[stream].push(bytes);
    const text = stripAnsi(run.decoders[stream].decode(bytes, { stream: true }));
    const next = run[stream] + text;
    run[stream] = next.length > LIVE_CHARS ? next.slice(next.length - LIVE_CHARS) : next;
  }

  async #end(
    run: LiveRun,
    result: Partial<RunRow> & { status: RunStatus; message: string | null },
    runSha256: string | null = null
  ): Promise<void> {
    if (run.ended) return;
    run.ended = true;
    // Shown at once: the worker is already gone (Stop terminates it synchronously).
    run.exitCode = result.exitCode ?? null;
    run.truncated = result.truncated ?? false;
    run.message = result.message;
    run.status = result.status;
    run.saving = true;
    const db = await database();
    const row = this.#row(run, {
      ...result,
      endedAt: Date.now(),
      runSha256,
      stdout: join(run.raw.stdout),
      stderr: join(run.raw.stderr)
    });
    // Every run that reaches here gets a receipt signed by the device key (core/receipt.ts).
    const signed = await signRunReceipt(row, run.request, grantFor(run.request, run.inputs));
    if (signed.receipt !== null) row.receipt = signed.receipt;
    else
      this.error = `The run ended (${result.status}) but its receipt could not be signed: ${signed.problem}`;
    try {
      // The row, the request's move to done and the audit record: one transaction (runs-store).
      const written = await recordRunEnd(await auditLog.store(), row, {
        time: Date.now(),
        event: result.status === 'killed' ? 'run.killed' : 'run.finished',
        subject: {
          runId: run.id,
          requestId: run.request.id,
          moduleSha256: run.request.moduleSha256
        },
        details: {
          status: result.status,
          exitCode: result.exitCode ?? null,
          message: result.message,
          // Audit records hold whole numbers only.
          durationMs: result.durationMs == null ? null : Math.round(result.durationMs),
          peakMemoryBytes: result.peakMemoryBytes ?? null,
          stdoutBytes: row.stdout?.length ?? 0,
          stderrBytes: row.stderr?.length ?? 0,
          truncated: result.truncated ?? false,
          ...(runSha256 ? { runSha256 } : {}),
          ...(signed.receipt !== null ? { receiptSha256: signed.sha256 } : {})
        }
      });
      await auditLog.refresh();
      if (written === 'without-output')
        this.error = `The run ended (${result.status}) and its outcome is on record, but its output was not kept: storage is full. ${FREE_SPACE_ADVICE}`;
    } catch (error) {
      this.error = `The run ended (${result.status}) but could not be recorded: ${error instanceof Error ? error.message : String(error)}`;
    }
    // The end is written (or could not be): the lock has nothing left to protect.
    run.saving = false;
    run.release();
    runsChanged();
    pendingCount.changed(); // its request moved from running to done
    const history = await listRuns(db).catch(() => this.history);
    this.history = history;
    this.live = this.live.filter((r) => r !== run);
    const next = this.live.find((r) => !r.launched && !r.ended);
    if (next && this.live.filter((r) => r.launched && !r.ended).length < this.concurrency)
      void this.#launch(next);
  }

  #row(run: LiveRun, patch: Partial<RunRow>): RunRow {
    const request = run.request;
    return {
      id: run.id,
      requestId: request.id,
      moduleSha256: request.moduleSha256,
      startedAt: run.startedAt,
      endedAt: null,
      outcome: null,
      name: request.name,
      version: request.version,
      ...grantSummary(request),
      ...patch,
      ...(patch.status && patch.status !== 'queued' && patch.status !== 'running'
        ? { outcome: patch.status }
        : {})
    };
  }

  #fail(message: string): string {
    this.error = message;
    return message;
  }
}

/**
 * Takes the run's Web Lock and resolves once it is held. The lock says "this run is alive in this
 * tab" from queueing to its recorded end; a tab that dies releases it, and the next sweep records
 * the run as interrupted.
 */
function hold(run: LiveRun): Promise<void> {
  const locks = navigator.locks;
  if (!locks) return Promise.resolve();
  const held = new Promise<void>((resolve) => (run.release = resolve));
  return new Promise<void>((locked) => {
    void locks.request(runLockName(run.id), () => {
      locked();
      return held;
    });
  });
}

export const runsState = new RunsState();
// Listening from the start: a tab that never pressed Stop all must still hear another's.
onStopAllElsewhere(() => runsState.stopAll('another-tab'));
runMode.onLockdown(() => runsState.stopAll('lockdown'));
// A newer tab waiting to upgrade the database gets it once no run here is starting, queued,
// running or writing its outcome.
databaseStatus.busy = () => runsState.busy();
