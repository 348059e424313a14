/**
 * `nightcore receipt verify|show` (the built CLI) on receipts signed with a real Ed25519 device
 * key, checked against the device's signed-note verifier key as Settings exports it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteVerifierKey } from '../../src/lib/core/audit/checkpoint';
import { fromHex, toBase64, utf8 } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { buildReceipt, digestOutput, sha256Hex, signReceipt } from '../../src/lib/core/receipt';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'nightcore-receipt-cli-'));
const at = (name: string) => join(dir, name);
const SEED = fromHex('07'.repeat(32));
const device = { name: 'nightcore-device-test', publicKey: publicKeyFromSecret(SEED) };
const OTHER = {
  name: 'nightcore-device-other',
  publicKey: publicKeyFromSecret(fromHex('08'.repeat(32)))
};
const STDOUT = utf8('hello from wasm\n');

function nightcore(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

let receiptText = '';

beforeAll(async () => {
  expect(existsSync(CLI), 'dist/cli/nightcore.js is missing: run npm run build').toBe(true);
  const keyId = sha256Hex(device.publicKey);
  const receipt = buildReceipt({
    runId: '9d2f6a10-aaaa-4bbb-8ccc-dddddddddddd',
    requestId: 'req-7',
    name: 'hello\u001b[31m',
    version: '1.0.0',
    moduleSha256: sha256Hex(utf8('module')),
    moduleSize: 99,
    runSha256: null,
    manifestSha256: sha256Hex(utf8('manifest')),
    decision: (() => {
      const statement = JSON.stringify({
        type: 'nightcore.decision/v1',
        deviceKeyId: keyId,
        action: 'approve',
        decidedAt: 1_800_000_000_000,
        requestId: 'req-7',
        moduleSha256: sha256Hex(utf8('module')),
        manifestSha256: sha256Hex(utf8('manifest')),
        limits: {},
        capabilities: []
      });
      return {
        action: 'approve',
        decidedAt: 1_800_000_000_000,
        deviceKeyId: keyId,
        signature: toBase64(sign(utf8(statement), SEED)),
        statement
      };
    })(),
    limits: { timeoutMs: 5000, memoryMiB: 64, outputBytes: 1048576, fsBytes: 16777216 },
    capabilities: [],
    status: 'exited',
    exitCode: 0,
    message: null,
    durationMs: 4.2,
    peakMemoryBytes: 65536,
    truncated: false,
    stdout: digestOutput(STDOUT),
    stderr: digestOutput(new Uint8Array(0)),
    startedAt: 1_800_000_001_000,
    endedAt: 1_800_000_001_004,
    deviceKeyId: keyId
  });
  receiptText = await signReceipt(receipt, {
    publicKey: device.publicKey,
    sign: async (m) => sign(m, SEED)
  });
  writeFileSync(at('run.receipt.json'), receiptText);
  writeFileSync(at('device.vkey'), `${noteVerifierKey(device.name, device.publicKey)}\n`);
  writeFileSync(at('other.vkey'), `${noteVerifierKey(OTHER.name, OTHER.publicKey)}\n`);
  writeFileSync(at('device.pub'), `${toBase64(device.publicKey)}\n`);
  writeFileSync(at('stdout.txt'), STDOUT);
  writeFileSync(at('stdout-wrong.txt'), 'hello from wasm!\n');
  writeFileSync(at('empty.txt'), '');
  writeFileSync(at('bad.vkey'), 'not a key\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each test spawns several Node processes: on two busy cores that can pass the 5 s default.
describe('nightcore receipt verify', { timeout: 30_000 }, () => {
  it('a receipt signed by the device key verifies (vkey or raw base64 key): exit 0', () => {
    const result = nightcore('receipt', 'verify', 'run.receipt.json', '--key', 'device.vkey');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^verified: run 9d2f6a10-aaaa-4bbb-8ccc-dddddddddddd of hello\uFFFD\[31m 1\.0\.0 exited \(exit 0\)/
    );
    expect(nightcore('receipt', 'verify', 'run.receipt.json', '--key', 'device.pub').code).toBe(0);
  });

  it('checks the output files when given', () => {
    const ok = nightcore(
      'receipt',
      'verify',
      'run.receipt.json',
      '--key',
      'device.vkey',
      '--stdout',
      'stdout.txt',
      '--stderr',
      'empty.txt'
    );
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('stdout matches the receipt');
    const bad = nightcore(
      'receipt',
      'verify',
      'run.receipt.json',
      '--key',
      'device.vkey',
      '--stdout',
      'stdout-wrong.txt',
      '--stderr',
      'stdout.txt'
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('rejected: 2 problems');
    expect(bad.err).toContain('receipt.stdout-digest');
    expect(bad.err).toContain('receipt.stderr-digest');
  });

  it('a changed byte, a wrong key or a reformatted file is rejected: exit 1, every reason', () => {
    const tampered = receiptText.replace('"exitCode":0', '"exitCode":1');
    expect(tampered).not.toBe(receiptText);
    writeFileSync(at('tampered.json'), tampered);
    const t = nightcore('receipt', 'verify', 'tampered.json', '--key', 'device.vkey');
    expect(t.code).toBe(1);
    expect(t.err).toContain('receipt.signature');

    const wrong = nightcore('receipt', 'verify', 'run.receipt.json', '--key', 'other.vkey');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('rejected: 2 problems');
    expect(wrong.err).toContain('receipt.key-mismatch');
    expect(wrong.err).toContain('receipt.signature');

    writeFileSync(at('pretty.json'), JSON.stringify(JSON.parse(receiptText), null, 2));
    const pretty = nightcore('receipt', 'verify', 'pretty.json', '--key', 'device.vkey');
    expect(pretty.code).toBe(1);
    expect(pretty.err).toContain('receipt.noncanonical');
  });

  it('usage errors exit 2', () => {
    expect(nightcore('receipt').code).toBe(2);
    expect(nightcore('receipt', 'sign', 'run.receipt.json').code).toBe(2);
    expect(nightcore('receipt', 'verify', 'run.receipt.json').code).toBe(2);
    expect(nightcore('receipt', 'verify', '--key', 'device.vkey').code).toBe(2);
    expect(
      nightcore('receipt', 'verify', 'run.receipt.json', 'x.json', '--key', 'device.vkey').code
    ).toBe(2);
    expect(nightcore('receipt', 'verify', 'run.receipt.json', '--key', 'bad.vkey').code).toBe(2);
    expect(
      nightcore('receipt', 'verify', 'run.receipt.json', '--key', 'device.vkey', '--json').code
    ).toBe(2);
    expect(nightcore('receipt', 'show', 'run.receipt.json', '--key', 'device.vkey').code).toBe(2);
    expect(nightcore('receipt', '--help').code).toBe(0);
  });
});

describe('nightcore receipt show', { timeout: 30_000 }, () => {
  it('prints a readable summary, terminal-safe, and says it is not verified', () => {
    const result = nightcore('receipt', 'show', 'run.receipt.json');
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('\u001b');
    expect(result.out).toContain('module        hello\uFFFD[31m 1.0.0');
    expect(result.out).toContain(`sha256        ${sha256Hex(utf8('module'))} (99 bytes)`);
    expect(result.out).toContain('approval      human (approve, 2027-01-15T08:00:00.000Z');
    expect(result.out).toContain('outcome       exited, exit 0');
    expect(result.out).toContain(`stdout        16 bytes, sha256 ${sha256Hex(STDOUT)}`);
    expect(result.out).toContain('not verified');
    writeFileSync(at('junk.json'), '{"receipt":');
    const junk = nightcore('receipt', 'show', 'junk.json');
    expect(junk.code).toBe(1);
    expect(junk.err).toContain('receipt.malformed');
    expect(nightcore('receipt', 'show', 'missing.json').code).toBe(1);
    expect(readFileSync(at('run.receipt.json'), 'utf8')).toBe(receiptText);
  });
});
