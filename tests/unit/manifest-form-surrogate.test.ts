// Found by the hostile suite (tests/hostile/parsers-json.test.ts): a lone UTF-16 surrogate typed
// or pasted into a manifest form field was refused as "The manifest is not valid JSON" with no
// field, because JSON.stringify escapes it and the strict parser refuses the escape. It must be
// refused on the field that holds it, with nothing signed.
import { describe, expect, it } from 'vitest';
import { buildManifest, emptyManifestForm } from '../../src/lib/core/manifest-form';

const MODULE = { sha256: 'ab'.repeat(32), size: 1234 };
const base = { ...emptyManifestForm(), name: 'hello', version: '1.0.0' };

describe('buildManifest and lone surrogates', () => {
  for (const [field, value] of [
    ['name', 'hel\uD800lo'],
    ['version', '1.0.0-\uDC00'],
    ['publisher', 'Alice \uD83D'],
    ['description', '\uDE00 broken emoji'],
    ['created', '2026-01-01T00:00:00Z\uD800'],
    ['expires', '\uDFFF'],
    ['args', '--ok\n--bad\uD800'],
    ['env', 'A=\uDBFF']
  ] as const) {
    it(`refuses one in ${field} on that field`, () => {
      const result = buildManifest({ ...base, [field]: value }, MODULE, 'command');
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors).toEqual([
        {
          field,
          code: 'manifest.text',
          message: `The ${field} contains a broken character (a lone UTF-16 surrogate): retype it.`
        }
      ]);
    });
  }

  it('still accepts a well-formed surrogate pair (an emoji)', () => {
    const result = buildManifest({ ...base, publisher: 'Alice \uD83D\uDE00' }, MODULE, 'command');
    expect(result.ok && result.manifest.publisher).toBe('Alice \uD83D\uDE00');
  });
});
