/**
 * Hostile input for the JSON parser, the bundle and manifest parsers, and the manifest form the
 * Publish page signs: random text, JSON-shaped values, deep nesting and mutated valid inputs come
 * back as results (never an exception); the strict JSON parser agrees with JSON.parse except
 * where it is strict on purpose (duplicate keys, lone surrogate escapes, depth); a manifest built
 * from any form either comes back as field errors or parses back to exactly what was built.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/lib/core/bundle';
import { utf8 } from '../../src/lib/core/bytes';
import { parseJson, parseJsonBytes } from '../../src/lib/core/json';
import { parseManifest } from '../../src/lib/core/manifest';
import {
  buildManifest,
  emptyManifestForm,
  type ManifestForm
} from '../../src/lib/core/manifest-form';
import {
  anyBytes,
  anyText,
  attempt,
  mutatedBytes,
  mutatedText,
  params,
  property,
  reportCounts,
  roundTrip
} from './harness';
import { BUNDLE, MANIFEST } from './fixtures';

reportCounts(import.meta.url);

const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** Deep nesting and long runs: what stack overflows and quadratic scans are made of. */
const deep = fc
  .integer({ min: 1, max: 100_000 })
  .chain((n) => fc.constantFrom('[', '{"a":', '[{"":').map((open) => open.repeat(n)));

describe('JSON, bundle and manifest parsers', () => {
  it('parseJson / parseJsonBytes return a result for any text or bytes, never throw', () => {
    property('parseJson', 'no throw');
    property('parseJsonBytes', 'no throw');
    fc.assert(
      fc.property(fc.oneof(anyText, deep, mutatedText(textOf(BUNDLE))), (text) => {
        const r = attempt('parseJson', () => parseJson(text)).threw;
        expect(r).toBe(false);
        expect(attempt('parseJsonBytes', () => parseJsonBytes(utf8(text))).threw).toBe(false);
      }),
      params(2)
    );
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        expect(attempt('parseJsonBytes', () => parseJsonBytes(bytes)).threw).toBe(false);
      }),
      params()
    );
  });

  it('parseJson round trips every JSON value it is given as JSON.stringify text', () => {
    property('parseJson', 'stringify-then-parse');
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        const r = attempt('parseJson', () => parseJson(text));
        expect(r.threw).toBe(false);
        if (r.threw || !r.value.ok) throw new Error(`valid JSON refused: ${text.slice(0, 200)}`);
        // -0 reads back as 0 through JSON itself; compare through the same lens.
        expect(JSON.stringify(r.value.value)).toBe(text);
        roundTrip('parseJson');
      }),
      params()
    );
  });

  it('parseBundle and parseManifest return reasons for anything but a valid input', () => {
    property('parseBundle', 'no throw');
    property('parseManifest', 'no throw');
    fc.assert(
      fc.property(
        fc.oneof(anyBytes, mutatedBytes(BUNDLE), mutatedBytes(MANIFEST), anyText.map(utf8)),
        (bytes) => {
          const b = attempt('parseBundle', () => parseBundle(bytes));
          const m = attempt('parseManifest', () => parseManifest(bytes));
          if (b.threw || m.threw) throw new Error('unreachable');
          expect(typeof b.value.ok).toBe('boolean');
          if (!b.value.ok) expect(b.value.reasons.length).toBeGreaterThan(0);
          if (!m.value.ok) expect(m.value.reasons.length).toBeGreaterThan(0);
        }
      ),
      params(2)
    );
  });

  it('parseManifest takes structured-random manifests: every refusal is a manifest.* reason', () => {
    property('parseManifest', 'json-shaped fields');
    const field = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.constant(null)
    );
    const manifest = fc.dictionary(
      fc.constantFrom(
        'name',
        'version',
        'module',
        'publisher',
        'description',
        'created',
        'expires',
        'entry',
        'args',
        'env',
        'limits',
        'capabilities',
        '__proto__',
        'constructor',
        'x'
      ),
      field
    );
    fc.assert(
      fc.property(manifest, (value) => {
        const r = attempt('parseManifest', () => parseManifest(utf8(JSON.stringify(value))));
        if (r.threw) throw new Error('unreachable');
        for (const why of r.value.reasons) expect(why.code).toMatch(/^(manifest|bundle|input)\./);
      }),
      params()
    );
  });
});

