// Audit records and the hash chain (src/lib/core/audit/record.ts). The vector file
// tests/fixtures/audit/chain.json holds hand-written canonical encodings; their hashes are
// recomputed here with node:crypto, independently of the code under test.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../../src/lib/core/json';
import type { JsonObject } from '../../src/lib/core/json';
import {
  AUDIT_EVENTS,
  GENESIS_HASH,
  createRecord,
  encodeRecord,
  encodeRecordText,
  hashRecord,
  readRecord
} from '../../src/lib/core/audit/record';
import { verifyChain } from '../../src/lib/core/audit/chain';
import type { AuditRecord, AuditRecordInput, ChainLink } from '../../src/lib/core/audit/record';

interface Vector {
  input: AuditRecordInput;
  seq: number;
  prevHash: string;
  encoding: string;
  encodingUtf8Hex: string;
  hash: string;
}
const VECTORS = (
  JSON.parse(readFileSync(new URL('../fixtures/audit/chain.json', import.meta.url), 'utf8')) as {
    records: Vector[];
  }
).records;

const nodeSha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const withoutHash = ({ hash: _hash, ...rest }: AuditRecord) => rest;

function buildChain(inputs: AuditRecordInput[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const input of inputs) out.push(createRecord(out.at(-1) ?? null, input));
  return out;
}

const KEY = 'ab'.repeat(32);
const sample = (i: number): AuditRecordInput => ({
  time: 1_767_225_600_000 + i * 1000,
  event: AUDIT_EVENTS[i % AUDIT_EVENTS.length]!,
  subject: i % 2 === 0 ? { requestId: `req-${i}`, keyIds: [KEY] } : { runId: `run-${i}` },
  details: { i, label: `record ${i}`, nested: { b: [i, 'x'], a: null } }
});
const CHAIN = buildChain(Array.from({ length: 10 }, (_, i) => sample(i)));

describe('chain vectors (tests/fixtures/audit/chain.json)', () => {
  it('the vector file is self-consistent under node:crypto', () => {
    let prev = GENESIS_HASH;
    for (const v of VECTORS) {
      expect(Buffer.from(v.encoding, 'utf8').toString('hex'), `record ${v.seq}`).toBe(
        v.encodingUtf8Hex
      );
      expect(nodeSha256(Buffer.from(v.encodingUtf8Hex, 'hex')), `record ${v.seq}`).toBe(v.hash);
      expect(v.prevHash, `record ${v.seq}`).toBe(prev);
      prev = v.hash;
    }
  });

  it('createRecord reproduces every encoding and hash exactly', () => {
    let prev: ChainLink | null = null;
    for (const v of VECTORS) {
      const record = createRecord(prev, v.input);
      expect(record.seq).toBe(v.seq);
      expect(record.prevHash).toBe(v.prevHash);
      expect(encodeRecordText(withoutHash(record)), `record ${v.seq}`).toBe(v.encoding);
      expect(Buffer.from(encodeRecord(withoutHash(record))).toString('hex')).toBe(
        v.encodingUtf8Hex
      );
      expect(record.hash, `record ${v.seq}`).toBe(v.hash);
      expect(hashRecord(withoutHash(record))).toBe(v.hash);
      prev = record;
    }
  });

  it('verifies, and notes (not fails) the clock going back at record 2', () => {
    const chain = buildChain(VECTORS.map((v) => v.input));
    const result = verifyChain(chain);
    expect(result).toEqual({
      ok: true,
      count: 4,
      head: { seq: 3, hash: VECTORS[3]!.hash },
      notes: [expect.objectContaining({ code: 'audit.time-backwards' })]
    });
  });

  it('keeps __proto__ as a plain details key (no prototype change)', () => {
    const record = createRecord(null, VECTORS[2]!.input);
    expect(Object.getPrototypeOf(record.details)).toBe(Object.prototype);
    expect(Object.hasOwn(record.details, '__proto__')).toBe(true);
    expect(Object.keys(record.details)).toEqual([
      '',
      'A',
      '__proto__',
      'a',
      'granted',
      'z',
      '😀',
      '｡'
    ]);
  });
});

