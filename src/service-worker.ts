/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/// <reference types="@sveltejs/kit" />
/**
 * Offline-first service worker. Each build precaches every asset it emitted (JS, CSS, the module
 * worker chunk), every static file and every prerendered page under a cache named by the build
 * version, so the app runs with the network off after one online load. A new build installs beside
 * the old one and waits until the page asks it to take over ("new version available — reload").
 */
import { build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const CACHE = `nightcore-${version}`;
const PRECACHE = [...new Set(['/', ...build, ...files, ...prerendered])];
const PRECACHED = new Set(PRECACHE);
/** Files shared to the installed app wait here until the Inbox takes them (see state/channels.ts). */
const SHARED = 'nightcore-shared';
const SHARED_NAME_HEADER = 'X-Nightcore-Name';
const SHARE_MAX_FILES = 20;
const SHARE_MAX_BYTES = 64 * 1024 * 1024;

sw.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // Tabs still running the previous version (the user did not reload them: a run may be in
      // progress) load its pages lazily from its cache, and the server has moved on. So the
      // previous version's cache stays for one more generation; older ones go. Version names are
      // build timestamps (SvelteKit's default), so the newest sorts last.
      const older = (await caches.keys())
        .filter((name) => name.startsWith('nightcore-') && name !== CACHE && name !== SHARED)
        .sort(byVersion);
      for (const name of older.slice(0, -1)) await caches.delete(name);
      await sw.clients.claim();
    })()
  );
});

function byVersion(a: string, b: string): number {
  const [x, y] = [a.slice('nightcore-'.length), b.slice('nightcore-'.length)];
  return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
}

sw.addEventListener('message', (event) => {
  const data: unknown = event.data;
  if (
    typeof data === 'object' &&
    data !== null &&
    (data as { type?: unknown }).type === 'skip-waiting'
  ) {
    void sw.skipWaiting();
  }
});

/**
 * A click on a "needs review" notification: bring an open Night Core window to the request (or
 * the Inbox), else open one. Only a same-origin path from the notification's data is followed.
 */
sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = sameOriginUrl(event.notification.data) ?? `${sw.location.origin}/inbox`;
  event.waitUntil(
    (async () => {
      const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).origin === sw.location.origin);
      if (open) {
        try {
          const focused = await open.focus();
          if (await focused.navigate(target)) return;
        } catch {
          // Not controlled by this worker (navigate refuses), or gone: open a window instead.
        }
      }
      await sw.clients.openWindow(target);
    })()
  );
});

/**
 * The URL for a notification's `data.url` when it is a path on this origin, else null. A URL
 * parser reads `//host`, a backslash for a slash and skips tabs and newlines, so any of those is
 * refused, and the parsed origin is checked again.
 */
function sameOriginUrl(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const path: unknown = (data as { url?: unknown }).url;
  if (typeof path !== 'string' || !/^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/.test(path)) return null;
  const url = new URL(path, sw.location.origin);
  return url.origin === sw.location.origin ? url.href : null;
}

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method === 'POST' && isShareTarget(request)) {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return; // nothing else is ours to answer (or fetch)
  event.respondWith(respond(request, url));
});

async function respond(request: Request, url: URL): Promise<Response> {
  const cache = await caches.open(CACHE);
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
  if (PRECACHED.has(path)) {
    const hit = await cache.match(path);
    if (hit) return hit;
  } else if (path.startsWith('/_app/immutable/')) {
    // A file of the previous version, asked for by a tab that still runs it (see activate).
    const previous = await caches.match(request);
    if (previous) return previous;
  }
  try {
    return await fetch(request);
  } catch (error) {
    // Offline and not precached: a page navigation still gets the app shell, which routes itself.
    if (request.mode === 'navigate') {
      const shell = await cache.match('/');
      if (shell) return shell;
    }
    throw error;
  }
}

function isShareTarget(request: Request): boolean {
  const url = new URL(request.url);
  return url.origin === sw.location.origin && url.pathname === '/share-target';
}

/**
 * The manifest's share target: the shared files are stored under a random id and the Inbox is
 * opened with `#shared=<id>`; it takes them in (verified and judged like any other input) and
 * deletes them. Too many or too large is refused here, and the Inbox says why.
 */
async function receiveShare(request: Request): Promise<Response> {
  const inbox = (fragment: string) =>
    new Response(null, { status: 303, headers: { Location: `/inbox#${fragment}` } });
  let files: File[];
  try {
    const form = await request.formData();
    files = form.getAll('files').filter((value): value is File => value instanceof File);
  } catch {
    return inbox('share-refused=unreadable');
  }
  if (files.length === 0) return inbox('share-refused=empty');
  if (files.length > SHARE_MAX_FILES) return inbox('share-refused=too-many');
  if (files.reduce((sum, file) => sum + file.size, 0) > SHARE_MAX_BYTES) {
    return inbox('share-refused=too-large');
  }
  const id = crypto.randomUUID();
  const cache = await caches.open(SHARED);
  for (const [index, file] of files.entries()) {
    await cache.put(
      new Request(`/__shared/${id}/${index}`),
      new Response(file, {
        headers: {
          'Content-Type': file.type || 'application/octet-stream',
          [SHARED_NAME_HEADER]: encodeURIComponent(file.name)
        }
      })
    );
  }
  return inbox(`shared=${id}`);
}
