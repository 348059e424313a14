// The audit export (src/lib/core/audit/export.ts): JSONL + signed checkpoint, verified offline.
// Every tamper class of issue 4 is detected with the exact seq, line and reason code: a flipped
// byte (every byte of a small export and of its checkpoint is tried), a removed record, a
// reordered pair, a forged checkpoint signature, a truncated file.
import { createHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { signCheckpoint } from '../../src/lib/core/audit/checkpoint';
import { buildExport, exportSteps } from '../../src/lib/core/audit/export';
import type { ExportStep } from '../../src/lib/core/audit/export';
import { proveInclusion, verifyExport } from '../../src/lib/core/audit/export-verify';
import type { ExportSelection, VerifyExportOptions } from '../../src/lib/core/audit/export';
import { MerkleTree, leafHash, verifyInclusion } from '../../src/lib/core/audit/merkle';
import { createRecord, encodeRecordText, hashRecord } from '../../src/lib/core/audit/record';
import type { AuditRecord } from '../../src/lib/core/audit/record';

const SEED = new Uint8Array(32).fill(0x42);
const DEVICE = { name: 'nightcore-device-test', publicKey: publicKeyFromSecret(SEED) };
const ATTACKER_SEED = new Uint8Array(32).fill(0x66);
const ATTACKER = { name: DEVICE.name, publicKey: publicKeyFromSecret(ATTACKER_SEED) };
const ORIGIN = 'nightcore.test/audit/device-0001';

function makeRecords(n: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    records.push(
      createRecord(records.at(-1) ?? null, {
        time: 1_767_225_600_000 + i * 250,
        event: i % 3 === 0 ? 'run.started' : i % 3 === 1 ? 'run.finished' : 'decision',
        subject: { requestId: `req-${i >> 1}`, moduleSha256: 'cd'.repeat(32), runId: `run-${i}` },
        details: {
          exitCode: 0,
          durationMs: i,
          outcome: 'exit',
          limits: { timeoutMs: 5000, memoryMiB: 64 }
        }
      })
    );
  }
  return records;
}

async function checkpointFor(records: AuditRecord[], size = records.length, seed = SEED) {
  const leaves = records.slice(0, size).map((r) => leafHash(fromHex(r.hash)));
  const root = MerkleTree.fromLeafHashes(leaves).root();
  const publicKey = publicKeyFromSecret(seed);
  return signCheckpoint(
    { origin: ORIGIN, size, root },
    { name: DEVICE.name, publicKey, sign: async (m) => sign(m, seed) }
  );
}

const RECORDS = makeRecords(12);
const NOTE = await checkpointFor(RECORDS);
const exportOf = (selection: ExportSelection, records = RECORDS, note = NOTE) =>
  buildExport(records, { origin: ORIGIN, deviceKey: DEVICE, checkpointNote: note, selection });
const FULL = exportOf('all');
const TRUSTED: VerifyExportOptions = { checkpoint: NOTE, publicKey: DEVICE.publicKey };

const lines = (jsonl: string) => jsonl.split('\n');
const edit = (jsonl: string, change: (lines: string[]) => void) => {
  const list = lines(jsonl);
  change(list);
  return list.join('\n');
};
const failsWith = (seq: number | null, line: number, code: string) => ({
  ok: false,
  seq,
  line,
  reason: expect.objectContaining({ code }) as unknown
});