describe('JSON.parse as the reference', () => {
  it('parseJson accepts exactly what JSON.parse accepts, with the same value, except its documented refusals', () => {
    property('parseJson', 'differential against JSON.parse');
    const near = fc.oneof(
      fc.json({ maxDepth: 5 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.json().map((s) => s.replace(/[,:\]]/, (c) => c + c)),
      fc.constantFrom(
        '1e400',
        '-0',
        '1E+2',
        '0.0e-0',
        '[1,]',
        '01',
        '1.',
        '.5',
        '"\\x"',
        '\ufeff1',
        '"\t"',
        '1 2',
        '\u2028 1',
        ' \u00a0 1'
      )
    );
    fc.assert(
      fc.property(near, (text) => {
        let reference: { value: unknown } | null = null;
        try {
          reference = { value: JSON.parse(text) as unknown };
        } catch {
          reference = null;
        }
        const r = attempt('parseJson', () => parseJson(text));
        if (r.threw) throw r.error;
        if (!r.value.ok) {
          // Strict on purpose: a duplicate key or a \u escape leaving a lone surrogate.
          if (reference !== null) expect(['duplicate-key', 'syntax']).toContain(r.value.kind);
          if (reference !== null && r.value.kind === 'syntax') {
            expect(r.value.message).toMatch(/lone (high|low) surrogate/);
          }
          return;
        }
        if (reference === null)
          throw new Error(`accepted what JSON.parse refuses: ${JSON.stringify(text)}`);
        expect(
          Object.is(r.value.value, reference.value) ||
            JSON.stringify(r.value.value) === JSON.stringify(reference.value)
        ).toBe(true);
      }),
      params(5)
    );
  });
});

/** Form text as typed or pasted: any characters, a broken emoji (lone surrogate), lines. */
const formText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('Alice \uD83D', '\uDE00x', 'A=\uDBFF', '2026-01-01T00:00:00Z\uD800')
);
const formLines = fc
  .array(fc.oneof(formText, fc.constant(''), fc.constant('A=b')), { maxLength: 4 })
  .map((l) => l.join('\n'));
/** Mostly what a publisher types (so some forms build), sometimes anything at all. */
const usually = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 9 }, { arbitrary: other, weight: 1 });
const form: fc.Arbitrary<ManifestForm> = fc.record({
  name: usually(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), formText),
  version: usually(fc.constantFrom('1.0.0', '0.1.2-rc.1+b.7'), fc.constantFrom('1.0', 'v1', '')),
  publisher: usually(fc.string({ maxLength: 40 }), formText),
  description: usually(fc.string({ maxLength: 80 }), formText),
  created: usually(fc.constantFrom('', '2026-01-01T00:00:00Z'), formText),
  expires: usually(fc.constantFrom('', '2099-01-01T00:00:00+02:00'), formText),
  entry: fc.constantFrom('', 'command', 'reactor') as fc.Arbitrary<ManifestForm['entry']>,
  args: usually(
    fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }).map((l) => l.join('\n')),
    formLines
  ),
  env: usually(fc.constantFrom('', 'A=b', 'LANG=C\n\nX='), formLines),
  limits: fc.record({
    timeoutMs: usually(fc.constantFrom('', '5000'), fc.constantFrom('1.5', '-1', '1e3', 'x')),
    memoryMiB: usually(fc.constantFrom('', '64'), fc.constant('0')),
    outputBytes: fc.constantFrom('', '65536'),
    fsBytes: usually(fc.constantFrom('', '0', '1024'), fc.constant('99999999999999999999'))
  }),
  capabilities: fc
    .subarray(['args', 'env', 'clock', 'random', 'stdin', 'fs-read', 'fs-write'] as const)
    .map((c) => [...c])
});

describe('the manifest form (Publish page)', () => {
  it('buildManifest gives errors on their fields, or manifest bytes that parse back to what was typed', () => {
    property('buildManifest', 'no throw');
    property('buildManifest', 'build-then-parse');
    const module = { sha256: 'ab'.repeat(32), size: 1234 };
    expect(buildManifest(emptyManifestForm(), module, 'command').ok).toBe(false);
    let built = 0;
    fc.assert(
      fc.property(
        form,
        fc.constantFrom('command', 'reactor', null) as fc.Arbitrary<'command' | 'reactor' | null>,
        (f, entry) => {
          const r = attempt('buildManifest', () => buildManifest(f, module, entry));
          if (r.threw) throw r.error;
          if (!r.value.ok) {
            expect(r.value.errors.length).toBeGreaterThan(0);
            // Each problem sits on the field that has it (the page shows it there).
            for (const e of r.value.errors) expect([e.field, e.code]).not.toEqual([null, e.code]);
            return;
          }
          const back = parseManifest(r.value.bytes);
          if (!back.ok) throw new Error(`built manifest refused: ${JSON.stringify(back.reasons)}`);
          expect(back.manifest).toEqual(r.value.manifest);
          // What is signed is what was typed (text fields are signed as typed).
          if (f.publisher.trim() !== '') expect(back.manifest.publisher).toBe(f.publisher);
          if (f.description.trim() !== '') expect(back.manifest.description).toBe(f.description);
          expect(back.manifest.name).toBe(f.name.trim());
          roundTrip('buildManifest');
          built++;
        }
      ),
      params()
    );
    // The generator must reach the interesting case (a manifest that builds) often.
    expect(built).toBeGreaterThan(params().numRuns! / 10);
  });
});
