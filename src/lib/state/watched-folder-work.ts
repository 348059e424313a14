/**
 * The watched folder's work at each poll (state/watched-folder.svelte.ts owns the grant, the
 * polling and what the panel shows): settled units in inbox/ are claimed into pending/ and taken
 * in; every job is moved on as far as its request allows, its result written at each change, and
 * its files moved to processed/ or rejected/ at the end.
 */
import {
  AGENT_LIMITS,
  FINAL_STATUSES,
  fingerprint,
  planInbox,
  resultFileName,
  resultText,
  settled,
  unitFiles,
  type AgentFolder,
  type AgentStatus,
  type InboxUnit
} from '$lib/core/agent-folder';
import { getRequest } from '$lib/storage/requests-store';
import { getRunOutput, joinRun, listRuns } from '$lib/storage/runs-store';
import type { RequestRow, RunRow } from '$lib/storage/records';
import { autoLane } from './auto-lane.svelte';
import { database } from './database';
import { inboxState } from './inbox.svelte';
import { runsState, type RunInputs } from './runs.svelte';
import { listEntries, moveEntry, writeFile } from './agent-fs';
import {
  JOB_PREFIX,
  buildResult,
  bytesOf,
  describe,
  loadJobs,
  readInputs,
  runSentence,
  saveJob,
  type Folders,
  type WatchJob
} from './watched-folder-jobs';

/** A line of the panel's recent activity. */
export interface WatchEvent {
  file: string;
  status: AgentStatus;
  message: string;
  at: number;
}

export interface JobReport {
  /** A result was written. */
  event(event: WatchEvent): void;
  /** One unit failed (a file removed under us, a full disk); the others went on. */
  problem(text: string): void;
}

export class AgentJobs {
  /** Each inbox file's size and time at the last poll: a unit is taken once they hold still. */
  #seen = new Map<string, string>();

  constructor(private readonly report: JobReport) {}

  /** Forgets what the last polls saw (another folder). */
  reset(): void {
    this.#seen = new Map();
  }

  async poll(dirs: Folders): Promise<void> {
    await this.#claimNew(dirs);
    await this.#advanceJobs(dirs);
  }

  /** Settled units in inbox/ move to pending/ (claimed) and are taken in. */
  async #claimNew(dirs: Folders): Promise<void> {
    const entries = await listEntries(dirs.inbox);
    const now = new Map(
      entries.filter((e) => e.kind === 'file').map((e) => [e.name, fingerprint(e)])
    );
    const { units, unknown } = planInbox(entries);
    for (const name of unknown) {
      if (now.get(name) !== this.#seen.get(name)) continue; // still being written, maybe
      await this.#refuseFile(dirs, name);
    }
    for (const unit of units
      .filter((u) => settled(u, now, this.#seen))
      .slice(0, AGENT_LIMITS.unitsPerPoll)) {
      await this.#guard(unit.primary, async () =>
        this.#takeIn(dirs, await this.#claim(dirs, unit))
      );
    }
    this.#seen = now;
    // Claimed before but never taken in (the page closed in between): take them in now.
    for (const job of await loadJobs())
      if (job.requestId === null) await this.#guard(job.file, () => this.#takeIn(dirs, job));
  }

  async #claim(dirs: Folders, unit: InboxUnit): Promise<WatchJob> {
    const move = async (name: string | null) =>
      name === null ? null : moveEntry(dirs.inbox, name, dirs.pending);
    // The primary first: once it has moved, no later poll can claim the unit again.
    const primary = await move(unit.primary);
    const job: WatchJob = {
      name: `${JOB_PREFIX}${primary}`,
      file: unit.primary,
      signature: unit.signature,
      stdin: unit.stdin,
      inputDir: unit.inputDir,
      pending: { primary: primary!, signature: null, stdin: null, inputDir: null },
      requestId: null,
      written: null
    };
    await saveJob(job);
    job.pending.signature = await move(unit.signature);
    job.pending.stdin = await move(unit.stdin);
    job.pending.inputDir = await move(unit.inputDir);
    await saveJob(job);
    for (const name of unitFiles(unit)) this.#seen.delete(name);
    return job;
  }