describe('round trip', () => {
  it('writes the documented format', () => {
    const [header, ...rest] = lines(FULL.jsonl);
    expect(JSON.parse(header!)).toEqual({
      nightcoreAudit: 1,
      origin: ORIGIN,
      deviceKey: { name: DEVICE.name, publicKey: Buffer.from(DEVICE.publicKey).toString('base64') },
      treeSize: 12,
      range: { from: 0, to: 11 },
      anchor: null
    });
    expect(header!.startsWith('{"nightcoreAudit":1,"origin":')).toBe(true);
    const { hash, ...body } = RECORDS[3]!;
    expect(rest[3]).toBe(`${encodeRecordText(body).slice(0, -1)},"hash":"${hash}"}`);
    expect(rest.at(-1)).toBe(''); // every line ends with a newline
    expect(FULL.checkpoint).toBe(NOTE);
  });

  it('verifies a full export with the trusted key', () => {
    expect(verifyExport(FULL.jsonl, TRUSTED)).toEqual({
      ok: true,
      kind: 'full',
      records: 12,
      head: { seq: 11, hash: RECORDS[11]!.hash },
      treeSize: 12,
      root: toHex(MerkleTree.fromLeafHashes(RECORDS.map((r) => leafHash(fromHex(r.hash)))).root()),
      checkpointVerified: true,
      earlier: [],
      notes: []
    });
  });

  it('notes a self-asserted key, and a missing checkpoint', () => {
    const selfAsserted = verifyExport(FULL.jsonl, { checkpoint: NOTE });
    expect(selfAsserted).toMatchObject({ ok: true, checkpointVerified: true });
    expect(selfAsserted.ok && selfAsserted.notes.map((n) => n.code)).toEqual([
      'audit.key-self-asserted'
    ]);
    const unanchored = verifyExport(FULL.jsonl);
    expect(unanchored).toMatchObject({ ok: true, checkpointVerified: false });
    expect(unanchored.ok && unanchored.notes.map((n) => n.code)).toEqual(['audit.no-checkpoint']);
  });

  it('exports only what the checkpoint covers', async () => {
    const older = await checkpointFor(RECORDS, 10);
    const { jsonl } = exportOf('all', RECORDS, older);
    expect(lines(jsonl)).toHaveLength(12); // header + 10 records + ''
    expect(verifyExport(jsonl, { checkpoint: older, publicKey: DEVICE.publicKey })).toMatchObject({
      ok: true,
      records: 10,
      head: { seq: 9 }
    });
  });

  it('refuses misuse when building', async () => {
    const other = await checkpointFor(RECORDS, 12, ATTACKER_SEED);
    expect(() => exportOf('all', RECORDS, other)).toThrow(TypeError);
    const stale = RECORDS.slice();
    stale[4] = createRecord(RECORDS[3]!, { time: 1, event: 'intake', subject: {}, details: {} });
    expect(() => exportOf('all', stale)).toThrow(TypeError);
    expect(() => exportOf({ from: 5, to: 12 })).toThrow(RangeError);
    expect(() => exportOf({ from: 6, to: 5 })).toThrow(RangeError);
    expect(() => exportOf({ seqs: [] })).toThrow(RangeError);
    expect(() => exportOf({ seqs: [12] })).toThrow(RangeError);
  });
});

describe('building in slices (exportSteps)', () => {
  const stepsOf = (selection: ExportSelection, slice: number) => [
    ...exportSteps(
      RECORDS,
      { origin: ORIGIN, deviceKey: DEVICE, checkpointNote: NOTE, selection },
      slice
    )
  ];
  const textOf = (steps: ExportStep[]) =>
    steps.map((step) => (step.stage === 'writing' ? step.text : '')).join('');
  const counts = (steps: ExportStep[]) =>
    steps.map(({ stage, done, total }) => ({ stage, done, total }));

  it('writes exactly the JSONL buildExport writes, for every slice size and selection', () => {
    for (const selection of ['all', { from: 3, to: 7 }, { seqs: [1, 4, 11] }] as const) {
      const whole = exportOf(selection);
      for (const slice of [1, 2, 5, 12, 1000]) {
        expect(textOf(stepsOf(selection, slice))).toBe(whole.jsonl);
      }
    }
  });

  it('reports each stage in order, counting up to its total', () => {
    expect(counts(stepsOf('all', 5))).toEqual([
      { stage: 'hashing', done: 5, total: 12 },
      { stage: 'hashing', done: 10, total: 12 },
      { stage: 'tree', done: 5, total: 11 },
      { stage: 'tree', done: 10, total: 11 },
      { stage: 'writing', done: 5, total: 12 },
      { stage: 'writing', done: 10, total: 12 },
      { stage: 'writing', done: 12, total: 12 }
    ]);
    // A filtered export counts the lines it writes, not the records it hashes.
    const filtered = stepsOf({ seqs: [0, 2, 4, 6] }, 2).filter((s) => s.stage === 'writing');
    expect(counts(filtered)).toEqual([
      { stage: 'writing', done: 2, total: 4 },
      { stage: 'writing', done: 4, total: 4 }
    ]);
  });

  it('checks its arguments before any work, and refuses a bad slice', () => {
    const start = (selection: ExportSelection, slice = 4, note = NOTE) =>
      exportSteps(
        RECORDS,
        { origin: ORIGIN, deviceKey: DEVICE, checkpointNote: note, selection },
        slice
      ).next();
    expect(() => start('all', 0)).toThrow(RangeError);
    expect(() => start('all', 1.5)).toThrow(RangeError);
    expect(() => start({ from: 5, to: 2 })).toThrow(RangeError);
    expect(() => start('all', 4, NOTE.replace(/\n\n.*$/s, '\n\n'))).toThrow(TypeError);
  });
});

