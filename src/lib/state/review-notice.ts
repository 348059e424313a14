/**
 * The words of the "needs review" notification (pure, so it is unit-tested). Names and versions
 * come from the bundles, so they only ever go into the body, as plain text: control and
 * direction-override characters are dropped (they could disguise a name) and each is shortened.
 */

/** What a notification needs from a request. */
export interface NoticeRequest {
  id: string;
  name: string | null;
  fileName: string;
  version: string | null;
}

export interface ReviewNotice {
  title: string;
  body: string;
  /** A same-origin path: the Review page for one request, the Inbox for several. */
  url: string;
}

/** How many names a summary lists before "and N more". */
const LISTED = 3;
/** Longest name (in code points) a notification shows. */
const NAME_MAX = 60;

// C0/C1 controls, and the bidi embeddings, overrides and isolates.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function plainName(request: NoticeRequest): string {
  const raw = `${request.name ?? request.fileName}${request.version ? ` ${request.version}` : ''}`;
  const cleaned = raw.replace(HIDDEN, '').trim() || 'unnamed';
  const points = [...cleaned];
  return points.length > NAME_MAX ? `${points.slice(0, NAME_MAX - 1).join('')}…` : cleaned;
}

/** One notice for the requests an intake left pending; null when none is pending. */
export function reviewNotice(pending: readonly NoticeRequest[]): ReviewNotice | null {
  const [first] = pending;
  if (!first) return null;
  if (pending.length === 1) {
    return {
      title: 'A request needs review',
      body: `${plainName(first)} is waiting for your decision.`,
      url: `/review?id=${encodeURIComponent(first.id)}`
    };
  }
  const names = pending.slice(0, LISTED).map(plainName);
  const more = pending.length > LISTED ? ` and ${pending.length - LISTED} more` : '';
  return {
    title: `${pending.length} requests need review`,
    body: `${names.join(', ')}${more}.`,
    url: '/inbox'
  };
}
