/**
 * The installed app's channels into the Inbox: a link carrying a bundle (`/inbox#import=…`), files
 * opened with the app (file handlers, `launchQueue`) and files shared to it (share target, stored
 * by the service worker). Each lands in the same queue through the same verification and policy
 * as a paste or a pick, and is audited with its channel.
 */
import { parseInboxFragment, type InboxFragment } from '$lib/core/intake';
import { fromLaunchHandles, type Collected, type PickedFile } from './file-intake';
import { inboxState } from './inbox.svelte';

/** The Cache Storage cache the service worker puts shared files in (see src/service-worker.ts). */
export const SHARED_CACHE = 'nightcore-shared';
/** The header holding a shared file's name (URI-encoded). */
export const SHARED_NAME_HEADER = 'X-Nightcore-Name';

/**
 * Reads the Inbox's fragment. When it is one of ours, `clear` is called first (so a reload does
 * not take the same input twice) and the input is then taken in. Returns whether it was ours.
 */
export async function takeFragment(hash: string, clear: () => void): Promise<boolean> {
  const fragment: InboxFragment = parseInboxFragment(hash);
  if (fragment.kind === 'none') return false;
  clear();
  if (fragment.kind === 'import') await inboxState.intakeUrl(fragment.data);
  else if (fragment.kind === 'shared')
    await inboxState.intakeSelection(() => takeShared(fragment.id), 'share-target');
  else await inboxState.refuse(fragment.channel, fragment.message);
  return true;
}

/** The files the service worker stored for share `id`, removed from the cache as they are read. */
export async function takeShared(id: string): Promise<Collected> {
  if (typeof caches === 'undefined') {
    return { ok: false, message: 'Shared files cannot be read here (no Cache Storage).' };
  }
  const cache = await caches.open(SHARED_CACHE);
  const prefix = `/__shared/${id}/`;
  const requests = (await cache.keys()).filter((r) => new URL(r.url).pathname.startsWith(prefix));
  if (requests.length === 0) {
    return {
      ok: false,
      message: 'The shared files are no longer there (taken in already, or cleared).'
    };
  }
  const files: PickedFile[] = [];
  for (const request of requests) {
    const response = await cache.match(request);
    await cache.delete(request);
    if (!response) continue;
    const name = decodeURIComponent(response.headers.get(SHARED_NAME_HEADER) ?? 'shared file');
    const blob = await response.blob();
    files.push({ file: new File([blob], name, { type: blob.type }), path: name });
  }
  return { ok: true, files };
}

/**
 * Takes the files the installed app was opened with (file handlers). Where the browser has no
 * `launchQueue` (most browsers, and any tab not launched as the app) this does nothing.
 */
export function consumeLaunches(queue: LaunchQueue | undefined): void {
  queue?.setConsumer((params) => {
    if (params.files.length === 0) return;
    void inboxState.intakeSelection(() => fromLaunchHandles(params.files), 'file-handler');
  });
}