describe('tampering with a full export', () => {
  it('a flipped byte in a record: audit.record-hash at that record', () => {
    const jsonl = edit(
      FULL.jsonl,
      (l) => (l[6] = l[6]!.replace('"durationMs":5', '"durationMs":4'))
    );
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(5, 7, 'audit.record-hash'));
  });

  it('a removed record: audit.record-missing at its seq', () => {
    const jsonl = edit(FULL.jsonl, (l) => l.splice(6, 1));
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(5, 7, 'audit.record-missing'));
    const first = edit(FULL.jsonl, (l) => l.splice(1, 1));
    expect(verifyExport(first, TRUSTED)).toEqual(failsWith(0, 2, 'audit.record-missing'));
    const last = edit(FULL.jsonl, (l) => l.splice(12, 1));
    expect(verifyExport(last, TRUSTED)).toEqual(failsWith(11, 13, 'audit.record-missing'));
  });

  it('a reordered pair: audit.record-order at the first record out of place', () => {
    const jsonl = edit(FULL.jsonl, (l) => ([l[6], l[7]] = [l[7]!, l[6]!]));
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(5, 7, 'audit.record-order'));
  });

  it('a repeated record: audit.record-repeat', () => {
    const jsonl = edit(FULL.jsonl, (l) => l.splice(6, 0, l[5]!));
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(5, 7, 'audit.record-repeat'));
  });

  it('an edited record with its hash recomputed: audit.record-link at the next record', () => {
    const forged = { ...RECORDS[5]!, time: RECORDS[5]!.time + 1 };
    const { hash: _old, ...body } = forged;
    forged.hash = hashRecord(body);
    const line = `${encodeRecordText(body).slice(0, -1)},"hash":"${forged.hash}"}`;
    const jsonl = edit(FULL.jsonl, (l) => (l[6] = line));
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(6, 8, 'audit.record-link'));
  });

  it('the last record rewritten with its hash recomputed: audit.root-mismatch', () => {
    const forged = { ...RECORDS[11]!, time: RECORDS[11]!.time + 1 };
    const { hash: _old, ...body } = forged;
    const line = `${encodeRecordText(body).slice(0, -1)},"hash":"${hashRecord(body)}"}`;
    const jsonl = edit(FULL.jsonl, (l) => (l[12] = line));
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(null, 0, 'audit.root-mismatch'));
  });

  it('a truncated file: audit.export-truncated at the cut line', () => {
    expect(verifyExport(FULL.jsonl.slice(0, -40), TRUSTED)).toEqual(
      failsWith(11, 13, 'audit.export-truncated')
    );
    expect(verifyExport(FULL.jsonl.slice(0, -1), TRUSTED)).toEqual(
      failsWith(11, 13, 'audit.export-truncated')
    );
    const header = lines(FULL.jsonl)[0]!;
    expect(verifyExport(header.slice(0, 30), TRUSTED)).toEqual(
      failsWith(null, 1, 'audit.export-truncated')
    );
    expect(verifyExport('', TRUSTED)).toEqual(failsWith(null, 1, 'audit.export-header'));
  });

  it('a forged checkpoint signature: audit.note-signature (line 0: the checkpoint)', () => {
    const sigStart = NOTE.lastIndexOf(' ') + 10;
    const flipped = String.fromCharCode(NOTE.charCodeAt(sigStart) === 65 ? 66 : 65);
    const forged = NOTE.slice(0, sigStart) + flipped + NOTE.slice(sigStart + 1);
    expect(verifyExport(FULL.jsonl, { ...TRUSTED, checkpoint: forged })).toEqual(
      failsWith(null, 0, 'audit.note-signature')
    );
  });

  it('a checkpoint re-signed by another key: caught with the trusted key', async () => {
    const attackerNote = await checkpointFor(RECORDS, 12, ATTACKER_SEED);
    expect(verifyExport(FULL.jsonl, { ...TRUSTED, checkpoint: attackerNote })).toEqual(
      failsWith(null, 0, 'audit.note-unknown-key')
    );
    // The attacker also rewrites the header's key: the trusted key still catches it.
    const attackerKey = Buffer.from(ATTACKER.publicKey).toString('base64');
    const ownKey = Buffer.from(DEVICE.publicKey).toString('base64');
    const jsonl = FULL.jsonl.replace(ownKey, attackerKey);
    expect(verifyExport(jsonl, { ...TRUSTED, checkpoint: attackerNote })).toEqual(
      failsWith(null, 1, 'audit.device-key-mismatch')
    );
    // Without a trusted key it verifies, and says the key is only self-asserted.
    const selfAsserted = verifyExport(jsonl, { checkpoint: attackerNote });
    expect(selfAsserted.ok && selfAsserted.notes.map((n) => n.code)).toEqual([
      'audit.key-self-asserted'
    ]);
  });

  it('a checkpoint for another size or origin', async () => {
    // An older checkpoint is not this export's own: it is refused as one (it would leave the
    // records after it unsigned), and checked as what it is, an earlier checkpoint.
    const older = await checkpointFor(RECORDS, 10);
    expect(verifyExport(FULL.jsonl, { ...TRUSTED, checkpoint: older })).toEqual(
      failsWith(null, 0, 'audit.checkpoint-size')
    );
    expect(verifyExport(FULL.jsonl, { ...TRUSTED, earlier: [older] })).toMatchObject({
      ok: true,
      earlier: [{ size: 10 }]
    });
    const jsonl = FULL.jsonl.replace(ORIGIN, 'nightcore.test/audit/device-0002');
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(null, 0, 'audit.checkpoint-origin'));
  });

  it('non-canonical but equivalent text: audit.export-noncanonical', () => {
    const jsonl = edit(FULL.jsonl, (l) => (l[4] = l[4]!.replace('"seq":3,', '"seq": 3,')));
    expect(verifyExport(jsonl, TRUSTED)).toEqual(failsWith(3, 5, 'audit.export-noncanonical'));
    const crlf = FULL.jsonl.replaceAll('\n', '\r\n');
    expect(verifyExport(crlf, TRUSTED)).toEqual(failsWith(0, 2, 'audit.export-noncanonical'));
  });

  it('a hostile header cannot make the verifier allocate or throw', () => {
    const huge = 9_007_199_254_740_991;
    const jsonl = FULL.jsonl.replace(
      '"treeSize":12,"range":{"from":0,"to":11}',
      `"treeSize":${huge},"range":{"from":0,"to":${huge - 1}}`
    );
    expect(verifyExport(jsonl)).toEqual(failsWith(12, 14, 'audit.record-missing'));
    const badKey = FULL.jsonl.replace(/"publicKey":"[^"]+"/, `"publicKey":"${'A'.repeat(43)}="`);
    expect(verifyExport(badKey)).toEqual(failsWith(null, 1, 'audit.export-header'));
    expect(verifyExport(FULL.jsonl.replace('"nightcoreAudit":1', '"nightcoreAudit":2'))).toEqual(
      failsWith(null, 1, 'audit.export-version')
    );
  });

  it('extra fields and lines are refused', () => {
    const extra = edit(FULL.jsonl, (l) => (l[2] = l[2]!.replace('{"seq"', '{"x":1,"seq"')));
    expect(verifyExport(extra, TRUSTED)).toEqual(failsWith(1, 3, 'audit.record-malformed'));
    const more = FULL.jsonl + lines(FULL.jsonl)[12] + '\n';
    expect(verifyExport(more, TRUSTED)).toEqual(failsWith(null, 14, 'audit.export-extra'));
    const dup = FULL.jsonl.replace('"seq":4,', '"seq":4,"seq":4,');
    expect(verifyExport(dup, TRUSTED)).toEqual(failsWith(4, 6, 'audit.record-malformed'));
  });
});

