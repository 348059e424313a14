import { describe, expect, it } from 'vitest';
import { nameInScope, parseNamePatterns } from '../../src/lib/core/policy/scope';

describe('key name scope', () => {
  it.each([
    ['hello', [], true],
    ['hello', ['hello'], true],
    ['hello', ['Hello'], false],
    ['hello2', ['hello'], false],
    ['acme-payroll', ['acme-*'], true],
    ['acme-', ['acme-*'], true],
    ['acme', ['acme-*'], false],
    ['tools/fmt', ['tools/*', 'x'], true],
    ['anything', ['*'], true]
  ] as const)('%s in %j: %s', (name, patterns, expected) => {
    expect(nameInScope(name, patterns)).toBe(expected);
  });

  it('reads patterns separated by commas, spaces and lines, without duplicates', () => {
    expect(parseNamePatterns(' acme-*, tools/fmt\nacme-* ')).toEqual({
      ok: true,
      names: ['acme-*', 'tools/fmt']
    });
    expect(parseNamePatterns('')).toEqual({ ok: true, names: [] });
  });

  it.each(['a*b', '-lead', '*x', 'sp ace\u0000', '<img src=x>', 'x'.repeat(200)])(
    'refuses %j with the pattern named',
    (text) => {
      const result = parseNamePatterns(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/is not a name pattern/);
    }
  );

  it('refuses more than 64 patterns', () => {
    const many = Array.from({ length: 65 }, (_, i) => `n${i}`).join(',');
    expect(parseNamePatterns(many)).toEqual({ ok: false, message: 'At most 64 name patterns.' });
  });
});
