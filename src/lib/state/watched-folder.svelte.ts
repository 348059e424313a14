/**
 * The watched agent folder (issue 7, docs/agents.md): the user grants a directory; Night Core
 * polls its `inbox/` every few seconds while the page is visible, claims each settled unit into
 * `pending/`, takes it in through the Inbox's pipeline (channel `watched-folder`), starts it when
 * approved (by policy or by a person), and writes `outbox/<file>.result.json` at each step until
 * the unit ends in `processed/` or `rejected/`. One tab watches at a time (a Web Lock); a job's
 * progress is kept in IndexedDB, so a reload picks up where it stopped.
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
import { listRuns } from '$lib/storage/runs-store';
import type { RequestRow, RunRow } from '$lib/storage/records';
import { auditLog } from './audit-log.svelte';
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
  openFolders,
  readInputs,
  runSentence,
  saveJob,
  type Folders,
  type WatchJob
} from './watched-folder-jobs';

/** How often inbox/ is looked at while the page is visible. */
export const POLL_MS = 2000;
const HANDLE_META = 'watched-folder';
const LOCK_NAME = 'nightcore-watched-folder';

/**
 * `off`: no folder; `unsupported`: this browser has no directory handles; `watching`;
 * `hidden`: paused while the page is hidden; `needs-permission`: the grant must be renewed (a
 * click); `other-tab`: another tab of Night Core watches it; `error`: the folder cannot be read.
 */
export type WatchStatus =
  'off' | 'unsupported' | 'watching' | 'hidden' | 'needs-permission' | 'other-tab' | 'error';

/** `picked`: a folder on disk; `private`: the browser's own (Origin Private File System). */
export type FolderKind = 'picked' | 'private';

interface StoredFolder {
  handle: FileSystemDirectoryHandle;
  kind: FolderKind;
  name: string;
}

/** A line of the panel's recent activity. */
export interface WatchEvent {
  file: string;
  status: AgentStatus;
  message: string;
  at: number;
}

export class WatchedFolder {
  status = $state<WatchStatus>('off');
  kind = $state<FolderKind | null>(null);
  folderName = $state<string | null>(null);
  error = $state<string | null>(null);
  lastCheck = $state<number | null>(null);
  recent = $state.raw<WatchEvent[]>([]);
  readonly canPick =
    typeof window !== 'undefined' && typeof window.showDirectoryPicker === 'function';
  readonly canPrivate =
    typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';

  #folder: StoredFolder | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #release: (() => void) | null = null;
  #busy = false;
  #seen = new Map<string, string>();
  #started = false;

  /** Called once by the layout: resumes watching a folder granted before. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (!this.canPick && !this.canPrivate) {
      this.status = 'unsupported';
      return;
    }
    document.addEventListener('visibilitychange', () => void this.#resume());
    const row = await (await database()).get('meta', HANDLE_META);
    const stored = row?.value as StoredFolder | undefined;
    if (!stored?.handle) return;
    this.#adopt(stored);
    await this.#resume();
  }

  /** Asks the user for a folder on disk (Chromium's directory picker). */
  async pick(): Promise<void> {
    if (!window.showDirectoryPicker) return;
    let handle: FileSystemDirectoryHandle;
    try {
      handle = await window.showDirectoryPicker({ id: 'nightcore-agent', mode: 'readwrite' });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') return;
      this.error = `The folder could not be opened: ${describe(error)}`;
      return;
    }
    await this.#choose({ handle, kind: 'picked', name: handle.name });
  }

  /** The browser's private folder (`agent/` in the Origin Private File System). */
  async usePrivate(): Promise<void> {
    try {
      const root = await navigator.storage.getDirectory();
      const handle = await root.getDirectoryHandle('agent', { create: true });
      await this.#choose({ handle, kind: 'private', name: 'agent (private to this browser)' });
    } catch (error) {
      this.error = `The browser's private folder could not be opened: ${describe(error)}`;
    }
  }

