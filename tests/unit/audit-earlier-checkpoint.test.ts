// An export checked against checkpoints exported earlier (src/lib/core/audit/earlier.ts): the
// defence against a rewritten profile. The attacker here can sign with the device key, so the
// rewritten log's own export and checkpoint verify; only a root kept from before catches it.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { signCheckpoint } from '../../src/lib/core/audit/checkpoint';
import { buildExport } from '../../src/lib/core/audit/export';
import type { ExportSelection } from '../../src/lib/core/audit/export';
import { prefixRoots } from '../../src/lib/core/audit/earlier';
import { verifyExport } from '../../src/lib/core/audit/export-verify';
import {
  EMPTY_RANGE,
  MerkleTree,
  appendLeaf,
  leafHash,
  rangeRoot,
  type CompactRange
} from '../../src/lib/core/audit/merkle';
import { createRecord } from '../../src/lib/core/audit/record';
import type { AuditRecord } from '../../src/lib/core/audit/record';

const SEED = new Uint8Array(32).fill(0x42);
const DEVICE = { name: 'nightcore-device-test', publicKey: publicKeyFromSecret(SEED) };
const ATTACKER_SEED = new Uint8Array(32).fill(0x66);
const ORIGIN = 'nightcore.test/audit/device-0001';
const N = 1000;

/** A log of n records; `tamperAt` gets other details, and every later record re-chains on it. */
function makeLog(n: number, tamperAt = -1): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let i = 0; i < n; i++) {
    const approved = i === tamperAt ? 'auto' : 'review';
    records.push(
      createRecord(records.at(-1) ?? null, {
        time: 1_767_225_600_000 + i * 1000,
        event: i % 2 === 0 ? 'key.changed' : 'decision',
        subject: { keyIds: [`${(i % 7).toString(16)}`.repeat(64)] },
        details: { trust: { from: 'review', to: approved }, index: i }
      })
    );
  }
  return records;
}

const rootOf = (records: AuditRecord[], size: number) =>
  MerkleTree.fromLeafHashes(records.slice(0, size).map((r) => leafHash(fromHex(r.hash)))).root();

const signRoot = (size: number, root: Uint8Array, seed = SEED) =>
  signCheckpoint(
    { origin: ORIGIN, size, root },
    { name: DEVICE.name, publicKey: publicKeyFromSecret(seed), sign: async (m) => sign(m, seed) }
  );
const checkpoint = (records: AuditRecord[], size: number, seed = SEED) =>
  signRoot(size, rootOf(records, size), seed);

const exportOf = (records: AuditRecord[], note: string, selection: ExportSelection = 'all') =>
  buildExport(records, { origin: ORIGIN, deviceKey: DEVICE, checkpointNote: note, selection });

const LOG = makeLog(N);
const SIZES = [1, 500, 999, 1000];
const KEPT = await Promise.all(SIZES.map((size) => checkpoint(LOG, size)));
const OWN = KEPT.at(-1)!;
const FULL = exportOf(LOG, OWN);
const TRUSTED = { checkpoint: OWN, publicKey: DEVICE.publicKey };

