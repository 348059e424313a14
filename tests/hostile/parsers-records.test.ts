/**
 * Hostile input for the documents Night Core reads back: policy JSON, audit exports (JSONL and
 * signed checkpoint notes), audit records, and run receipts. Random text, JSON-shaped values and
 * mutated valid documents come back as errors or reasons, never as an exception; policies,
 * exports, checkpoints and receipts written by the app read back to what was written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseSignedCheckpoint,
  signCheckpoint,
  verifySignedCheckpoint
} from '../../src/lib/core/audit/checkpoint';
import { buildExport } from '../../src/lib/core/audit/export';
import { verifyExport } from '../../src/lib/core/audit/export-verify';
import { MerkleTree, leafHash } from '../../src/lib/core/audit/merkle';
import {
  createRecord,
  encodeCanonicalJson,
  readRecord,
  type AuditRecord
} from '../../src/lib/core/audit/record';
import { fromHex } from '../../src/lib/core/bytes';
import { parseJson } from '../../src/lib/core/json';
import {
  DEFAULT_POLICY,
  LIMIT_BOUNDS,
  POLICY_LIMIT_NAMES,
  parsePolicy,
  type Policy
} from '../../src/lib/core/policy/document';
import {
  buildReceipt,
  parseSignedReceipt,
  signReceipt,
  verifyReceipt,
  RECEIPT_STATUSES
} from '../../src/lib/core/receipt';
import {
  anyText,
  attempt,
  attemptAsync,
  mutatedText,
  params,
  property,
  reportCounts,
  roundTrip
} from './harness';
import { DEVICE_PUBLIC_KEY, DEVICE_SIGNER, receiptInput } from './receipt-fixture';

reportCounts(import.meta.url);

const choice = fc.constantFrom('reject', 'review') as fc.Arbitrary<'reject' | 'review'>;
const hash = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'));
const limitsPair = fc
  .tuple(
    ...POLICY_LIMIT_NAMES.map((name) =>
      fc
        .tuple(
          fc.integer({ min: 1, max: LIMIT_BOUNDS[name].max }),
          fc.integer({ min: 1, max: LIMIT_BOUNDS[name].max })
        )
        .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)
    )
  )
  .map((pairs) => ({
    defaults: Object.fromEntries(POLICY_LIMIT_NAMES.map((n, i) => [n, pairs[i]![0]])),
    maximum: Object.fromEntries(POLICY_LIMIT_NAMES.map((n, i) => [n, pairs[i]![1]]))
  })) as fc.Arbitrary<Policy['limits']>;

/** Policies the app could have written: every field in range, defaults under maximums. */
const validPolicy: fc.Arbitrary<Policy> = fc
  .record({
    version: fc.integer({ min: 1, max: 1_000_000 }),
    name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,40}$/),
    maxConcurrentRuns: fc.integer({ min: 1, max: 16 }),
    unsigned: choice,
    unknownSigner: choice,
    threshold: fc.integer({ min: 1, max: 16 }),
    maxModuleBytes: fc.integer({ min: 1, max: 1024 * 1024 * 1024 }),
    limits: limitsPair,
    allowedCapabilities: fc.subarray([
      'args',
      'env',
      'clock',
      'random',
      'stdin',
      'fs-read',
      'fs-write'
    ] as const),
    blockedHashes: fc.uniqueArray(hash, { maxLength: 3 }),
    pinnedHashes: fc.uniqueArray(hash, { maxLength: 3 }),
    rollback: choice,
    drift: choice,
    foreignImports: choice
  })
  .map((p) => ({
    ...p,
    allowedCapabilities: [...p.allowedCapabilities],
    expiredBundles: 'reject' as const
  }));