  /** Renews a grant the browser took back (needs this click). */
  async renew(): Promise<void> {
    const handle = this.#folder?.handle;
    if (!handle?.requestPermission) return;
    const state = await handle.requestPermission({ mode: 'readwrite' }).catch(() => 'denied');
    if (state === 'granted') await this.#resume();
    else this.error = 'Access was not granted; Night Core cannot read the folder until it is.';
  }

  async stop(): Promise<void> {
    const from = this.folderName ?? 'off';
    await auditLog.record({
      event: 'settings.changed',
      subject: {},
      details: { setting: 'watched-folder', from, to: 'off' }
    });
    await (await database()).delete('meta', HANDLE_META);
    this.#halt();
    this.#folder = null;
    this.kind = null;
    this.folderName = null;
    this.status = 'off';
  }

  /** Looks at the folder now rather than at the next poll. */
  async checkNow(): Promise<void> {
    if (this.status === 'watching') await this.#tick();
  }

  async #choose(folder: StoredFolder): Promise<void> {
    // Audited first, as every setting.
    await auditLog.record({
      event: 'settings.changed',
      subject: {},
      details: { setting: 'watched-folder', from: this.folderName ?? 'off', to: folder.name }
    });
    await (await database()).put('meta', { name: HANDLE_META, value: folder });
    this.#halt();
    this.#adopt(folder);
    this.error = null;
    await this.#resume();
  }

  #adopt(folder: StoredFolder): void {
    this.#folder = folder;
    this.kind = folder.kind;
    this.folderName = folder.name;
    this.#seen = new Map();
  }

  /** Watches when visible, permitted and no other tab does; otherwise says why not. */
  async #resume(): Promise<void> {
    const folder = this.#folder;
    if (!folder) return;
    if (document.visibilityState === 'hidden') {
      this.#halt();
      this.status = 'hidden';
      return;
    }
    if (this.#timer !== null || this.#release !== null) return;
    const permission = (await folder.handle.queryPermission?.({ mode: 'readwrite' })) ?? 'granted';
    if (permission !== 'granted') {
      this.status = 'needs-permission';
      return;
    }
    const locked = await this.#lock();
    if (!locked) {
      this.status = 'other-tab';
      // Try again later: the other tab may close or be hidden.
      setTimeout(() => void this.#resume(), POLL_MS);
      return;
    }
    this.status = 'watching';
    this.#timer = setInterval(() => void this.#tick(), POLL_MS);
    await this.#tick();
  }

  /** Takes the watcher's lock if free; held until #halt. */
  async #lock(): Promise<boolean> {
    if (!navigator.locks) return true;
    return new Promise<boolean>((resolve) => {
      void navigator.locks.request(LOCK_NAME, { ifAvailable: true }, (lock) => {
        if (!lock) return resolve(false);
        resolve(true);
        return new Promise<void>((release) => (this.#release = release));
      });
    });
  }

  #halt(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#release?.();
    this.#release = null;
  }

  async #tick(): Promise<void> {
    const folder = this.#folder;
    if (!folder || this.#busy) return;
    this.#busy = true;
    this.error = null;
    try {
      const dirs = await openFolders(folder.handle);
      await this.#claimNew(dirs);
      await this.#advanceJobs(dirs);
      this.lastCheck = Date.now();
      if (this.status === 'error') this.status = 'watching';
    } catch (error) {
      if (error instanceof DOMException && error.name === 'NotAllowedError') {
        this.#halt();
        this.status = 'needs-permission';
      } else {
        this.status = 'error';
        this.error = `The watched folder could not be read: ${describe(error)}`;
      }
    } finally {
      this.#busy = false;
    }
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
      this.error = `${file}: ${describe(error)}`;
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
    return this.#finish(dirs, job, request, 'done', runSentence(run), run);
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
    this.recent = [{ file: job.file, status, message, at: Date.now() }, ...this.recent].slice(
      0,
      20
    );
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
    this.recent = [
      { file: name, status: 'refused' as const, message, at: Date.now() },
      ...this.recent
    ].slice(0, 20);
    await inboxState.refuse('watched-folder', message);
  }
}

export const watchedFolder = new WatchedFolder();