  async #takeIn(dirs: Folders, job: WatchJob): Promise<void> {
    let files: { name: string; bytes: Uint8Array }[];
    let inputs: RunInputs;
    try {
      files = [{ name: job.file, bytes: await bytesOf(dirs.pending, job.pending.primary) }];
      if (job.signature && job.pending.signature)
        files.push({
          name: job.signature,
          bytes: await bytesOf(dirs.pending, job.pending.signature)
        });
      inputs = await readInputs(dirs.pending, job);
    } catch (error) {
      return this.#finish(
        dirs,
        job,
        null,
        'refused',
        `It could not be taken in: ${describe(error)}`
      );
    }
    const requests = await inboxState.intakeFiles(files, 'watched-folder', inputs);
    const request = requests[0];
    if (!request) {
      return this.#finish(
        dirs,
        job,
        null,
        'refused',
        'Not a bundle, module or tenant zip Night Core can read.'
      );
    }
    job.requestId = request.id;
    await saveJob(job);
    await this.#advance(dirs, job);
  }

  async #advanceJobs(dirs: Folders): Promise<void> {
    for (const job of await loadJobs())
      if (job.requestId !== null) await this.#guard(job.file, () => this.#advance(dirs, job));
  }

  /** One unit's failure (a file removed under us, a full disk) is shown, and the rest go on. */
  async #guard(file: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof DOMException && error.name === 'NotAllowedError') throw error;
      this.report.problem(`${file}: ${describe(error)}`);
    }
  }

  /** Moves one job on as far as its request allows, writing the result when its status changes. */
  async #advance(dirs: Folders, job: WatchJob): Promise<void> {
    const db = await database();
    const request = job.requestId ? await getRequest(db, job.requestId) : null;
    if (!request) {
      return this.#finish(dirs, job, null, 'refused', 'Its request is no longer stored.');
    }
    if (request.state === 'approved' || request.state === 'auto-approved') {
      await autoLane.load();
      let inputs: RunInputs;
      try {
        inputs = await readInputs(dirs.pending, job);
      } catch (error) {
        return this.#finish(dirs, job, request, 'refused', `Its inputs: ${describe(error)}`);
      }
      // A person's approval starts the run (the agent asked for one); the pause holds only
      // what policy approved.
      const held =
        request.state === 'auto-approved' && autoLane.paused
          ? 'Approved by policy; waiting while the auto lane is paused.'
          : await runsState.start(request, inputs);
      if (held) return this.#write(dirs, job, request, null, 'held', held);
      return this.#write(dirs, job, request, null, 'running', 'Started.');
    }
    if (request.state === 'pending')
      return this.#write(
        dirs,
        job,
        request,
        null,
        'waiting-review',
        'Waiting for a person to review it in Night Core.'
      );
    if (request.state === 'running') {
      // Not running in this tab: the runs page's check records it interrupted when no tab holds
      // it (this page was reloaded mid-run), and the next poll finishes the job.
      if (!runsState.live.some((run) => run.request.id === request.id)) await runsState.load();
      return this.#write(dirs, job, request, null, 'running', 'Running.');
    }
    if (request.state === 'rejected') {
      const why = [...request.verdict.reasons, ...(request.policy?.reasons ?? [])].find(
        (r) => !('severity' in r) || r.severity !== 'info'
      );
      return this.#finish(dirs, job, request, 'rejected', why?.message ?? 'Rejected.');
    }
    if (request.state === 'denied')
      return this.#finish(dirs, job, request, 'denied', 'A person denied it.');
    // done: the run row is written before the request moves to done.
    const run = (await listRuns(db)).find((r) => r.requestId === request.id && r.endedAt !== null);
    if (!run) return this.#write(dirs, job, request, null, 'running', 'Running.');
    // The result file carries the output, which lives beside the row since schema v3.
    const withOutput = joinRun(run, await getRunOutput(db, run.id));
    return this.#finish(dirs, job, request, 'done', runSentence(run), withOutput);
  }

  async #write(
    dirs: Folders,
    job: WatchJob,
    request: RequestRow | null,
    movedTo: string | null,
    status: AgentStatus,
    message: string,
    run: RunRow | null = null
  ): Promise<void> {
    if (job.written === status && !FINAL_STATUSES.includes(status)) return;
    const result = buildResult(job, request, movedTo, status, message, run);
    await writeFile(dirs.outbox, resultFileName(job.file), resultText(result));
    job.written = status;
    if (!FINAL_STATUSES.includes(status)) await saveJob(job);
    this.report.event({ file: job.file, status, message, at: Date.now() });
  }

  /** The end of a job: its files move to processed/ or rejected/, the result says where. */
  async #finish(
    dirs: Folders,
    job: WatchJob,
    request: RequestRow | null,
    status: AgentStatus,
    message: string,
    run: RunRow | null = null
  ): Promise<void> {
    const to: AgentFolder = status === 'done' ? 'processed' : 'rejected';
    let primary: string | null = null;
    for (const name of Object.values(job.pending)) {
      if (name === null) continue;
      const moved = await moveEntry(dirs.pending, name, dirs[to]).catch(() => null);
      if (name === job.pending.primary) primary = moved;
    }
    await this.#write(
      dirs,
      job,
      request,
      primary ? `${to}/${primary}` : null,
      status,
      message,
      run
    );
    await (await database()).delete('meta', job.name);
  }

  /** A file in inbox/ nobody can use: moved to rejected/, with a result and an audit record. */
  async #refuseFile(dirs: Folders, name: string): Promise<void> {
    const message = `${name}: not a bundle (.ncb, .json), module (.wasm) or tenant zip (.zip).`;
    const moved = await moveEntry(dirs.inbox, name, dirs.rejected);
    const job: WatchJob = {
      name: '',
      file: name,
      signature: null,
      stdin: null,
      inputDir: null,
      pending: { primary: moved, signature: null, stdin: null, inputDir: null },
      requestId: null,
      written: null
    };
    await writeFile(
      dirs.outbox,
      resultFileName(name),
      resultText(buildResult(job, null, `rejected/${moved}`, 'refused', message, null))
    );
    this.report.event({ file: name, status: 'refused', message, at: Date.now() });
    await inboxState.refuse('watched-folder', message);
  }
}
