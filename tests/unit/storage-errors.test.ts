import { describe, expect, it } from 'vitest';
import {
  isQuotaError,
  StorageFullError,
  storageFullMessage,
  storageWrite,
  untilFull
} from '../../src/lib/storage/storage-errors';

const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

describe('isQuotaError', () => {
  it.each([
    ['QuotaExceededError DOMException', quota(), true],
    ['old Firefox name', new DOMException('full', 'NS_ERROR_DOM_QUOTA_REACHED'), true],
    ['legacy code 22', { name: 'Error', code: 22 }, true],
    ['a StorageFullError', new StorageFullError('x'), true],
    [
      'a full volume (Chromium blob write)',
      new DOMException('Failed to write blobs (IOError)', 'DataError'),
      true
    ],
    ['a bad key', new DOMException('The parameter is not a valid key.', 'DataError'), false],
    ['AbortError', new DOMException('aborted', 'AbortError'), false],
    ['ConstraintError', new DOMException('key exists', 'ConstraintError'), false],
    ['plain Error', new Error('QuotaExceededError'), false],
    ['a string', 'QuotaExceededError', false],
    ['null', null, false]
  ])('%s -> %s', (_label, error, expected) => {
    expect(isQuotaError(error)).toBe(expected);
  });
});

describe('storageWrite', () => {
  it('turns an over-quota failure into a StorageFullError that names what was not saved', async () => {
    const cause = quota();
    const error = await storageWrite('the request for big.ncb', () => Promise.reject(cause)).catch(
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as StorageFullError).what).toBe('the request for big.ncb');
    expect((error as StorageFullError).cause).toBe(cause);
    expect((error as Error).message).toBe(storageFullMessage('the request for big.ncb'));
    expect((error as Error).message).toMatch(
      /^Storage is full: the request for big\.ncb could not be saved, and nothing of it was written\. Free space/
    );
  });

  it('finds the quota error on the transaction when the request only says it was aborted', async () => {
    const tx = { error: quota() };
    const error = await storageWrite(
      'the audit record (intake)',
      () => Promise.reject(new DOMException('aborted', 'AbortError')),
      tx
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as StorageFullError).cause).toBe(tx.error);
  });

  it('passes every other failure through unchanged', async () => {
    const other = new DOMException('key exists', 'ConstraintError');
    await expect(storageWrite('x', () => Promise.reject(other), { error: other })).rejects.toBe(
      other
    );
    const aborted = new DOMException('aborted', 'AbortError');
    await expect(storageWrite('x', () => Promise.reject(aborted), { error: null })).rejects.toBe(
      aborted
    );
  });

  it('returns the value of a write that fits', async () => {
    await expect(storageWrite('x', async () => 42)).resolves.toBe(42);
  });
});

describe('untilFull', () => {
  it('stops at the first full write, keeps the ones before, and never runs the ones after', async () => {
    const ran: string[] = [];
    const full = await untilFull(
      async () => void ran.push('a'),
      () => storageWrite('b', () => Promise.reject(quota())),
      async () => void ran.push('c')
    );
    expect(ran).toEqual(['a']);
    expect(full).toBeInstanceOf(StorageFullError);
    expect(full?.what).toBe('b');
  });

  it('returns null when everything was written, and throws other errors', async () => {
    await expect(
      untilFull(
        async () => 1,
        async () => 2
      )
    ).resolves.toBeNull();
    const boom = new TypeError('boom');
    await expect(untilFull(() => Promise.reject(boom))).rejects.toBe(boom);
  });
});