describe('createRecord', () => {
  it('copies its input in canonical form', () => {
    const details: JsonObject = { b: 1, a: { d: [1], c: 'x' } };
    const subject = { requestId: 'r' };
    const record = createRecord(null, { time: 5, event: 'intake', subject, details });
    (details.a as JsonObject).c = 'changed';
    subject.requestId = 'changed';
    expect(record.details).toEqual({ a: { c: 'x', d: [1] }, b: 1 });
    expect(Object.keys(record.details)).toEqual(['a', 'b']);
    expect(record.subject).toEqual({ requestId: 'r' });
    expect(verifyChain([record]).ok).toBe(true);
  });

  it('encodes an empty subject and empty details', () => {
    const record = createRecord(null, { time: 0, event: 'audit.check', subject: {}, details: {} });
    expect(encodeRecordText(withoutHash(record))).toBe(
      `{"seq":0,"time":0,"event":"audit.check","subject":{},"details":{},"prevHash":"${GENESIS_HASH}"}`
    );
    expect(record.hash).toBe(nodeSha256(encodeRecord(withoutHash(record))));
  });

  const base: AuditRecordInput = { time: 1, event: 'intake', subject: {}, details: {} };
  const refused: [string, unknown][] = [
    ['a fraction', { ...base, details: { x: 1.5 } }],
    ['NaN', { ...base, details: { x: NaN } }],
    ['Infinity', { ...base, details: { x: Infinity } }],
    ['-0', { ...base, details: { x: -0 } }],
    ['an unsafe integer', { ...base, details: { x: 2 ** 53 } }],
    ['undefined', { ...base, details: { x: undefined } }],
    ['a bigint', { ...base, details: { x: 1n } }],
    ['a function', { ...base, details: { x: () => 1 } }],
    ['a Date', { ...base, details: { x: new Date(0) } }],
    ['a Map', { ...base, details: { x: new Map() } }],
    ['a sparse array', { ...base, details: { x: [1, , 3] } }],
    ['a lone surrogate in a value', { ...base, details: { x: 'a\ud800b' } }],
    ['a lone surrogate in a key', { ...base, details: { ['\udc00']: 1 } }],
    [
      'nesting deeper than 32',
      { ...base, details: { x: JSON.parse('['.repeat(33) + ']'.repeat(33)) } }
    ],
    ['details an array', { ...base, details: [] }],
    ['a fractional time', { ...base, time: 1.5 }],
    ['a negative time', { ...base, time: -1 }],
    ['time -0', { ...base, time: -0 }],
    ['an unknown event', { ...base, event: 'run.exploded' }],
    ['an unknown subject field', { ...base, subject: { user: 'x' } }],
    ['an empty requestId', { ...base, subject: { requestId: '' } }],
    ['a subject field present as undefined', { ...base, subject: { runId: undefined } }],
    ['uppercase moduleSha256', { ...base, subject: { moduleSha256: 'AB'.repeat(32) } }],
    ['short moduleSha256', { ...base, subject: { moduleSha256: 'ab' } }],
    ['empty keyIds', { ...base, subject: { keyIds: [] } }],
    ['a bad key id', { ...base, subject: { keyIds: ['nothex'] } }]
  ];
  it.each(refused)('refuses %s with a TypeError', (_what, input) => {
    expect(() => createRecord(null, input as AuditRecordInput)).toThrow(TypeError);
  });

  it('allows nesting of exactly 32 levels', () => {
    const deep = JSON.parse('['.repeat(31) + ']'.repeat(31)) as JsonObject;
    expect(() => createRecord(null, { ...base, details: { x: deep } })).not.toThrow();
  });

  it('refuses a malformed prev', () => {
    expect(() => createRecord({ seq: 0, hash: 'x' }, base)).toThrow(TypeError);
    expect(() => createRecord({ seq: -1, hash: GENESIS_HASH }, base)).toThrow(TypeError);
  });

  it('encodes like JSON.stringify of the canonically ordered record (fast-check)', () => {
    const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      value: fc.oneof(
        { maxDepth: 4 },
        fc.constant(null),
        fc.boolean(),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'binary' }).filter((s) => !/[\ud800-\udfff]/u.test(s)),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: 'binary-ascii' }), tie('value'), { maxKeys: 4 })
      )
    })).value;
    // A reference written from the spec: keys sorted by UTF-16 code units, JSON.stringify for
    // strings and numbers. (JSON.stringify on a whole object would not do: it puts integer-like
    // keys such as "0" first whatever their order.)
    const canonical = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
      if (value === null || typeof value !== 'object') return JSON.stringify(value);
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(object[k])}`).join(',')}}`;
    };
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json, { maxKeys: 5 }), (details) => {
        const record = createRecord(null, { ...base, details: details as JsonObject });
        const expected = `{"seq":0,"time":1,"event":"intake","subject":{},"details":${canonical(
          details
        )},"prevHash":"${GENESIS_HASH}"}`;
        expect(encodeRecordText(withoutHash(record))).toBe(expected);
        expect(record.hash).toBe(nodeSha256(Buffer.from(expected, 'utf8')));
        // The stored copy encodes to the same text (nothing lost in the canonical copy).
        const reparsed = parseJson(JSON.stringify(record));
        expect(reparsed.ok && readRecord(reparsed.value).ok).toBe(true);
        expect(verifyChain([record]).ok).toBe(true);
      }),
      { numRuns: 300 }
    );
  });
});