describe('every single flipped byte is detected, on the line it is in', () => {
  const small = makeRecords(4);
  const cases: [string, ExportSelection][] = [
    ['full', 'all'],
    ['range', { from: 1, to: 2 }],
    ['filtered', { seqs: [0, 2, 3] }]
  ];
  it.each(cases)(
    '%s export and its checkpoint',
    async (_kind, selection) => {
      const note = await checkpointFor(small);
      const { jsonl } = exportOf(selection, small, note);
      const options = { checkpoint: note, publicKey: DEVICE.publicKey };
      expect(verifyExport(jsonl, options).ok).toBe(true);
      const lineOf = (at: number) => jsonl.slice(0, at).split('\n').length;
      for (let at = 0; at < jsonl.length; at++) {
        const flipped =
          jsonl.slice(0, at) + String.fromCharCode(jsonl.charCodeAt(at) ^ 1) + jsonl.slice(at + 1);
        const result = verifyExport(flipped, options);
        expect(result.ok, `byte ${at} (line ${lineOf(at)})`).toBe(false);
        if (result.ok) continue;
        const line = lineOf(at);
        // The header is not hashed: a flip there shows where its claims and the records or the
        // checkpoint disagree. A flip in a record line is reported on that line.
        if (line > 1) expect(result.line, `byte ${at}: ${result.reason.code}`).toBe(line);
      }
      for (let at = 0; at < note.length; at++) {
        const flipped =
          note.slice(0, at) + String.fromCharCode(note.charCodeAt(at) ^ 1) + note.slice(at + 1);
        const result = verifyExport(jsonl, { ...options, checkpoint: flipped });
        expect(result, `checkpoint byte ${at}`).toMatchObject({ ok: false, line: 0, seq: null });
      }
    },
    120_000
  );
});

