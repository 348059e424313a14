import type { CapabilityGroup } from '../../src/lib/core/wasm/capabilities';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/lib/core/manifest';
import { DEFAULT_POLICY } from '../../src/lib/core/policy/document';
import type { PolicyReason } from '../../src/lib/core/policy/evaluate';
import {
  buildReview,
  clipName,
  MAX_NAME_SHOWN,
  lowerGrant,
  narrowGrant,
  type Grant,
  type GrantRequest,
  type ReviewInput,
  type ReviewSide
} from '../../src/lib/core/review';
import { inspectWasm, type WasmImport } from '../../src/lib/core/wasm/inspect';

const fixture = (name: string) =>
  inspectWasm(new Uint8Array(readFileSync(new URL(`../fixtures/wasm/${name}`, import.meta.url))));

function manifest(patch: Partial<Manifest> = {}): Manifest {
  return {
    name: 'hello',
    version: '1.0.0',
    module: { sha256: 'aa'.repeat(32), size: 100 },
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
    capabilities: [],
    ...patch
  };
}

const GRANT: Grant = {
  limits: { timeoutMs: 5000, memoryMiB: 64, outputBytes: 1048576, fsBytes: 16777216 },
  capabilities: ['args', 'clock']
};

function side(patch: Partial<ReviewSide> = {}): ReviewSide {
  return {
    name: 'hello',
    version: '1.0.0',
    moduleSha256: 'aa'.repeat(32),
    size: 100,
    manifest: manifest(),
    inspection: fixture('hello.wasm'),
    ...patch
  };
}

function input(patch: Partial<ReviewInput> = {}): ReviewInput {
  return {
    current: side(),
    signers: [{ id: 'k'.repeat(64), label: 'alice', trust: 'review' }],
    reasons: [],
    rules: DEFAULT_POLICY,
    granted: GRANT,
    previous: null,
    ...patch
  };
}

function wasi(name: string, capability: WasmImport['capability'], refused = false): WasmImport {
  const wasiModule = 'wasi_snapshot_preview1';
  return { module: wasiModule, name, kind: 'func', capability, wasi: true, refused };
}

describe('lowerGrant', () => {
  const cases: { name: string; request: GrantRequest; expect: Grant | string[] }[] = [
    { name: 'nothing asked keeps the policy grant', request: {}, expect: GRANT },
    {
      name: 'a lower limit is granted',
      request: { limits: { timeoutMs: 100 } },
      expect: { ...GRANT, limits: { ...GRANT.limits, timeoutMs: 100 } }
    },
    {
      name: 'the policy value itself is allowed',
      request: { limits: { memoryMiB: 64 } },
      expect: GRANT
    },
    {
      name: 'a higher limit is refused',
      request: { limits: { memoryMiB: 65 } },
      expect: ['limits.memoryMiB']
    },
    {
      name: 'zero, fractions, strings and NaN are refused',
      request: { limits: { timeoutMs: 0, memoryMiB: 1.5, outputBytes: '5', fsBytes: NaN } },
      expect: ['limits.timeoutMs', 'limits.memoryMiB', 'limits.outputBytes', 'limits.fsBytes']
    },
    {
      name: 'an unknown limit is refused',
      request: { limits: { cpuCores: 1 } },
      expect: ['limits.cpuCores']
    },
    {
      name: 'removing a capability is allowed',
      request: { capabilities: ['clock'] },
      expect: { ...GRANT, capabilities: ['clock'] }
    },
    {
      name: 'removing every capability is allowed',
      request: { capabilities: [] },
      expect: { ...GRANT, capabilities: [] }
    },
    {
      name: 'adding a capability is refused',
      request: { capabilities: ['args', 'clock', 'fs-write'] },
      expect: ['capabilities']
    },
    {
      name: 'an unknown capability is refused',
      request: { capabilities: ['network'] },
      expect: ['capabilities']
    },
    {
      name: 'every error is reported',
      request: { limits: { timeoutMs: 999999 }, capabilities: ['env'] },
      expect: ['limits.timeoutMs', 'capabilities']
    }
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = lowerGrant(GRANT, c.request);
      if (Array.isArray(c.expect)) {
        expect(result.ok, c.name).toBe(false);
        if (!result.ok) expect(result.errors.map((e) => e.field)).toEqual(c.expect);
      } else {
        expect(result, c.name).toEqual({ ok: true, grant: c.expect });
      }
    });
  }

  it('never throws for hostile input and never mutates the policy grant', () => {
    const before = JSON.stringify(GRANT);
    for (const bad of [null, 5, { limits: null }, { capabilities: 'args' }] as unknown[]) {
      expect(lowerGrant(GRANT, bad as GrantRequest).ok).toBe(false);
    }
    lowerGrant(GRANT, { limits: { timeoutMs: 1 }, capabilities: [] });
    expect(JSON.stringify(GRANT)).toBe(before);
  });
});