describe('policy documents', () => {
  it('parsePolicy returns field errors for any text, JSON value or damaged policy, never throws; what it accepts can be audited', () => {
    property('parsePolicy', 'no throw');
    const shaped = fc
      .dictionary(
        fc.constantFrom(...Object.keys(DEFAULT_POLICY), 'tenants', '__proto__', 'x'),
        fc.jsonValue({ maxDepth: 3 })
      )
      .map((patch) => JSON.stringify({ ...DEFAULT_POLICY, ...patch }));
    // A name pasted into the editor as raw text (JSON.stringify would escape a lone surrogate).
    // (fast-check's 'binary' strings hold whole code points only: lone surrogates are added.)
    const rawName = fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('', '\uD800', '\uDFFF'), fc.string())
      .map((parts) => parts.join('').replace(/["\\\u0000-\u001f]/g, ''))
      .map((name) => JSON.stringify({ ...DEFAULT_POLICY, name: '@' }).replace('"@"', `"${name}"`));
    fc.assert(
      fc.property(
        fc.oneof(anyText, shaped, rawName, mutatedText(JSON.stringify(DEFAULT_POLICY, null, 2))),
        (text) => {
          const r = attempt('parsePolicy', () => parsePolicy(text));
          if (r.threw) throw r.error;
          if (!r.value.ok) expect(r.value.errors.length).toBeGreaterThan(0);
          // A policy accepted here is saved with an audit record naming it: that must encode.
          else encodeCanonicalJson({ name: r.value.policy.name, policy: r.value.policy as never });
        }
      ),
      params(2)
    );
  });

  it('serialize-then-parse gives back the same policy (and a parsed policy re-serializes stably)', () => {
    property('parsePolicy', 'serialize-then-parse');
    fc.assert(
      fc.property(validPolicy, fc.boolean(), (policy, pretty) => {
        const text = pretty ? JSON.stringify(policy, null, 2) : JSON.stringify(policy);
        const r = attempt('parsePolicy', () => parsePolicy(text));
        if (r.threw) throw r.error;
        if (!r.value.ok) throw new Error(`valid policy refused: ${JSON.stringify(r.value.errors)}`);
        expect(r.value.policy).toEqual(policy);
        const again = parsePolicy(JSON.stringify(r.value.policy));
        expect(again.ok && again.policy).toEqual(policy);
        roundTrip('parsePolicy');
      }),
      params()
    );
  });
});

const ORIGIN = 'nightcore.test/hostile';
const DEVICE = { name: 'nightcore-device-hostile', publicKey: DEVICE_PUBLIC_KEY };
const noteSigner = { ...DEVICE_SIGNER, name: DEVICE.name };

function records(n: number, seed: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      createRecord(out.at(-1) ?? null, {
        time: 1_767_225_600_000 + i * 250 + seed,
        event: (['run.started', 'run.finished', 'decision'] as const)[(i + seed) % 3]!,
        subject: { requestId: `req-${i}`, runId: `run-${seed}-${i}` },
        details: { exitCode: i, note: `seed ${seed}` }
      })
    );
  }
  return out;
}

async function exportOf(
  list: AuditRecord[],
  selection: Parameters<typeof buildExport>[1]['selection']
) {
  const root = MerkleTree.fromLeafHashes(list.map((r) => leafHash(fromHex(r.hash)))).root();
  const note = await signCheckpoint({ origin: ORIGIN, size: list.length, root }, noteSigner);
  return buildExport(list, { origin: ORIGIN, deviceKey: DEVICE, checkpointNote: note, selection });
}

const SAMPLE = await exportOf(records(6, 1), 'all');

describe('audit exports, records and checkpoints', () => {
  it('verifyExport, readRecord, parseSignedCheckpoint and verifySignedCheckpoint never throw', () => {
    for (const name of [
      'verifyExport',
      'readRecord',
      'parseSignedCheckpoint',
      'verifySignedCheckpoint'
    ]) {
      property(name, 'no throw');
    }
    fc.assert(
      fc.property(
        fc.oneof(anyText, mutatedText(SAMPLE.jsonl)),
        fc.oneof(anyText, mutatedText(SAMPLE.checkpoint)),
        (jsonl, note) => {
          const r = attempt('verifyExport', () =>
            verifyExport(jsonl, { checkpoint: note, publicKey: DEVICE_PUBLIC_KEY })
          );
          if (r.threw) throw r.error;
          if (!r.value.ok) expect(r.value.reason.code).toMatch(/^audit\./);
          expect(attempt('verifyExport', () => verifyExport(jsonl)).threw).toBe(false);
          expect(attempt('parseSignedCheckpoint', () => parseSignedCheckpoint(note)).threw).toBe(
            false
          );
          const v = attempt('verifySignedCheckpoint', () =>
            verifySignedCheckpoint(note, { publicKey: DEVICE_PUBLIC_KEY })
          );
          if (v.threw) throw v.error;
          // A damaged note verifies only if its body (what is signed) is the original one.
          if (v.value.ok) expect(note.startsWith(SAMPLE.checkpoint.split('\n\n')[0]!)).toBe(true);
        }
      ),
      params()
    );
    const lines = SAMPLE.jsonl.split('\n').slice(1, -1);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          ...lines.map((l) =>
            mutatedText(l).map((t) => {
              const json = parseJson(t);
              return json.ok ? json.value : t;
            })
          )
        ),
        (value) => {
          expect(attempt('readRecord', () => readRecord(value)).threw).toBe(false);
        }
      ),
      params()
    );
  });

  it('exports of random logs (full, range, filtered) verify against the device key', async () => {
    property('verifyExport', 'build-then-verify');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 24 }),
        fc.nat(),
        fc.nat(),
        fc.nat(2),
        async (n, seed, pick, kind) => {
          const list = records(n, seed % 1000);
          const from = pick % n;
          const selection =
            kind === 0 ? ('all' as const) : kind === 1 ? { from, to: n - 1 } : { seqs: [from] };
          const out = await exportOf(list, selection);
          const r = attempt('verifyExport', () =>
            verifyExport(out.jsonl, { checkpoint: out.checkpoint, publicKey: DEVICE_PUBLIC_KEY })
          );
          if (r.threw) throw r.error;
          if (!r.value.ok) throw new Error(`export refused: ${JSON.stringify(r.value.reason)}`);
          expect(r.value.checkpointVerified).toBe(true);
          expect(r.value.treeSize).toBe(n);
          roundTrip('verifyExport');
        }
      ),
      params(0.25)
    );
  });

  it('signed checkpoints of random origins, sizes and roots verify and parse back', async () => {
    property('verifySignedCheckpoint', 'sign-then-verify');
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9._\/-]{1,60}$/),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (origin, size, root) => {
          const note = await signCheckpoint({ origin, size, root }, noteSigner);
          const r = attempt('verifySignedCheckpoint', () =>
            verifySignedCheckpoint(note, { publicKey: DEVICE_PUBLIC_KEY, origin })
          );
          if (r.threw || !r.value.ok) throw new Error('checkpoint refused');
          expect(r.value.checkpoint).toEqual({ origin, size, root });
          const parsed = parseSignedCheckpoint(note);
          expect(parsed.ok && parsed.checkpoint).toEqual({ origin, size, root });
          roundTrip('verifySignedCheckpoint');
        }
      ),
      params(0.5)
    );
  });
});