describe('an export checked against checkpoints kept from earlier', () => {
  it('an untouched log is consistent with every earlier checkpoint (sizes 1, 500, 999, 1000)', () => {
    const result = verifyExport(FULL.jsonl, { ...TRUSTED, earlier: [...KEPT].reverse() });
    expect(result).toMatchObject({ ok: true, kind: 'full', records: N, checkpointVerified: true });
    expect(result.ok && result.earlier).toEqual(
      SIZES.map((size) => ({ size, root: toHex(rootOf(LOG, size)) }))
    );
    expect(result.ok && result.notes).toEqual([]);
  });

  it('a later log that grew is still consistent with the old checkpoints', async () => {
    const grown = makeLog(N + 37);
    const own = await checkpoint(grown, N + 37);
    const result = verifyExport(exportOf(grown, own).jsonl, {
      checkpoint: own,
      publicKey: DEVICE.publicKey,
      earlier: KEPT
    });
    expect(result.ok && result.earlier.map((c) => c.size)).toEqual(SIZES);
  });

  it('record 10 rewritten, the log re-chained and re-signed: only an old checkpoint catches it', async () => {
    const forged = makeLog(N, 10);
    const forgedOwn = await checkpoint(forged, N); // signed with the device key itself
    const forgedExport = exportOf(forged, forgedOwn);
    const alone = { checkpoint: forgedOwn, publicKey: DEVICE.publicKey };
    // On its own the rewritten export is flawless: that is the attack.
    expect(verifyExport(forgedExport.jsonl, alone)).toMatchObject({ ok: true, records: N });
    // The checkpoint of size 1 predates the rewrite's reach (record 0 is untouched): consistent.
    expect(verifyExport(forgedExport.jsonl, { ...alone, earlier: [KEPT[0]!] })).toMatchObject({
      ok: true,
      earlier: [{ size: 1 }]
    });
    for (const [i, size] of SIZES.entries()) {
      if (size === 1) continue;
      const result = verifyExport(forgedExport.jsonl, { ...alone, earlier: [KEPT[i]!] });
      expect(result, `size ${size}`).toMatchObject({
        ok: false,
        seq: null,
        line: 0,
        reason: { code: 'audit.earlier-inconsistent' }
      });
      const message = result.ok ? '' : result.reason.message;
      expect(message).toContain(`(size ${size})`);
      expect(message).toContain(toHex(rootOf(LOG, size))); // the root signed back then
      expect(message).toContain(toHex(rootOf(forged, size))); // the root the export leads to now
    }
  });

  it('record 0 rewritten: even the checkpoint of size 1 catches it', async () => {
    const forged = makeLog(N, 0);
    const forgedOwn = await checkpoint(forged, N);
    const result = verifyExport(exportOf(forged, forgedOwn).jsonl, {
      checkpoint: forgedOwn,
      earlier: [KEPT[0]!]
    });
    expect(result).toMatchObject({ ok: false, reason: { code: 'audit.earlier-inconsistent' } });
  });

  it('a checkpoint larger than the export is refused: records were removed since', async () => {
    const cut = LOG.slice(0, 700);
    const cutOwn = await checkpoint(cut, 700);
    const result = verifyExport(exportOf(cut, cutOwn).jsonl, {
      checkpoint: cutOwn,
      publicKey: DEVICE.publicKey,
      earlier: [KEPT[0]!, KEPT[2]!]
    });
    expect(result).toMatchObject({ ok: false, line: 0, reason: { code: 'audit.earlier-ahead' } });
    expect(result.ok ? '' : result.reason.message).toContain('covers 999 records');
    expect(result.ok ? '' : result.reason.message).toContain('only 700');
  });

  it('partial exports: a range from record 0 checks what it holds, and says what it cannot', () => {
    const head = exportOf(LOG, OWN, { from: 0, to: 599 });
    const fromZero = verifyExport(head.jsonl, { ...TRUSTED, earlier: [KEPT[0]!, KEPT[1]!] });
    expect(fromZero).toMatchObject({
      ok: true,
      kind: 'range',
      earlier: [{ size: 1 }, { size: 500 }]
    });
    const beyond = verifyExport(head.jsonl, { ...TRUSTED, earlier: [KEPT[2]!] });
    expect(beyond).toMatchObject({ ok: false, reason: { code: 'audit.earlier-partial' } });
    expect(beyond.ok ? '' : beyond.reason.message).toContain('records 0..599 of 1000');
    expect(beyond.ok ? '' : beyond.reason.message).toContain('Its signature verified');

    const middle = exportOf(LOG, OWN, { from: 100, to: 900 });
    const partial = verifyExport(middle.jsonl, { ...TRUSTED, earlier: [KEPT[1]!] });
    expect(partial).toMatchObject({ ok: false, reason: { code: 'audit.earlier-partial' } });
    expect(partial.ok ? '' : partial.reason.message).toContain('records 100..900 of 1000');

    const chosen = exportOf(LOG, OWN, { seqs: [0, 3, 400] });
    const filtered = verifyExport(chosen.jsonl, { ...TRUSTED, earlier: [KEPT[0]!] });
    expect(filtered).toMatchObject({ ok: false, reason: { code: 'audit.earlier-partial' } });
    expect(filtered.ok ? '' : filtered.reason.message).toContain('filtered export');
  });

  it('an earlier checkpoint forged or signed by another key is refused as such', async () => {
    const note = KEPT[1]!;
    const at = note.lastIndexOf(' ') + 10;
    const flipped = note.slice(0, at) + (note[at] === 'A' ? 'B' : 'A') + note.slice(at + 1);
    const forged = verifyExport(FULL.jsonl, { ...TRUSTED, earlier: [KEPT[0]!, flipped] });
    expect(forged).toMatchObject({ ok: false, reason: { code: 'audit.note-signature' } });
    expect(forged.ok ? '' : forged.reason.message).toMatch(/^earlier checkpoint 2: /);
    const other = await checkpoint(LOG, 500, ATTACKER_SEED);
    expect(verifyExport(FULL.jsonl, { ...TRUSTED, earlier: [other] })).toMatchObject({
      ok: false,
      reason: { code: 'audit.note-unknown-key' }
    });
  });

  it('without the export’s own checkpoint, says what only the chain vouches for', () => {
    const result = verifyExport(FULL.jsonl, { earlier: [KEPT[1]!] });
    expect(result.ok && result.notes.map((n) => n.code)).toEqual([
      'audit.no-checkpoint',
      'audit.key-self-asserted',
      'audit.earlier-tail'
    ]);
    expect(result.ok && result.notes.at(-1)!.message).toContain('records 500..999');
  });
});

