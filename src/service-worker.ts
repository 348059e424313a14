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

sw.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== CACHE) await caches.delete(name);
      }
      await sw.clients.claim();
    })()
  );
});

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

sw.addEventListener('fetch', (event) => {
  const request = event.request;
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
