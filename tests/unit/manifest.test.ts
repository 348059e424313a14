import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseManifest, type ManifestResult } from '../../src/lib/core/manifest';
import { compareSemver, parseSemver } from '../../src/lib/core/semver';
import { parseRfc3339 } from '../../src/lib/core/time';

const SHA = 'ab'.repeat(32);
const BASE = { name: 'hello', version: '1.0.0', module: { sha256: SHA, size: 42 } };
const enc = new TextEncoder();
const bytesOf = (value: unknown): Uint8Array => enc.encode(JSON.stringify(value));
const parse = (value: unknown): ManifestResult => parseManifest(bytesOf(value));
const codes = (result: ManifestResult): string[] => result.reasons.map((r) => r.code);

function ok(result: ManifestResult) {
  if (!result.ok) throw new Error(`expected ok: ${JSON.stringify(result.reasons)}`);
  return result;
}
/** Expects failure with exactly these codes, and that each message names `mentions`. */
function refused(value: unknown, expected: string[], mentions?: string): ManifestResult {
  const result = typeof value === 'string' ? parseManifest(enc.encode(value)) : parse(value);
  expect(result.ok).toBe(false);
  expect(codes(result)).toEqual(expected);
  if (mentions !== undefined) expect(result.reasons[0]!.message).toContain(mentions);
  return result;
}

function rejects(value: unknown, expected: string[], mentions?: string): void {
  refused(value, expected, mentions);
}

describe('parseManifest: valid manifests', () => {
  it('the minimum: name, version, module; defaults for the rest', () => {
    const { manifest, unknownKeys, notes } = ok(parse(BASE));
    expect(manifest).toEqual({
      name: 'hello',
      version: '1.0.0',
      module: { sha256: SHA, size: 42 },
      publisher: null,
      description: null,
      created: null,
      createdMs: null,
      expires: null,
      expiresMs: null,
      entry: 'command',
      args: [],
      env: {},
      limits: {},
      capabilities: []
    });
    expect(unknownKeys).toEqual([]);
    expect(notes).toEqual([]);
  });

  it('every field', () => {
    const { manifest, notes } = ok(
      parse({
        ...BASE,
        publisher: 'ACME CI',
        description: 'Line one\nline two\tand a tab',
        created: '2025-01-31T12:00:00Z',
        expires: '2026-01-31T13:00:00.5+01:00',
        entry: 'reactor',
        args: ['--fast', ''],
        env: { LANG: 'C', EMPTY: '' },
        limits: { timeoutMs: 1000, memoryMiB: 16, outputBytes: 65536, fsBytes: 1 },
        capabilities: ['args', 'env', 'clock', 'random', 'stdin', 'fs-read', 'fs-write']
      })
    );
    expect(manifest.createdMs).toBe(Date.UTC(2025, 0, 31, 12));
    expect(manifest.expiresMs).toBe(Date.UTC(2026, 0, 31, 12, 0, 0, 500));
    expect(manifest.entry).toBe('reactor');
    expect(manifest.env).toEqual({ LANG: 'C', EMPTY: '' });
    expect(manifest.limits).toEqual({
      timeoutMs: 1000,
      memoryMiB: 16,
      outputBytes: 65536,
      fsBytes: 1
    });
    expect(notes).toEqual([]);
  });

  it('unknown keys (top level, module.*, limits.*) are listed and noted, not errors', () => {
    const result = ok(
      parse({ ...BASE, future: 1, module: { ...BASE.module, algo: 'x' }, limits: { cpuMs: 5 } })
    );
    expect(result.unknownKeys).toEqual(['future', 'module.algo', 'limits.cpuMs']);
    expect(result.notes.map((n) => n.code)).toEqual(['manifest.unknown-keys']);
  });

  it('notes args or env given without the capability that passes them', () => {
    const result = ok(parse({ ...BASE, args: ['x'], env: { A: 'b' } }));
    expect(result.notes.map((n) => n.code)).toEqual([
      'manifest.args-unused',
      'manifest.env-unused'
    ]);
  });

  it('an env key "__proto__" is an ordinary entry', () => {
    const result = ok(
      parseManifest(
        enc.encode(
          `{"name":"a","version":"1.0.0","module":{"sha256":"${SHA}","size":1},"env":{"__proto__":"x"}}`
        )
      )
    );
    expect(Object.keys(result.manifest.env)).toEqual(['__proto__']);
    expect(result.manifest.env['__proto__']).toBe('x');
  });

  it.each(['a', 'A1', 'org/tool', 'my-tool_v2.0+x', 'x'.repeat(128)])('name %s', (name) => {
    expect(ok(parse({ ...BASE, name })).manifest.name).toBe(name);
  });
});