describe('range and filtered exports', () => {
  const RANGE = exportOf({ from: 3, to: 7 });
  const FILTERED = exportOf({ seqs: [9, 1, 4, 5, 4] });

  it('a range carries its anchor and one inclusion proof, on its last record', () => {
    const [header, ...rest] = lines(RANGE.jsonl);
    expect(JSON.parse(header!)).toMatchObject({
      range: { from: 3, to: 7 },
      anchor: { seq: 2, hash: RECORDS[2]!.hash }
    });
    expect(rest.filter((l) => l.includes('inclusionProof'))).toHaveLength(1);
    expect(rest[4]).toContain('"inclusionProof":[');
    expect(verifyExport(RANGE.jsonl, TRUSTED)).toMatchObject({
      ok: true,
      kind: 'range',
      records: 5,
      head: { seq: 7 },
      checkpointVerified: true
    });
    expect(verifyExport(RANGE.jsonl)).toMatchObject({
      ok: true,
      root: verifyExport(FULL.jsonl).ok ? expect.any(String) : ''
    });
  });

  it('a range with a wrong anchor, a bad proof, or no proof fails', () => {
    const anchor = RANGE.jsonl.replace(RECORDS[2]!.hash, RECORDS[1]!.hash);
    expect(verifyExport(anchor, TRUSTED)).toEqual(failsWith(3, 2, 'audit.record-link'));
    const proof = edit(
      RANGE.jsonl,
      (l) =>
        (l[5] = l[5]!.replace(
          /"inclusionProof":\["(.)/,
          (_m, c: string) => `"inclusionProof":["${c === 'a' ? 'b' : 'a'}`
        ))
    );
    expect(verifyExport(proof, TRUSTED)).toEqual(failsWith(7, 6, 'audit.proof-invalid'));
    const none = edit(
      RANGE.jsonl,
      (l) => (l[5] = l[5]!.replace(/,"inclusionProof":\[[^\]]*\]/, ''))
    );
    expect(verifyExport(none, TRUSTED)).toEqual(failsWith(7, 6, 'audit.record-malformed'));
  });

  it('a filtered export proves each record, sorted and without duplicates', () => {
    const [header, ...rest] = lines(FILTERED.jsonl);
    expect(JSON.parse(header!)).toMatchObject({ filtered: true, seqs: [1, 4, 5, 9], anchor: null });
    expect(rest.slice(0, 4).every((l) => l.includes('"inclusionProof":['))).toBe(true);
    expect(verifyExport(FILTERED.jsonl, TRUSTED)).toMatchObject({
      ok: true,
      kind: 'filtered',
      records: 4,
      head: { seq: 9 }
    });
    expect(verifyExport(FILTERED.jsonl)).toMatchObject({ ok: true, checkpointVerified: false });
  });

  it('a filtered export with a removed or reordered record, or a bad proof, fails', () => {
    const removed = edit(FILTERED.jsonl, (l) => l.splice(3, 1));
    expect(verifyExport(removed, TRUSTED)).toEqual(failsWith(5, 4, 'audit.record-missing'));
    const swapped = edit(FILTERED.jsonl, (l) => ([l[2], l[3]] = [l[3]!, l[2]!]));
    expect(verifyExport(swapped, TRUSTED)).toEqual(failsWith(4, 3, 'audit.record-order'));
    // A proof for another position: record 5's line carrying record 4's proof.
    const proofOf = (line: string) => line.slice(line.indexOf(',"inclusionProof"'));
    const moved = edit(
      FILTERED.jsonl,
      (l) => (l[3] = l[3]!.replace(proofOf(l[3]!), proofOf(l[2]!)))
    );
    expect(verifyExport(moved, TRUSTED)).toEqual(failsWith(5, 4, 'audit.proof-invalid'));
    // Without a checkpoint the proofs must at least agree with each other.
    expect(verifyExport(moved)).toEqual(failsWith(5, 4, 'audit.proof-invalid'));
  });

  it('proves inclusion for the CLI (`nightcore audit prove`)', () => {
    const root = MerkleTree.fromLeafHashes(RECORDS.map((r) => leafHash(fromHex(r.hash)))).root();
    for (const [jsonl, seq] of [
      [FULL.jsonl, 6],
      [FILTERED.jsonl, 4],
      [RANGE.jsonl, 7]
    ] as const) {
      const proof = proveInclusion(jsonl, seq, TRUSTED);
      expect(proof, `seq ${seq}`).toMatchObject({
        ok: true,
        seq,
        treeSize: 12,
        root: toHex(root),
        checkpointVerified: true
      });
      if (!proof.ok) continue;
      expect(proof.recordHash).toBe(RECORDS[seq]!.hash);
      const leaf = fromHex(proof.leafHash);
      expect(
        verifyInclusion(
          leaf,
          seq,
          12,
          proof.proof.map((h) => fromHex(h)),
          root
        )
      ).toBe(true);
    }
    expect(proveInclusion(RANGE.jsonl, 5)).toMatchObject({
      ok: false,
      reason: { code: 'audit.prove-unavailable' }
    });
    expect(proveInclusion(FILTERED.jsonl, 2)).toMatchObject({
      ok: false,
      reason: { code: 'audit.prove-absent' }
    });
    expect(proveInclusion(FULL.jsonl.slice(0, -5), 2)).toMatchObject({
      ok: false,
      reason: { code: 'audit.export-truncated' }
    });
  });
});