describe('run receipts', () => {
  it('buildReceipt refuses out-of-range fields with TypeError only', () => {
    property('buildReceipt', 'TypeError only');
    const field = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.double(),
      fc.integer(),
      fc.constant(null),
      fc.constant(-0)
    );
    const patch = fc.dictionary(
      fc.constantFrom(
        'name',
        'version',
        'requestId',
        'runId',
        'status',
        'exitCode',
        'message',
        'durationMs',
        'peakMemoryBytes',
        'moduleSize',
        'startedAt',
        'endedAt',
        'moduleSha256'
      ),
      field
    );
    fc.assert(
      fc.property(patch, (values) => {
        attempt('buildReceipt', () => buildReceipt(receiptInput(values as never)), [TypeError]);
      }),
      params()
    );
  });

  it('parseSignedReceipt and verifyReceipt never throw on random or damaged receipts', async () => {
    property('parseSignedReceipt', 'no throw');
    property('verifyReceipt', 'no throw');
    const text = await signReceipt(buildReceipt(receiptInput()), DEVICE_SIGNER);
    fc.assert(
      fc.property(fc.oneof(anyText, mutatedText(text)), (input) => {
        const p = attempt('parseSignedReceipt', () => parseSignedReceipt(input));
        if (p.threw) throw p.error;
        if (!p.value.ok) expect(p.value.reason.code).toMatch(/^receipt\./);
        const v = attempt('verifyReceipt', () => verifyReceipt(input, DEVICE_PUBLIC_KEY));
        if (v.threw) throw v.error;
        // Every byte of a receipt file is signed or checked: only the original verifies.
        expect(v.value.ok).toBe(input === text);
      }),
      params(2)
    );
  });

  it('receipts with random outcomes are written, read back equal, and verify', async () => {
    property('parseSignedReceipt', 'write-then-read');
    property('verifyReceipt', 'sign-then-verify');
    const input = fc.record({
      runId: fc.uuid(),
      requestId: fc.string({ minLength: 1, maxLength: 40 }),
      // The app's names come from parsed manifests: never empty (buildReceipt refuses "").
      name: fc.option(fc.string({ minLength: 1, maxLength: 60 })),
      status: fc.constantFrom(...RECEIPT_STATUSES),
      exitCode: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
      message: fc.option(fc.string({ maxLength: 200, unit: 'grapheme' })),
      durationMs: fc.option(fc.double({ min: 0, max: 1e9, noNaN: true })),
      truncated: fc.boolean(),
      policy: fc.boolean()
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ policy, ...patch }) => {
        const receipt = buildReceipt(
          receiptInput({ ...patch, ...(policy ? { decision: null } : {}) })
        );
        const text = await signReceipt(receipt, DEVICE_SIGNER);
        const p = attempt('parseSignedReceipt', () => parseSignedReceipt(text));
        if (p.threw || !p.value.ok) throw new Error('receipt refused by its own reader');
        expect(p.value.signed.receipt).toEqual(receipt);
        roundTrip('parseSignedReceipt');
        const v = attempt('verifyReceipt', () => verifyReceipt(text, DEVICE_PUBLIC_KEY));
        if (v.threw) throw v.error;
        expect(v.value.reasons).toEqual([]);
        roundTrip('verifyReceipt');
      }),
      params(0.5)
    );
  });
});