describe('buildReview', () => {
  it('groups a real module’s imports and marks the ones not granted', () => {
    const inspection = fixture('hello.wasm');
    inspection.imports = [
      wasi('fd_write', null),
      wasi('args_get', 'args'),
      wasi('random_get', 'random'),
      wasi('sock_send', null, true),
      { module: 'env', name: 'evil', kind: 'func', capability: null, wasi: false, refused: false }
    ];
    const model = buildReview(input({ current: side({ inspection }) }));
    expect(model.importGroups.map((g) => [g.group, g.granted, g.imports.length])).toEqual([
      ['args', true, 1],
      ['random', false, 1],
      ['pure', true, 1],
      ['refused', false, 1],
      ['foreign', false, 1]
    ]);
  });

  const memoryCases = [
    { file: 'hello.wasm', maximum: /page|no maximum/ },
    { file: 'memory-bomb.wasm', maximum: /page|no maximum/ }
  ];
  for (const c of memoryCases) {
    it(`describes memory of ${c.file} as the module declares it`, () => {
      const inspection = fixture(c.file);
      const model = buildReview(input({ current: side({ inspection }) }));
      expect(model.memories.length).toBe(inspection.memories.length);
      for (const [i, m] of model.memories.entries()) {
        const raw = inspection.memories[i]!;
        expect(m.maximum).toMatch(c.maximum);
        expect(m.maximum === 'no maximum').toBe(raw.max === null);
        expect(m.initial.startsWith(`${raw.min} page`)).toBe(true);
      }
    });
  }

  it('compares requested limits with the policy defaults and caps', () => {
    const current = side({ manifest: manifest({ limits: { timeoutMs: 100, memoryMiB: 9999 } }) });
    const model = buildReview(input({ current }));
    const rows = Object.fromEntries(model.limits.map((r) => [r.name, r]));
    expect(rows.timeoutMs).toMatchObject({
      requested: 100,
      policyMaximum: 60000,
      overMaximum: false
    });
    expect(rows.memoryMiB).toMatchObject({
      requested: 9999,
      policyMaximum: 512,
      overMaximum: true
    });
    expect(rows.fsBytes).toMatchObject({ requested: null, policyDefault: 16 * 1024 * 1024 });
  });

  it('lists every manifest field as text, markup included literally', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const current = side({
      manifest: manifest({ publisher: evil, description: evil, args: [evil], env: { X: evil } })
    });
    const fields = Object.fromEntries(
      buildReview(input({ current })).manifestFields.map((f) => [f.field, f.value])
    );
    expect(Object.keys(fields)).toEqual([
      'name',
      'version',
      'module.sha256',
      'module.size',
      'publisher',
      'description',
      'created',
      'expires',
      'entry',
      'args',
      'env',
      'limits',
      'capabilities'
    ]);
    expect(fields.publisher).toBe(evil);
    expect(fields.env).toBe(`X=${evil}`);
    expect(fields.args).toContain(evil);
  });

  it('keeps each env entry a line of its own, so a value with a line break is not a second entry', () => {
    const current = side({ manifest: manifest({ env: { A: '1\nB=2', C: '3' } }) });
    const env = buildReview(input({ current })).manifestFields.find((f) => f.field === 'env');
    expect(env?.lines).toEqual(['A=1\nB=2', 'C=3']);
  });

  it('flags hidden characters in signer and module text, naming where and which', () => {
    const plain = buildReview(input());
    expect(plain.flags.find((f) => f.flag === 'hidden-text')).toBeUndefined();
    const current = side({
      manifest: manifest({
        publisher: 'Acme\u200bCorp',
        description: 'two\nlines\tand a tab',
        env: { MODE: 'fast\u202e' }
      }),
      inspection: {
        ...fixture('hello.wasm'),
        exports: [{ name: 'run\u2066', kind: 'func', index: 0 }]
      }
    });
    const flag = buildReview(input({ current })).flags.find((f) => f.flag === 'hidden-text');
    expect(flag?.severity).toBe('review');
    expect(flag?.message).toContain('publisher, env, export names:');
    expect(flag?.message).toContain('U+200B ZERO WIDTH SPACE');
    expect(flag?.message).toContain('U+202E RIGHT-TO-LEFT OVERRIDE');
    expect(flag?.message).toContain('U+2066 LEFT-TO-RIGHT ISOLATE');
    // The description's line break and tab are layout, not hidden text.
    expect(flag?.message).not.toContain('description');
    const many = side({
      manifest: manifest({ publisher: '\u200b\u200e\u200f\u2060\u2061\u2062' })
    });
    expect(buildReview(input({ current: many })).flags[0]?.message).toContain('and 2 more');
  });

  it('flags an entry the exports disagree with (entry-mismatch), and nothing when they agree', () => {
    const flagOf = (entry: 'command' | 'reactor', file: string) =>
      buildReview(
        input({ current: side({ manifest: manifest({ entry }), inspection: fixture(file) }) })
      ).flags.find((f) => f.flag === 'entry-mismatch');
    expect(flagOf('command', 'hello.wasm')).toBeUndefined();
    expect(flagOf('reactor', 'reactor.wasm')).toBeUndefined();
    // A "reactor" that is a command: signed as a library, its _start would never run.
    expect(flagOf('reactor', 'hello.wasm')).toEqual({
      flag: 'entry-mismatch',
      severity: 'review',
      message:
        'The manifest says reactor, but the module exports _start and no _initialize: it is built as a command. As a reactor only _initialize is called, so its _start never runs.'
    });
    expect(flagOf('command', 'reactor.wasm')).toMatchObject({
      severity: 'review',
      message:
        'The manifest says command, but the module exports no _start (it exports _initialize: a reactor): it will not run.'
    });
    // Without a manifest (or an inspection) there is nothing to compare.
    const bare = side({ manifest: null, inspection: fixture('reactor.wasm') });
    expect(buildReview(input({ current: bare })).flags).toEqual([]);
  });

  it('clips module names past MAX_NAME_SHOWN, saying how much was left out, never half a pair', () => {
    const huge = '\u200b'.repeat(5_000_000);
    const current = side({
      inspection: { ...fixture('hello.wasm'), exports: [{ name: huge, kind: 'func', index: 0 }] }
    });
    const model = buildReview(input({ current }));
    expect(model.exports[0]!.name).toBe(
      `${'\u200b'.repeat(MAX_NAME_SHOWN)}… (${5_000_000 - MAX_NAME_SHOWN} more characters not shown)`
    );
    expect(model.flags.find((f) => f.flag === 'hidden-text')?.message).toContain('export names');
    const pair = 'a' + '😀'.repeat(MAX_NAME_SHOWN);
    expect(clipName(pair)).toMatch(/^a(😀)+… \(\d+ more characters not shown\)$/u);
    expect(clipName('short')).toBe('short');
  });

  it('flags a memory the runtime will refuse, before anyone approves', () => {
    const hello = fixture('hello.wasm');
    const memory = hello.memories[0]!;
    expect(buildReview(input()).flags.find((f) => f.flag === 'memory-refused')).toBeUndefined();
    const shared = side({ inspection: { ...hello, memories: [{ ...memory, shared: true }] } });
    expect(
      buildReview(input({ current: shared })).flags.find((f) => f.flag === 'memory-refused')
    ).toMatchObject({
      severity: 'review',
      message:
        'Approved or not, this module will not run: memory 0 is a shared memory (wasm.memory-shared).'
    });
    // 64 MiB granted is 1,024 pages: a memory starting at 2,000 pages cannot run under it.
    const big = side({ inspection: { ...hello, memories: [{ ...memory, min: 2000 }] } });
    expect(
      buildReview(input({ current: big })).flags.find((f) => f.flag === 'memory-refused')?.message
    ).toContain('starts at 2000 pages');
    // Nothing granted yet: measured against the most the policy could grant (512 MiB).
    expect(
      buildReview(input({ current: big, granted: null })).flags.find(
        (f) => f.flag === 'memory-refused'
      )
    ).toBeUndefined();
  });

  it('puts drift and rollback first among the flags and leaves info out', () => {
    const reasons: PolicyReason[] = [
      { rule: 'signerTrust', code: 'policy.signer-review', message: 'r', severity: 'review' },
      { rule: 'mode', code: 'policy.mode-review', message: 'i', severity: 'info' },
      { rule: 'rollback', code: 'policy.rollback', message: 'older', severity: 'review' },
      { rule: 'drift', code: 'policy.drift', message: 'drifted', severity: 'deny' }
    ];
    const model = buildReview(input({ reasons }));
    expect(model.flags.map((f) => f.flag)).toEqual(['drift', 'rollback', 'signer-review']);
  });

  const diffCases: {
    name: string;
    previous: ReviewSide;
    current: ReviewSide;
    check: (d: NonNullable<ReturnType<typeof buildReview>['diff']>) => void;
  }[] = [
    {
      name: 'same module: nothing changed',
      previous: side(),
      current: side(),
      check: (d) => expect(d.same).toBe(true)
    },
    {
      name: 'a different module: size, imports, exports and capabilities',
      previous: side({ size: 100, manifest: manifest({ capabilities: ['args'] }) }),
      current: side({
        moduleSha256: 'bb'.repeat(32),
        size: 150,
        inspection: fixture('env-print.wasm'),
        manifest: manifest({ capabilities: ['env'] })
      }),
      check: (d) => {
        expect(d.same).toBe(false);
        expect(d.sizeChange).toBe(50);
        expect(d.importsAdded).toContain('wasi_snapshot_preview1.environ_get');
        expect(d.capabilitiesAdded).toEqual(['env']);
        expect(d.capabilitiesRemoved).toEqual(['args']);
      }
    },
    {
      name: 'exports removed (reactor after command)',
      previous: side(),
      current: side({ inspection: fixture('reactor.wasm'), moduleSha256: 'cc'.repeat(32) }),
      check: (d) => {
        expect(d.exportsRemoved).toContain('_start (func)');
        expect(d.exportsAdded.length).toBeGreaterThan(0);
      }
    },
    {
      name: 'limits changed, including from default',
      previous: side({ manifest: manifest({ limits: { timeoutMs: 100 } }) }),
      current: side({ manifest: manifest({ limits: { timeoutMs: 200, memoryMiB: 8 } }) }),
      check: (d) =>
        expect(d.limitsChanged).toEqual([
          { name: 'timeoutMs', before: 100, after: 200 },
          { name: 'memoryMiB', before: null, after: 8 }
        ])
    }
  ];
  for (const c of diffCases) {
    it(`diff: ${c.name}`, () => {
      const model = buildReview(input({ current: c.current, previous: c.previous }));
      expect(model.diff).not.toBeNull();
      c.check(model.diff!);
    });
  }

  it('without a manifest, inspection or previous version, the parts are empty', () => {
    const model = buildReview(
      input({ current: side({ manifest: null, inspection: null }), granted: null })
    );
    expect(model.manifestFields).toEqual([]);
    expect(model.importGroups).toEqual([]);
    expect(model.inspected).toBe(false);
    expect(model.diff).toBeNull();
    expect(model.limits.every((r) => r.granted === null)).toBe(true);
  });

  it('lists custom sections with their sizes', () => {
    const inspection = fixture('hello.wasm');
    const model = buildReview(input({ current: side({ inspection }) }));
    const expected = inspection.sections.filter((s) => s.name === 'custom');
    expect(model.customSections.map((s) => s.name)).toEqual(expected.map((s) => s.customName));
    expect(model.customSections.every((s) => s.size > 0)).toBe(true);
  });
});

describe('grant ceilings', () => {
  const a = {
    limits: { timeoutMs: 5000, memoryMiB: 64, outputBytes: 1000, fsBytes: 10 },
    capabilities: ['args', 'env', 'stdin'] as CapabilityGroup[]
  };
  const b = {
    limits: { timeoutMs: 9000, memoryMiB: 32, outputBytes: 1000, fsBytes: 99 },
    capabilities: ['env', 'stdin', 'clock'] as CapabilityGroup[]
  };
  it('narrowGrant keeps the smaller of each limit and the capabilities both give', () => {
    expect(narrowGrant(a, b)).toEqual({
      limits: { timeoutMs: 5000, memoryMiB: 32, outputBytes: 1000, fsBytes: 10 },
      capabilities: ['env', 'stdin']
    });
  });
  it('lowerGrant refuses a limit the ceiling has no value for', () => {
    const holey = { ...a, limits: { ...a.limits, fsBytes: undefined as unknown as number } };
    const result = lowerGrant(holey, { limits: { fsBytes: 5 } });
    expect(result.ok).toBe(false);
  });
});