describe('performance', () => {
  it('a 100,000-record export verifies (timing printed, not asserted)', async () => {
    const records = makeRecords(100_000);
    const note = await checkpointFor(records);
    let started = performance.now();
    const { jsonl } = exportOf('all', records, note);
    const buildMs = performance.now() - started;
    started = performance.now();
    const result = verifyExport(jsonl, { checkpoint: note, publicKey: DEVICE.publicKey });
    const verifyMs = performance.now() - started;
    expect(result).toMatchObject({ ok: true, records: 100_000, checkpointVerified: true });

    // SHA-256 over the same encoded bytes: the canonical encodings the record hashes cover.
    const encoder = new TextEncoder();
    const encoded = records.map(({ hash: _h, ...body }) => encoder.encode(encodeRecordText(body)));
    const bytes = encoded.reduce((sum, e) => sum + e.length, 0);
    const whole = Buffer.concat(encoded);
    const time = (run: () => void) => {
      const t = performance.now();
      run();
      return (performance.now() - t).toFixed(0);
    };
    const nodeEach = time(() => encoded.forEach((e) => createHash('sha256').update(e).digest()));
    const nodeWhole = time(() => createHash('sha256').update(whole).digest());
    const nobleEach = time(() => encoded.forEach((e) => nobleSha256(e)));
    const nobleWhole = time(() => nobleSha256(whole));
    console.log(
      `audit export, 100,000 records (${(bytes / 1e6).toFixed(1)} MB of canonical encodings, ` +
        `${(jsonl.length / 1e6).toFixed(1)} MB JSONL): buildExport ${buildMs.toFixed(0)} ms, ` +
        `verifyExport ${verifyMs.toFixed(0)} ms. SHA-256 over the same encodings: node:crypto ` +
        `${nodeEach} ms per record / ${nodeWhole} ms as one buffer; @noble/hashes ${nobleEach} ms ` +
        `per record / ${nobleWhole} ms as one buffer`
    );
  }, 300_000);
});