describe('parseManifest: each bad input has its code', () => {
  it('not JSON', () => rejects('{name: hello}', ['manifest.json']));
  it('trailing garbage', () => rejects(`${JSON.stringify(BASE)} x`, ['manifest.json']));
  it('a duplicate key (JSON.parse would keep the last)', () =>
    rejects(
      `{"name":"a","name":"b","version":"1.0.0","module":{"sha256":"${SHA}","size":1}}`,
      ['manifest.duplicate-key'],
      'duplicate key "name"'
    ));
  it('a duplicate key inside module', () =>
    rejects(`{"name":"a","version":"1.0.0","module":{"sha256":"${SHA}","size":1,"size":2}}`, [
      'manifest.duplicate-key'
    ]));
  it('not UTF-8', () => {
    const result = parseManifest(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(codes(result)).toEqual(['manifest.encoding']);
  });
  it('not an object', () => rejects([BASE], ['manifest.type'], 'must be a JSON object'));
  it('too large', () => {
    const result = parseManifest(bytesOf(BASE), { maxBytes: 10 });
    expect(codes(result)).toEqual(['manifest.too-large']);
  });

  it('missing required fields, all named in one reason', () => {
    const result = refused({ publisher: 'x' }, ['manifest.missing']);
    expect(result.reasons[0]!.message).toMatch(/name, version, module\./);
    rejects({ ...BASE, module: {} }, ['manifest.missing'], 'module.sha256, module.size');
    rejects(
      { name: 'a', version: '1.0.0', module: { sha256: SHA } },
      ['manifest.missing'],
      'module.size'
    );
  });

  it.each([
    ['name', 5, 'a string, not a number'],
    ['version', 1, 'a string'],
    ['module', 'abc', 'an object {sha256, size}, not a string'],
    ['publisher', ['x'], 'a string, not an array'],
    ['description', null, 'a string, not null'],
    ['created', 1700000000, 'a string'],
    ['entry', true, 'a string, not a boolean'],
    ['args', 'a b', 'an array of strings'],
    ['args', [1, 2], 'an array of strings'],
    ['env', ['A=b'], 'an object of strings'],
    ['limits', 5, 'an object'],
    ['capabilities', 'args', 'an array of strings'],
    ['capabilities', [1], 'an array of strings']
  ])('wrong type of %s (%j) names the field', (field, bad, message) => {
    rejects({ ...BASE, [field]: bad }, ['manifest.type'], `"${field}" must be ${message}`);
  });

  it('wrong types inside module, env and limits name the nested field', () => {
    rejects({ ...BASE, module: { sha256: 5, size: 1 } }, ['manifest.type'], '"module.sha256"');
    rejects({ ...BASE, module: { sha256: SHA, size: '1' } }, ['manifest.type'], '"module.size"');
    rejects({ ...BASE, env: { A: 1 } }, ['manifest.type'], '"env.A"');
    rejects({ ...BASE, limits: { timeoutMs: '5' } }, ['manifest.type'], '"limits.timeoutMs"');
  });

  it('collects several problems at once', () => {
    const result = refused({ name: 7, version: 'one', module: { sha256: 'AB', size: -1 } }, [
      'manifest.type',
      'manifest.version',
      'manifest.module',
      'manifest.module'
    ]);
    expect(result.reasons).toHaveLength(4);
  });

  it.each(['', ' lead', '-dash', '.dot', 'has space', 'a<b>', 'é', 'x'.repeat(129), 'a\u202eb'])(
    'bad name %j',
    (name) => rejects({ ...BASE, name }, ['manifest.name'])
  );

  it.each([
    '1',
    '1.0',
    'v1.0.0',
    '01.0.0',
    '1.0.0-',
    '1.0.0-01',
    '1.0.0+',
    '1.0.0 ',
    '1.0.0-a..b',
    `1.0.${'9'.repeat(130)}`
  ])('bad version %j', (version) => rejects({ ...BASE, version }, ['manifest.version']));

  it.each([
    [{ sha256: SHA.toUpperCase(), size: 1 }, 'lowercase hex'],
    [{ sha256: SHA.slice(2), size: 1 }, 'lowercase hex'],
    [{ sha256: SHA, size: -1 }, 'whole number'],
    [{ sha256: SHA, size: 1.5 }, 'whole number'],
    [{ sha256: SHA, size: 2 ** 53 }, 'whole number']
  ])('bad module %j', (module, message) =>
    rejects({ ...BASE, module }, ['manifest.module'], message)
  );

  it('publisher and description: length caps, control and bidi characters', () => {
    rejects({ ...BASE, publisher: 'x'.repeat(257) }, ['manifest.text']);
    rejects({ ...BASE, publisher: 'a\nb' }, ['manifest.text']);
    rejects({ ...BASE, publisher: 'evil\u202ecod.exe' }, ['manifest.text']);
    rejects({ ...BASE, description: 'x'.repeat(4097) }, ['manifest.text']);
    rejects({ ...BASE, description: 'bell\u0007' }, ['manifest.text']);
    rejects({ ...BASE, description: 'isolate\u2066' }, ['manifest.text']);
    ok(parse({ ...BASE, publisher: 'x'.repeat(256), description: 'tabs\tand\nlines' }));
  });

  it.each([
    '2025-01-31',
    '2025-01-31 12:00:00Z',
    '2025-01-31T12:00:00',
    '2025-01-31T12:00Z',
    '2025-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-01-31T24:00:00Z',
    '2025-01-31T12:60:00Z',
    '2025-01-31T12:00:61Z',
    '2025-01-31T12:00:00+24:00',
    '2025-01-31T12:00:00+0100',
    '2025-01-31T12:00:00.Z',
    '+2025-01-31T12:00:00Z',
    ' 2025-01-31T12:00:00Z'
  ])('bad time %j', (created) => rejects({ ...BASE, created }, ['manifest.time']));

  it('bad entry', () => rejects({ ...BASE, entry: 'main' }, ['manifest.entry']));

  it('args with NUL or too many', () => {
    rejects({ ...BASE, args: ['a\u0000b'] }, ['manifest.args']);
    rejects({ ...BASE, args: Array(1025).fill('x') }, ['manifest.args']);
  });

  it.each([{ '': 'x' }, { 'A=B': 'x' }, { 'A\u0000': 'x' }, { A: 'x\u0000' }])(
    'bad env %j',
    (env) => rejects({ ...BASE, env }, ['manifest.env'])
  );

  it.each([{ timeoutMs: 0 }, { memoryMiB: -1 }, { outputBytes: 1.5 }, { fsBytes: 1e300 }])(
    'bad limits %j',
    (limits) => rejects({ ...BASE, limits }, ['manifest.limits'])
  );

  it('unknown or repeated capabilities', () => {
    rejects({ ...BASE, capabilities: ['network'] }, ['manifest.capability'], '"network"');
    rejects({ ...BASE, capabilities: ['clock', 'clock'] }, ['manifest.capability'], 'twice');
  });
});

describe('RFC 3339', () => {
  it.each([
    ['1970-01-01T00:00:00Z', 0],
    ['1970-01-01t00:00:00z', 0],
    ['2000-02-29T23:59:59.999Z', Date.UTC(2000, 1, 29, 23, 59, 59, 999)],
    ['2024-12-31T23:59:59.123456789-05:30', Date.UTC(2025, 0, 1, 5, 29, 59, 123)],
    ['0001-01-01T00:00:00Z', -62135596800000],
    ['0099-06-15T00:00:00Z', Date.parse('0099-06-15T00:00:00Z')],
    ['9999-12-31T23:59:59Z', Date.UTC(9999, 11, 31, 23, 59, 59)],
    ['2016-12-31T23:59:60Z', Date.UTC(2017, 0, 1)]
  ])('%s', (text, ms) => expect(parseRfc3339(text)).toBe(ms));

  it('agrees with Date.parse on generated instants', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(Date.UTC(1, 0, 1)),
          max: new Date(Date.UTC(9999, 11, 31)),
          noInvalidDate: true
        }),
        (date) => {
          const text = date.toISOString();
          expect(parseRfc3339(text)).toBe(date.getTime());
        }
      ),
      { numRuns: 500 }
    );
  });
});