describe('verifyChain finds the first bad record and says why', () => {
  const tamper = (edit: (chain: AuditRecord[]) => void) => {
    const copy = structuredClone(CHAIN);
    edit(copy);
    return verifyChain(copy);
  };
  const fails = (seq: number, code: string) => ({
    ok: false,
    seq,
    reason: expect.objectContaining({ code }) as unknown
  });

  it('accepts the intact chain, from genesis and from an anchor', () => {
    expect(verifyChain(CHAIN)).toMatchObject({ ok: true, count: 10, head: { seq: 9 }, notes: [] });
    const anchor = { seq: 4, hash: CHAIN[4]!.hash };
    expect(verifyChain(CHAIN.slice(5), anchor)).toMatchObject({ ok: true, count: 5 });
    expect(verifyChain([], anchor)).toEqual({ ok: true, count: 0, head: anchor, notes: [] });
    expect(verifyChain([])).toEqual({ ok: true, count: 0, head: null, notes: [] });
  });

  it('an edited record: audit.record-hash at its seq', () => {
    expect(tamper((c) => ((c[3]!.details as JsonObject).i = 99))).toEqual(
      fails(3, 'audit.record-hash')
    );
    expect(tamper((c) => (c[6]!.time += 1))).toEqual(fails(6, 'audit.record-hash'));
    expect(tamper((c) => (c[2]!.event = 'verdict'))).toEqual(fails(2, 'audit.record-hash'));
    expect(tamper((c) => (c[4]!.prevHash = c[4]!.hash))).toEqual(fails(4, 'audit.record-hash'));
  });

  it('an edited record with its hash recomputed: audit.record-link at the next seq', () => {
    const result = tamper((c) => {
      (c[3]!.details as JsonObject).i = 99;
      c[3]!.hash = hashRecord(withoutHash(c[3]!));
    });
    expect(result).toEqual(fails(4, 'audit.record-link'));
  });

  it('a removed record: audit.record-missing at its seq', () => {
    expect(tamper((c) => c.splice(5, 1))).toEqual(fails(5, 'audit.record-missing'));
    expect(tamper((c) => c.splice(0, 1))).toEqual(fails(0, 'audit.record-missing'));
  });

  it('a removed record with the rest renumbered and rehashed: audit.record-link', () => {
    const chain = CHAIN.slice(0, 5);
    const rest = buildChain(
      CHAIN.slice(6).map(({ time, event, subject, details }) => ({ time, event, subject, details }))
    );
    // Re-link the tail onto record 4 as if record 5 had never existed.
    let prev: ChainLink = chain[4]!;
    for (const r of rest) {
      const next = createRecord(prev, r);
      chain.push(next);
      prev = next;
    }
    chain[5] = { ...chain[5]!, prevHash: CHAIN[5]!.hash };
    chain[5]!.hash = hashRecord(withoutHash(chain[5]!));
    expect(verifyChain(chain)).toEqual(fails(5, 'audit.record-link'));
  });

  it('a reordered pair: audit.record-order at the first seq out of place', () => {
    expect(tamper((c) => ([c[6], c[7]] = [c[7]!, c[6]!]))).toEqual(fails(6, 'audit.record-order'));
  });

  it('a repeated record: audit.record-repeat', () => {
    expect(tamper((c) => c.splice(4, 0, c[3]!))).toEqual(fails(4, 'audit.record-repeat'));
  });

  it('a wrong genesis or anchor: audit.record-link', () => {
    expect(verifyChain(CHAIN.slice(5), { seq: 4, hash: CHAIN[3]!.hash })).toEqual(
      fails(5, 'audit.record-link')
    );
    expect(verifyChain(CHAIN.slice(5))).toEqual(fails(0, 'audit.record-missing'));
  });

  it('a malformed record: audit.record-malformed', () => {
    expect(tamper((c) => ((c[2] as unknown as { seq: string }).seq = '2'))).toEqual(
      fails(2, 'audit.record-malformed')
    );
    expect(tamper((c) => (c[3]!.hash = c[3]!.hash.toUpperCase()))).toEqual(
      fails(3, 'audit.record-malformed')
    );
    expect(tamper((c) => ((c[1]!.details as JsonObject).f = 0.5))).toEqual(
      fails(1, 'audit.record-malformed')
    );
    expect(tamper((c) => (c[8] = null as unknown as AuditRecord))).toEqual(
      fails(8, 'audit.record-malformed')
    );
  });

  it('misuse throws TypeError', () => {
    expect(() => verifyChain('x' as unknown as AuditRecord[])).toThrow(TypeError);
    expect(() => verifyChain(CHAIN, { seq: 1, hash: 'nope' })).toThrow(TypeError);
  });
});

