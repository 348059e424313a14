/**
 * The one place a full disk becomes a message. Browsers report a write past the origin's quota as
 * a DOMException named `QuotaExceededError` (Chromium fails the transaction at commit, so it
 * arrives as the transaction's error, with the requests themselves aborted); older Firefox names it
 * `NS_ERROR_DOM_QUOTA_REACHED`. Every write path wraps its IndexedDB work in `storageWrite`, so
 * callers see one typed error that says what was not saved and what the user can do.
 *
 * A failed transaction writes nothing: IndexedDB rolls it back whole. That is what lets the
 * message say "nothing was half-written" — as long as each logical write is one transaction.
 */

/** What the user can do about it; Night Core itself never deletes records (the log is append-only). */
export const FREE_SPACE_ADVICE =
  'Free space on this device (clear other sites’ data in the browser’s settings, or free disk space), then try again. Settings shows how much Night Core stores.';

export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';
  constructor(
    /** What was not saved, as a phrase: "the request for hello.ncb". */
    readonly what: string,
    options?: { cause?: unknown }
  ) {
    super(storageFullMessage(what), options);
  }
}

export function storageFullMessage(what: string): string {
  return `Storage is full: ${what} could not be saved, and nothing of it was written. ${FREE_SPACE_ADVICE}`;
}

/**
 * True for the browser's "over quota" error, however it reached us, and for a disk that is full
 * before the quota is reached: Chromium then fails the module's blob write with
 * `DataError: Failed to write blobs (IOError)` (seen on Chromium 156 with a full volume).
 */
export function isQuotaError(error: unknown): boolean {
  if (error instanceof StorageFullError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, message } = error as { name?: unknown; code?: unknown; message?: unknown };
  // 22 is the legacy QUOTA_EXCEEDED_ERR code; 1014 is old Firefox's NS_ERROR_DOM_QUOTA_REACHED.
  return (
    name === 'QuotaExceededError' ||
    name === 'NS_ERROR_DOM_QUOTA_REACHED' ||
    code === 22 ||
    code === 1014 ||
    (name === 'DataError' && typeof message === 'string' && /\(IOError\)/.test(message))
  );
}

/**
 * The cause of a failed write: the transaction's own error when a request only says it was
 * aborted (the quota error is on the transaction, the requests carry AbortError).
 */
function causeOf(error: unknown, tx?: { error: DOMException | null }): unknown {
  if (isQuotaError(error)) return error;
  const txError = tx?.error ?? null;
  return txError && isQuotaError(txError) ? txError : error;
}

/**
 * Runs one write; an over-quota failure becomes a StorageFullError naming `what`, anything else
 * passes through unchanged. `tx` (when the write is a transaction) is consulted for the real cause.
 */
export async function storageWrite<T>(
  what: string,
  write: () => Promise<T>,
  tx?: { error: DOMException | null }
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const cause = causeOf(error, tx);
    if (error instanceof StorageFullError) throw error;
    if (isQuotaError(cause)) throw new StorageFullError(what, { cause });
    throw error;
  }
}

/**
 * Runs writes in order until one fails for want of space, and returns that failure (null when all
 * were written; any other error is thrown). The writes before it stay written; the failing one
 * wrote nothing.
 */
export async function untilFull(
  ...writes: (() => Promise<unknown>)[]
): Promise<StorageFullError | null> {
  try {
    for (const write of writes) await write();
    return null;
  } catch (error) {
    if (error instanceof StorageFullError) return error;
    if (isQuotaError(error)) return new StorageFullError('the write', { cause: error });
    throw error;
  }
}