describe('semver', () => {
  it('orders versions by semver 2.0.0 precedence', () => {
    const ordered = [
      '0.9.99',
      '1.0.0-0',
      '1.0.0-2',
      '1.0.0-10',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.2.0',
      '1.10.0',
      '2.0.0',
      '10.0.0',
      '99999999999999999999.0.0'
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        const expected = i < j ? -1 : i > j ? 1 : 0;
        expect(compareSemver(ordered[i]!, ordered[j]!), `${ordered[i]} vs ${ordered[j]}`).toBe(
          expected
        );
      }
    }
  });

  it('ignores build metadata; refuses invalid versions with null', () => {
    expect(compareSemver('1.0.0+build.1', '1.0.0+build.2')).toBe(0);
    expect(compareSemver('1.0.0', 'v1.0.0')).toBeNull();
    expect(compareSemver('x', '1.0.0')).toBeNull();
    expect(parseSemver('1.2.3-rc.1+sha.5')).toEqual({
      core: ['1', '2', '3'],
      prerelease: ['rc', '1'],
      build: ['sha', '5']
    });
  });
});

describe('parseManifest: properties', { timeout: 60_000 }, () => {
  it('never throws on arbitrary bytes or JSON', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.json().map((t) => enc.encode(t))
        ),
        (bytes) => {
          const result = parseManifest(bytes);
          expect(result.ok || result.reasons.length > 0).toBe(true);
        }
      ),
      { numRuns: 1000 }
    );
  });

  it('never throws on objects shaped almost like a manifest', () => {
    const anything = fc.jsonValue({ maxDepth: 2 });
    const shaped = fc.record(
      {
        name: fc.oneof(fc.string(), anything),
        version: fc.oneof(fc.constantFrom('1.0.0', '2.0.0-rc.1'), anything),
        module: fc.oneof(
          fc.record({ sha256: fc.oneof(fc.constant(SHA), anything), size: anything }),
          anything
        ),
        env: fc.oneof(fc.dictionary(fc.string(), fc.string()), anything),
        limits: fc.oneof(
          fc.dictionary(fc.constantFrom('timeoutMs', 'memoryMiB', 'x'), anything),
          anything
        ),
        capabilities: fc.oneof(fc.array(fc.constantFrom('args', 'env', 'net')), anything),
        created: fc.oneof(fc.constant('2025-01-01T00:00:00Z'), fc.string())
      },
      { requiredKeys: [] }
    );
    fc.assert(
      fc.property(shaped, (value) => {
        const result = parse(value);
        if (result.ok) expect(result.reasons).toEqual([]);
        else expect(result.reasons.length).toBeGreaterThan(0);
        for (const r of result.reasons) expect(r.code).toMatch(/^manifest\.[a-z-]+$/);
      }),
      { numRuns: 1000 }
    );
  });
});
