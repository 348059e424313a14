/**
 * `nightcore audit verify|prove` (the built CLI) on exports made with the same core functions the
 * app uses, signed by a device key: intact exports pass; each tamper class fails with its record.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteVerifierKey, signCheckpoint } from '../../src/lib/core/audit/checkpoint';
import { buildExport } from '../../src/lib/core/audit/export';
import {
  appendLeaf,
  EMPTY_RANGE,
  leafHash,
  rangeRoot,
  type CompactRange
} from '../../src/lib/core/audit/merkle';
import { createRecord, type AuditRecord } from '../../src/lib/core/audit/record';
import { fromHex } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'nightcore-audit-cli-'));
const at = (name: string) => join(dir, name);
const SEED = fromHex('07'.repeat(32));
const device = { name: 'nightcore-device-test', publicKey: publicKeyFromSecret(SEED) };
const ORIGIN = 'nightcore.local/device/test';

function nightcore(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

let lines: string[] = [];

/** 20 records; `tamperAt` gets another name, and every later record re-chains on it. */
function makeLog(tamperAt = -1): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let i = 0; i < 20; i++) {
    const previous = records.at(-1);
    const record = createRecord(previous ? { seq: previous.seq, hash: previous.hash } : null, {
      time: 1_800_000_000_000 + i,
      event: i % 2 ? 'verdict' : 'intake',
      subject: { requestId: `req-${i}` },
      details: { name: i === tamperAt ? 'module-swapped' : `module-${i}` }
    });
    records.push(record);
  }
  return records;
}

/** A checkpoint over the first `size` records, signed by the device key. */
function noteFor(records: AuditRecord[], size: number) {
  let range: CompactRange = EMPTY_RANGE;
  for (const record of records.slice(0, size)) {
    range = appendLeaf(range, leafHash(fromHex(record.hash)));
  }
  return signCheckpoint(
    { origin: ORIGIN, size, root: rangeRoot(range) },
    { ...device, sign: async (m) => sign(m, SEED) }
  );
}

const exportOf = (records: AuditRecord[], note: string) =>
  buildExport(records, {
    origin: ORIGIN,
    deviceKey: device,
    checkpointNote: note,
    selection: 'all'
  });

