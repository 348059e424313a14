/**
 * The words of the "needs review" notification (pure, so it is unit-tested). Names and versions
 * come from the bundles, so they only ever go into the body, as plain text: control and
 * direction-override characters are dropped (they could disguise a name) and each is shortened.
 */
import { isHiddenCharacter } from '$lib/core/hidden-text';

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

export function plainName(request: NoticeRequest): string {
  const raw = `${request.name ?? request.fileName}${request.version ? ` ${request.version}` : ''}`;
  // A notification is drawn by the system, where markers cannot be styled: hidden characters go.
  const cleaned =
    [...raw]
      .filter((char) => !isHiddenCharacter(char))
      .join('')
      .trim() || 'unnamed';
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