describe('prefixRoots: the roots over every prefix in one pass', () => {
  it('equals a tree built over the first n leaves, for every n up to 130 and a sparse few', () => {
    const leaves = LOG.slice(0, 130).map((r) => leafHash(fromHex(r.hash)));
    const flat = new Uint8Array(leaves.length * 32);
    leaves.forEach((leaf, i) => flat.set(leaf, i * 32));
    const every = Array.from({ length: 131 }, (_, n) => n);
    const roots = prefixRoots(flat, every);
    for (const n of every) {
      expect(toHex(roots.get(n)!), `n = ${n}`).toBe(
        toHex(MerkleTree.fromLeafHashes(leaves.slice(0, n)).root())
      );
    }
    const sparse = prefixRoots(flat, [127, 3, 64, 3]);
    expect([...sparse.keys()]).toEqual([3, 64, 127]);
    expect(toHex(sparse.get(127)!)).toBe(toHex(roots.get(127)!));
    expect(() => prefixRoots(flat, [131])).toThrow(RangeError);
  });
});

describe('performance', () => {
  it('a 100,000-record export against 4 and 100 earlier checkpoints (timing printed, not asserted)', async () => {
    const big = makeLog(100_000);
    const sizes = [1, 50_000, 99_999, 100_000];
    const kept = await Promise.all(sizes.map((size) => checkpoint(big, size)));
    const { jsonl } = exportOf(big, kept.at(-1)!);
    const options = { checkpoint: kept.at(-1)!, publicKey: DEVICE.publicKey };
    const time = <T>(run: () => T) => {
      const start = performance.now();
      const result = run();
      return { ms: Math.round(performance.now() - start), result };
    };
    const plain = time(() => verifyExport(jsonl, options));
    const withEarlier = time(() => verifyExport(jsonl, { ...options, earlier: kept }));
    // One kept every 1,000 records (100 notes): the prefix roots come from one pass. Their roots
    // here come from the incremental compact range the app stores with each append.
    let range: CompactRange = EMPTY_RANGE;
    const signing = [];
    for (const [i, record] of big.entries()) {
      range = appendLeaf(range, leafHash(fromHex(record.hash)));
      if ((i + 1) % 1000 === 0) signing.push(signRoot(i + 1, rangeRoot(range)));
    }
    const daily = await Promise.all(signing);
    const withMany = time(() => verifyExport(jsonl, { ...options, earlier: daily }));
    expect(withMany.result).toMatchObject({ ok: true });
    expect(withMany.result.ok && withMany.result.earlier).toHaveLength(100);
    expect(plain.result).toMatchObject({ ok: true, records: 100_000 });
    expect(withEarlier.result).toMatchObject({
      ok: true,
      earlier: sizes.map((size) => ({ size }))
    });
    console.log(
      `earlier checkpoints, 100,000 records (${(jsonl.length / 1e6).toFixed(1)} MB JSONL): ` +
        `verifyExport ${plain.ms} ms, with 4 earlier checkpoints ${withEarlier.ms} ms, ` +
        `with 100 ${withMany.ms} ms`
    );
  }, 120_000);
});
