import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/lib/core/units';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [150 * 1024, '150 KiB'],
    [3.25 * 1024 ** 3, '3.3 GiB'],
    [2 * 1024 ** 5, '2048 TiB']
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d with a RangeError', (bytes) => {
    expect(() => formatBytes(bytes)).toThrow(RangeError);
  });
});
