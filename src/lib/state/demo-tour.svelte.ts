/**
 * The guided tour over the demo set: five steps (Inbox, Review, Approve, Runs, Audit). A step
 * ends when the user has done what it asks (a page reached, the demo hello approved, its run
 * ended) or on Next. What was done is read from the database, re-checked whenever the audit log
 * grows (every decision and run outcome is audited), so there is no polling.
 */
import { database } from './database';
import { DEMO_CHANNEL } from './demo.svelte';

export type TourStep = 1 | 2 | 3 | 4 | 5;

export const TOUR_STEPS: Record<TourStep, { title: string; todo: string; href: string }> = {
  1: {
    title: 'Inbox',
    todo: 'Open the Inbox. Every demo bundle went through verification: look for "hello" (verified, waiting for you) and "forged" (rejected: its module is not the one that was signed).',
    href: '/inbox'
  },
  2: {
    title: 'Review',
    todo: 'hello is verified; forged is rejected with module.digest-mismatch. Now open "Review details" of hello to see its signer, imports and limits.',
    href: '/inbox'
  },
  3: {
    title: 'Approve',
    todo: 'Nothing runs without a decision. Click "Approve once": the decision is signed by this device and audited.',
    href: '/review'
  },
  4: {
    title: 'Runs',
    todo: 'Open Runs and start hello. It runs in a fresh Web Worker with a watchdog; wait for its output.',
    href: '/runs'
  },
  5: {
    title: 'Audit',
    todo: 'Open the Audit log: the intake, verdict, decision and run are there, hash-chained and signed.',
    href: '/audit'
  }
};

/** Where the tour is kept for this tab, so a reload or a typed address does not end it. */
const SAVED = 'nightcore-tour';

export class TourState {
  active = $state(false);
  step = $state<TourStep>(1);
  /** The last step's action is done: the tour is complete. */
  complete = $state(false);

  /** Picks the tour up where this tab left it (called after hydration, so pages match). */
  restore(): void {
    const saved = readSaved();
    if (saved) Object.assign(this, saved);
  }

  start(): void {
    this.active = true;
    this.step = 1;
    this.complete = false;
    this.#save();
  }

  next(): void {
    if (this.step < 5) this.step = (this.step + 1) as TourStep;
    else this.complete = true;
    this.#save();
  }

  close(): void {
    this.active = false;
    this.#save();
  }

  #save(): void {
    if (typeof sessionStorage === 'undefined') return;
    const { active, step, complete } = this;
    sessionStorage.setItem(SAVED, JSON.stringify({ active, step, complete }));
  }

  /** Advances past what the user has done: `pathname` is the page shown now. */
  async observe(pathname: string): Promise<void> {
    if (!this.active || this.complete) return;
    const path = pathname.replace(/\/$/, '') || '/';
    if (this.step === 1 && path === '/inbox') this.step = 2;
    if (this.step === 2 && path === '/review') this.step = 3;
    if (this.step === 3 || this.step === 4) {
      const progress = await helloProgress();
      if (this.step === 3 && progress.approved) this.step = 4;
      if (this.step === 4 && progress.ran) this.step = 5;
    }
    if (this.step === 5 && path === '/audit') this.complete = true;
    this.#save();
  }
}

function readSaved(): { active: boolean; step: TourStep; complete: boolean } | null {
  if (typeof sessionStorage === 'undefined') return null;
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(SAVED) ?? 'null');
    const v = value as { active?: unknown; step?: unknown; complete?: unknown } | null;
    if (
      v &&
      typeof v.active === 'boolean' &&
      typeof v.complete === 'boolean' &&
      [1, 2, 3, 4, 5].includes(v.step as number)
    ) {
      return { active: v.active, step: v.step as TourStep, complete: v.complete };
    }
  } catch {
    // A value we cannot read is a tour not started.
  }
  return null;
}

/** Whether the demo hello was approved, and whether a run of it has finished (audited). */
async function helloProgress(): Promise<{ approved: boolean; ran: boolean }> {
  const db = await database();
  const hello = (await db.getAll('requests')).filter(
    (r) => r.channel === DEMO_CHANNEL && r.name === 'hello'
  );
  const approved = hello.some((r) => ['approved', 'running', 'done'].includes(r.state));
  // The run's audit record is written before its row, and it is what re-checks the tour.
  const ids = new Set(hello.map((r) => r.id));
  const finished = await db.getAllFromIndex('audit', 'byEvent', 'run.finished');
  const ran = finished.some((record) => ids.has(record.subject.requestId ?? ''));
  return { approved, ran };
}

export const tour = new TourState();
