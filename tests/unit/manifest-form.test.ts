// The Publish page's manifest form (core/manifest-form.ts): typed fields become manifest bytes
// that parseManifest accepts, and every problem lands on the field it belongs to.
import { describe, expect, it } from 'vitest';
import { fromUtf8 } from '../../src/lib/core/bytes';
import {
  buildManifest,
  emptyManifestForm,
  type ManifestForm
} from '../../src/lib/core/manifest-form';
import { parseManifest } from '../../src/lib/core/manifest';

const MODULE = { sha256: 'ab'.repeat(32), size: 1234 };

function form(changes: Partial<ManifestForm>): ManifestForm {
  return { ...emptyManifestForm(), name: 'hello', version: '1.0.0', ...changes };
}

describe('buildManifest', () => {
  it('writes every field the form has, and parseManifest reads the same values back', () => {
    const result = buildManifest(
      form({
        publisher: '<b>Alice</b>',
        description: 'line one\nline two',
        created: '2026-01-01T00:00:00Z',
        expires: '2027-01-01T00:00:00Z',
        entry: 'reactor',
        args: '--verbose\n\n-x\n',
        env: 'MODE=fast\nEMPTY=\nEQ=a=b',
        limits: { timeoutMs: '2000', memoryMiB: '16', outputBytes: '', fsBytes: '0x10' },
        capabilities: ['args', 'env']
      }),
      MODULE,
      'command'
    );
    // fsBytes "0x10" is not a whole number as typed: refused on its field.
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.field)).toEqual(['limits.fsBytes']);

    const fixed = buildManifest(
      form({
        publisher: '<b>Alice</b>',
        description: 'line one\nline two',
        created: '2026-01-01T00:00:00Z',
        expires: '2027-01-01T00:00:00Z',
        entry: 'reactor',
        args: '--verbose\n\n-x\n',
        env: 'MODE=fast\nEMPTY=\nEQ=a=b',
        limits: { timeoutMs: '2000', memoryMiB: '16', outputBytes: '', fsBytes: '' },
        capabilities: ['args', 'env']
      }),
      MODULE,
      'command'
    );
    expect(fixed.ok).toBe(true);
    if (!fixed.ok) return;
    const again = parseManifest(fixed.bytes);
    expect(again.ok).toBe(true);
    expect(JSON.parse(fromUtf8(fixed.bytes))).toEqual({
      name: 'hello',
      version: '1.0.0',
      module: MODULE,
      publisher: '<b>Alice</b>',
      description: 'line one\nline two',
      created: '2026-01-01T00:00:00Z',
      expires: '2027-01-01T00:00:00Z',
      entry: 'reactor',
      args: ['--verbose', '-x'],
      env: { MODE: 'fast', EMPTY: '', EQ: 'a=b' },
      limits: { timeoutMs: 2000, memoryMiB: 16 },
      capabilities: ['args', 'env']
    });
  });

  it('leaves blank optional fields out and takes the entry from the module', () => {
    const result = buildManifest(form({ publisher: '   ' }), MODULE, 'command');
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(Object.keys(JSON.parse(fromUtf8(result.bytes)))).toEqual([
        'name',
        'version',
        'module',
        'entry',
        'capabilities'
      ]);
    }
  });

  const cases: [string, Partial<ManifestForm>, string[]][] = [
    ['missing name and version', { name: '', version: '' }, ['name', 'version']],
    ['a name with markup', { name: '<img src=x>' }, ['name']],
    ['a v-prefixed version', { version: 'v1.0.0' }, ['version']],
    ['a publisher with a bidi override', { publisher: 'evil\u202egnp.exe' }, ['publisher']],
    ['a description with a NUL', { description: 'a\u0000b' }, ['description']],
    ['created not RFC 3339', { created: 'yesterday' }, ['created']],
    ['expires not RFC 3339', { expires: '2027-13-01T00:00:00Z' }, ['expires']],
    ['an env line without =', { env: 'JUSTNAME' }, ['env']],
    ['an env name that is empty', { env: '=value' }, ['env']],
    [
      'a negative and a fractional limit',
      { limits: { timeoutMs: '-5', memoryMiB: '1.5', outputBytes: '', fsBytes: '' } },
      ['limits.timeoutMs', 'limits.memoryMiB']
    ],
    [
      'a word for a limit',
      { limits: { timeoutMs: 'lots', memoryMiB: '', outputBytes: '', fsBytes: '' } },
      ['limits.timeoutMs']
    ]
  ];
  for (const [name, changes, fields] of cases) {
    it(`${name} -> ${fields.join(', ')}`, () => {
      const result = buildManifest(form(changes), MODULE, 'command');
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.map((e) => e.field).sort()).toEqual([...fields].sort());
    });
  }

  it('asks for the entry when the module has none', () => {
    const result = buildManifest(form({}), MODULE, null);
    expect(result.ok ? [] : result.errors.map((e) => e.field)).toEqual(['entry']);
    expect(buildManifest(form({ entry: 'command' }), MODULE, null).ok).toBe(true);
  });
});
