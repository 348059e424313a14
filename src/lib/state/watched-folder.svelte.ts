/**
 * The watched agent folder (issue 7, docs/agents.md): the user grants a directory; Night Core
 * polls its `inbox/` every few seconds while the page is visible, claims each settled unit into
 * `pending/`, takes it in through the Inbox's pipeline (channel `watched-folder`), starts it when
 * approved (by policy or by a person), and writes `outbox/<file>.result.json` at each step until
 * the unit ends in `processed/` or `rejected/`. One tab watches at a time (a Web Lock); a job's
 * progress is kept in IndexedDB, so a reload picks up where it stopped.
 */
import { auditLog } from './audit-log.svelte';
import { database } from './database';
import { describe, openFolders } from './watched-folder-jobs';
import { AgentJobs, type WatchEvent } from './watched-folder-work';

export type { WatchEvent };

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
  #jobs = new AgentJobs({
    event: (event) => (this.recent = [event, ...this.recent].slice(0, 20)),
    problem: (text) => (this.error = text)
  });
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
    this.#jobs.reset();
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
      await this.#jobs.poll(dirs);
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
}

export const watchedFolder = new WatchedFolder();