beforeAll(async () => {
  expect(existsSync(CLI), 'dist/cli/nightcore.js is missing: run npm run build').toBe(true);
  const records = makeLog();
  const { jsonl, checkpoint } = exportOf(records, await noteFor(records, 20));
  writeFileSync(at('log.jsonl'), jsonl);
  writeFileSync(at('log.checkpoint'), checkpoint);
  writeFileSync(at('early.checkpoint'), await noteFor(records, 12));
  // Record 3 rewritten, the rest re-chained, and re-signed with the device key itself.
  const rewritten = makeLog(3);
  const forged = exportOf(rewritten, await noteFor(rewritten, 20));
  writeFileSync(at('rewritten.jsonl'), forged.jsonl);
  writeFileSync(at('rewritten.checkpoint'), forged.checkpoint);
  writeFileSync(at('device.vkey'), `${noteVerifierKey(device.name, device.publicKey)}\n`);
  lines = jsonl.split('\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verifyFile = (file: string, ...extra: string[]) =>
  nightcore(
    'audit',
    'verify',
    file,
    '--checkpoint',
    'log.checkpoint',
    '--key',
    'device.vkey',
    ...extra
  );

describe('nightcore audit verify', () => {
  it('an intact export verifies against the signed checkpoint and the device key', () => {
    const result = verifyFile('log.jsonl');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/^intact: 20 records \(full export\), head seq 19/);
    expect(result.out).toContain('checkpoint signature verified');
  });

  const tampered = (name: string, text: string) => {
    writeFileSync(at(name), text);
    return verifyFile(name);
  };

  it('a flipped byte in a record is reported at that record', () => {
    const copy = [...lines];
    copy[6] = copy[6]!.replace('module-5', 'module-X');
    const result = tampered('flipped.jsonl', copy.join('\n'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/broken at record 5 \(line 7\)/);
  });

  it('a removed record is reported where the chain breaks', () => {
    const copy = lines.filter((_, i) => i !== 4);
    const result = tampered('removed.jsonl', copy.join('\n'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/broken at record 3/);
  });

  it('a reordered pair is reported', () => {
    const copy = [...lines];
    [copy[8], copy[9]] = [copy[9]!, copy[8]!];
    const result = tampered('reordered.jsonl', copy.join('\n'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/broken at record 7/);
  });

  it('a truncated file is reported', () => {
    const text = lines.join('\n');
    const result = tampered('truncated.jsonl', text.slice(0, text.length - 40));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/broken at/);
  });

  it('a forged checkpoint signature is reported as the checkpoint', () => {
    const note = readFileSync(at('log.checkpoint'), 'utf8');
    const sigLine = note.trimEnd().split('\n').at(-1)!;
    const body = Buffer.from(sigLine.split(' ').at(-1)!, 'base64');
    body[10]! ^= 1;
    writeFileSync(
      at('forged.checkpoint'),
      note.replace(sigLine.split(' ').at(-1)!, body.toString('base64'))
    );
    const result = nightcore(
      'audit',
      'verify',
      'log.jsonl',
      '--checkpoint',
      'forged.checkpoint',
      '--key',
      'device.vkey'
    );
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/broken at the checkpoint/);
  });

  it('a different trusted device key is refused', () => {
    writeFileSync(
      at('other.vkey'),
      `${noteVerifierKey('other', publicKeyFromSecret(fromHex('08'.repeat(32))))}\n`
    );
    const result = nightcore(
      'audit',
      'verify',
      'log.jsonl',
      '--checkpoint',
      'log.checkpoint',
      '--key',
      'other.vkey'
    );
    expect(result.code, result.err).toBe(1);
  });
});

describe('nightcore audit verify --earlier', () => {
  it('a later export is consistent with a checkpoint kept from before', () => {
    const result = verifyFile('log.jsonl', '--earlier', 'early.checkpoint');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/consistent with the checkpoint of size 12, root [0-9a-f]{64}\n/);
  });

  it('a log rewritten and re-signed passes alone, and fails against the kept checkpoint', () => {
    const own = ['--checkpoint', 'rewritten.checkpoint', '--key', 'device.vkey'];
    const alone = nightcore('audit', 'verify', 'rewritten.jsonl', ...own);
    expect(alone.code, alone.err).toBe(0);
    const caught = nightcore(
      'audit',
      'verify',
      'rewritten.jsonl',
      ...own,
      '--earlier',
      'early.checkpoint'
    );
    expect(caught.code).toBe(1);
    expect(caught.err).toMatch(
      /^broken at an earlier checkpoint .*: audit\.earlier-inconsistent: the earlier checkpoint \(size 12\) signed root [0-9a-f]{64}, but the first 12 records of this export lead to root [0-9a-f]{64}/
    );
  });

  it("an earlier checkpoint passed as the export's own is refused, and says how to pass it", () => {
    const result = nightcore('audit', 'verify', 'log.jsonl', '--checkpoint', 'early.checkpoint');
    expect(result.code).toBe(1);
    expect(result.err).toContain('audit.checkpoint-size');
    expect(result.err).toContain('--earlier FILE');
  });
});

describe('nightcore audit prove', () => {
  it('prints the inclusion proof of a record against the signed root', () => {
    const result = nightcore(
      'audit',
      'prove',
      'log.jsonl',
      '--seq',
      '7',
      '--checkpoint',
      'log.checkpoint',
      '--key',
      'device.vkey'
    );
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/^record 7 is in the tree of size 20, root [0-9a-f]{64}/);
    expect(result.out).toMatch(/inclusion proof \(\d+ hashes\)/);
    expect(result.out).toContain('the root is the one the signed checkpoint names');
  });

  it('needs --seq; a usage error exits 2', () => {
    expect(nightcore('audit', 'prove', 'log.jsonl').code).toBe(2);
    expect(nightcore('audit', 'bogus').code).toBe(2);
  });
});
