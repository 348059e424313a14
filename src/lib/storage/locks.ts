/**
 * Cross-tab mutual exclusion. In the browser: the Web Locks API, which serializes every tab and
 * worker of the origin and releases a lock when its holder's tab dies. Elsewhere (Node tests with
 * fake-indexeddb): a promise chain per lock name, which serializes callers within one process.
 */
type LockManagerLike = {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
};

const local = new Map<string, Promise<unknown>>();

function localLocks(): LockManagerLike {
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = local.get(name) ?? Promise.resolve();
      const next = previous.then(callback, callback);
      local.set(
        name,
        next.catch(() => undefined)
      );
      return next;
    }
  };
}

export function withLock<T>(name: string, callback: () => Promise<T>): Promise<T> {
  const manager = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return (manager ?? localLocks()).request(name, callback);
}
