// Found by the hostile suite (tests/hostile/parsers-records.test.ts): parseJson refused a lone
// surrogate written as a \u escape but accepted one written raw (possible in a JavaScript
// string, e.g. text pasted into the policy editor). parsePolicy then accepted a policy whose name
// the audit log cannot encode, so saving failed in the audit layer with no record of the refusal.
import { describe, expect, it } from 'vitest';
import { encodeCanonicalJson } from '../../src/lib/core/audit/record';
import { parseJson } from '../../src/lib/core/json';
import { DEFAULT_POLICY, parsePolicy } from '../../src/lib/core/policy/document';

describe('parseJson and raw lone surrogates', () => {
  for (const [text, offset] of [
    ['"a\uD800b"', 2],
    ['"\uDC00"', 1],
    ['{"k\uDBFF":1}', 3],
    ['["ok","\uD83D"]', 7]
  ] as const) {
    it(`refuses ${JSON.stringify(text)} at ${offset}`, () => {
      expect(parseJson(text)).toEqual({
        ok: false,
        kind: 'syntax',
        message: 'a lone surrogate in a string',
        offset
      });
    });
  }

  it('accepts raw surrogate pairs (an emoji) as before', () => {
    expect(parseJson('"x\uD83D\uDE00y"')).toEqual({ ok: true, value: 'x\uD83D\uDE00y' });
  });

  it('a policy named with a raw lone surrogate is refused by parsePolicy, before the audit log', () => {
    const text = JSON.stringify({ ...DEFAULT_POLICY, name: '@' }).replace('"@"', '"ops\uD800"');
    const result = parsePolicy(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]?.message).toMatch(/lone surrogate/);
    // Why it matters: the audit record of a saved policy names it, and that cannot be encoded.
    expect(() => encodeCanonicalJson({ name: 'ops\uD800' })).toThrow(TypeError);
  });
});