describe('performance', () => {
  it('verifies a 100,000-record chain (timing printed, not asserted)', () => {
    const inputs = Array.from({ length: 100_000 }, (_, i) => ({
      ...sample(i),
      details: {
        exitCode: 0,
        durationMs: i,
        outcome: 'exit',
        limits: { timeoutMs: 5000, memoryMiB: 64 }
      }
    }));
    const chain = buildChain(inputs);
    const encoded = chain.map((r) => encodeRecord(withoutHash(r)));
    const bytes = encoded.reduce((sum, e) => sum + e.length, 0);
    let started = performance.now();
    const result = verifyChain(chain);
    const verifyMs = performance.now() - started;
    expect(result.ok).toBe(true);
    started = performance.now();
    for (const e of encoded) createHash('sha256').update(e).digest();
    const nodePerRecordMs = performance.now() - started;
    const all = Buffer.concat(encoded);
    started = performance.now();
    createHash('sha256').update(all).digest();
    const nodeBulkMs = performance.now() - started;
    started = performance.now();
    for (const e of encoded) nobleSha256(e);
    const noblePerRecordMs = performance.now() - started;
    started = performance.now();
    nobleSha256(all);
    const nobleBulkMs = performance.now() - started;
    console.log(
      `verifyChain: 100,000 records (${(bytes / 1e6).toFixed(1)} MB encoded) in ${verifyMs.toFixed(0)} ms; ` +
        `node:crypto SHA-256 over the same bytes: ${nodePerRecordMs.toFixed(0)} ms one hash per record, ` +
        `${nodeBulkMs.toFixed(0)} ms as one buffer; @noble/hashes (what the log uses) ` +
        `${noblePerRecordMs.toFixed(0)} ms one hash per record, ${nobleBulkMs.toFixed(0)} ms as one buffer`
    );
  }, 120_000);
});
