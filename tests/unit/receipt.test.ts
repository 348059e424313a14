/**
 * Run receipts (core/receipt.ts): round trip with a real Ed25519 key, every field and every
 * character of the file tampered, wrong key, domain separation from the device key's other
 * signatures, malformed input never throwing, and the output digest check.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../src/lib/core/audit/checkpoint';
import { encodeCanonicalJson } from '../../src/lib/core/audit/record';
import { fromHex, toBase64, utf8 } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import {
  RECEIPT_DOMAIN,
  buildReceipt,
  digestOutput,
  formatSignedReceipt,
  parseSignedReceipt,
  receiptSigningBytes,
  signReceipt,
  verifyReceipt,
  type Receipt,
  type ReceiptInput,
  type SignedReceipt
} from '../../src/lib/core/receipt';

const SEED = fromHex('11'.repeat(32));
const OTHER_SEED = fromHex('22'.repeat(32));
const publicKey = publicKeyFromSecret(SEED);
const otherKey = publicKeyFromSecret(OTHER_SEED);
const keyId = createHash('sha256').update(publicKey).digest('hex');
const signer = { publicKey, sign: async (m: Uint8Array) => sign(m, SEED) };
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

const STDOUT = utf8('hello from wasm\n');
const STDERR = utf8('warning: nothing\n');

/** A decision statement as decisions.ts writes it, signed by the device key. */
function decision(moduleSha256: string, manifestSha256: string, requestId: string, seed = SEED) {
  const statement = JSON.stringify({
    type: 'nightcore.decision/v1',
    deviceKeyId: keyId,
    action: 'approve',
    decidedAt: 1_800_000_000_000,
    requestId,
    moduleSha256,
    manifestSha256,
    limits: {},
    capabilities: []
  });
  return {
    action: 'approve',
    decidedAt: 1_800_000_000_000,
    deviceKeyId: keyId,
    signature: toBase64(sign(utf8(statement), seed)),
    statement
  };
}

function input(patch: Partial<ReceiptInput> = {}): ReceiptInput {
  return {
    runId: '0f4c2b1a-1111-4222-8333-444455556666',
    requestId: 'req-1',
    name: 'hello',
    version: '1.0.0',
    moduleSha256: hex('module'),
    moduleSize: 1234,
    runSha256: hex('rewritten'),
    manifestSha256: hex('manifest'),
    decision: decision(hex('module'), hex('manifest'), 'req-1'),
    limits: { timeoutMs: 5000, memoryMiB: 64, outputBytes: 1048576, fsBytes: 16777216 },
    capabilities: ['args', 'clock'],
    status: 'exited',
    exitCode: 3,
    message: 'exited with 3',
    durationMs: 12.6,
    peakMemoryBytes: 131072,
    truncated: false,
    stdout: digestOutput(STDOUT),
    stderr: digestOutput(STDERR),
    startedAt: 1_800_000_001_000,
    endedAt: 1_800_000_001_013,
    deviceKeyId: keyId,
    ...patch
  };
}

const signed = async (patch: Partial<ReceiptInput> = {}) =>
  signReceipt(buildReceipt(input(patch)), signer);

/** The file with `receipt` replaced and the original signature kept. */
function refile(text: string, edit: (r: Receipt, s: SignedReceipt) => void): string {
  const parsed = parseSignedReceipt(text);
  if (!parsed.ok) throw new Error(parsed.reason.message);
  const copy = JSON.parse(JSON.stringify(parsed.signed)) as SignedReceipt;
  edit(copy.receipt, copy);
  return formatSignedReceipt(copy);
}

describe('receipt round trip', () => {
  it('signs, parses back to the same receipt and verifies; the duration is whole', async () => {
    const receipt = buildReceipt(input());
    expect(receipt.outcome.durationMs).toBe(13);
    expect(receipt.output.stdoutSha256).toBe(createHash('sha256').update(STDOUT).digest('hex'));
    expect(receipt.approval).toMatchObject({ by: 'human', action: 'approve' });
    const text = await signReceipt(receipt, signer);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
    const parsed = parseSignedReceipt(text);
    expect(parsed.ok && parsed.signed.receipt).toEqual(receipt);
    expect(parsed.ok && parsed.signed.keyId).toBe(keyId);
    const result = verifyReceipt(text, publicKey);
    expect(result).toEqual({ ok: true, reasons: [], receipt });
    // The parsed object verifies too.
    expect(parsed.ok && verifyReceipt(parsed.signed, publicKey).ok).toBe(true);
  });

  it('signs exactly the domain tag followed by the canonical JSON', async () => {
    const receipt = buildReceipt(input());
    const bytes = receiptSigningBytes(receipt);
    const expected = RECEIPT_DOMAIN + encodeCanonicalJson(receipt);
    expect(new TextDecoder().decode(bytes)).toBe(expected);
    expect(expected.startsWith('nightcore.receipt/v1\n{"approval":{')).toBe(true);
    // Sorted keys at every depth, integers only.
    expect(encodeCanonicalJson({ b: 1, a: { d: [2, { z: 0, y: 'é' }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":"é","z":0}]},"b":1}'
    );
    expect(() => encodeCanonicalJson({ a: 1.5 })).toThrow(TypeError);
  });

  it('auto-approved runs name the policy; refused runs have no exit code or duration', async () => {
    const text = await signed({
      decision: null,
      status: 'refused',
      exitCode: null,
      durationMs: null,
      peakMemoryBytes: null,
      runSha256: null,
      manifestSha256: null,
      message: 'This module hash has been blocked since it was approved.',
      stdout: digestOutput(new Uint8Array(0)),
      stderr: digestOutput(new Uint8Array(0)),
      capabilities: []
    });
    const result = verifyReceipt(text, publicKey);
    expect(result.ok).toBe(true);
    expect(result.receipt?.approval).toEqual({ by: 'policy' });
    expect(result.receipt?.outcome).toMatchObject({ status: 'refused', exitCode: null });
  });

  it('buildReceipt refuses what is not a receipt and cleans the message', () => {
    expect(() => buildReceipt(input({ status: 'running' }))).toThrow(TypeError);
    expect(() => buildReceipt(input({ peakMemoryBytes: 1.5 }))).toThrow(TypeError);
    expect(() => buildReceipt(input({ moduleSha256: 'ABC' }))).toThrow(TypeError);
    expect(() => buildReceipt(input({ capabilities: ['sockets'] }))).toThrow(TypeError);
    const long = buildReceipt(input({ message: `\uD800${'x'.repeat(20_000)}` }));
    expect(long.outcome.message?.length).toBe(8192);
    expect(long.outcome.message?.startsWith('\uFFFDx')).toBe(true);
  });

  it('signReceipt refuses a signer whose key is not the receipt device key', async () => {
    const receipt = buildReceipt(input());
    await expect(
      signReceipt(receipt, { publicKey: otherKey, sign: async (m) => sign(m, OTHER_SEED) })
    ).rejects.toThrow(/device.keyId/);
    await expect(
      signReceipt(receipt, { publicKey, sign: async (m) => sign(m, OTHER_SEED) })
    ).rejects.toThrow(/does not verify/);
    // A verifier given by the caller (the browser's WebCrypto) is the one asked.
    await expect(signReceipt(receipt, signer, { verify: async () => false })).rejects.toThrow(
      /does not verify/
    );
    const asked: Uint8Array[] = [];
    await signReceipt(receipt, signer, {
      verify: async (_sig, message) => (asked.push(message), true)
    });
    expect(asked).toEqual([receiptSigningBytes(receipt)]);
  });
});

/** Every leaf of an object, as a path of keys. */
function leaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    if (Array.isArray(value) && value.length === 0) return [path];
    return Object.entries(value).flatMap(([k, v]) =>
      leaves(v, [...path, Array.isArray(value) ? Number(k) : k])
    );
  }
  return [path];
}

/** Another valid value for the same field, so the file still parses. */
function other(path: (string | number)[], value: unknown): unknown {
  const key = String(path.at(-1));
  if (key === 'status') return value === 'exited' ? 'trapped' : 'exited';
  if (key === 'action') return value === 'approve' ? 'pin' : 'approve';
  if (key === 'signature') return toBase64(sign(utf8('another decision'), SEED));
  if (typeof path.at(-1) === 'number') return value === 'random' ? 'env' : 'random';
  if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) {
    return value.slice(0, -1) + (value.endsWith('0') ? '1' : '0');
  }
  if (typeof value === 'string') return `${value}x`;
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  throw new Error(`no substitute for ${path.join('.')}`);
}

describe('tampering', () => {
  it('every field of the receipt changed (file re-encoded canonically) is rejected', async () => {
    const text = await signed();
    const base = JSON.parse(text) as SignedReceipt;
    // type and approval.by change the format itself: refused as unreadable (tests below).
    const paths = leaves(base.receipt).filter((p) => p[0] !== 'type' && p[1] !== 'by');
    expect(paths.length).toBeGreaterThanOrEqual(30);
    for (const path of paths) {
      const tampered = refile(text, (r) => {
        let at: any = r;
        for (const k of path.slice(0, -1)) at = at[k];
        const last = path.at(-1)!;
        at[last] = other(path, at[last]);
      });
      expect(tampered, path.join('.')).not.toBe(text);
      const result = verifyReceipt(tampered, publicKey);
      expect(result.ok, path.join('.')).toBe(false);
      const codes = result.reasons.map((r) => r.code);
      if (path[0] === 'device') expect(codes).toContain('receipt.device-mismatch');
      expect(codes, path.join('.')).toContain('receipt.signature');
    }
  });

  it('structural changes are rejected: approval by policy, a capability added, a limit dropped', async () => {
    const text = await signed();
    const edits: ((r: Receipt) => void)[] = [
      (r) => (r.approval = { by: 'policy' }),
      (r) => r.capabilities.push('random'),
      (r) => r.capabilities.reverse(),
      (r) => delete r.limits.fsBytes,
      (r) => (r.limits.extra = 1),
      (r) => (r.outcome.message = null),
      (r) => (r.module.runSha256 = null)
    ];
    for (const edit of edits) {
      const result = verifyReceipt(refile(text, edit), publicKey);
      expect(result.ok).toBe(false);
      expect(result.reasons.map((r) => r.code)).toContain('receipt.signature');
    }
  });

  it('the envelope: another key id, or another signature, is rejected', async () => {
    const text = await signed();
    const wrongId = refile(text, (_r, s) => (s.keyId = hex('someone else')));
    expect(verifyReceipt(wrongId, publicKey).reasons.map((r) => r.code)).toEqual([
      'receipt.key-mismatch',
      'receipt.device-mismatch'
    ]);
    const wrongSig = refile(text, (_r, s) => (s.signature = toBase64(sign(utf8('x'), SEED))));
    expect(verifyReceipt(wrongSig, publicKey).reasons.map((r) => r.code)).toEqual([
      'receipt.signature'
    ]);
  });

  it('any one character of the file changed is rejected', async () => {
    const text = await signed();
    let checked = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      const swap = /[0-9]/.test(c)
        ? String((Number(c) + 1) % 10)
        : /[a-z]/.test(c)
          ? c === 'z'
            ? 'a'
            : String.fromCharCode(c.charCodeAt(0) + 1)
          : /[A-Z]/.test(c)
            ? c === 'Z'
              ? 'A'
              : String.fromCharCode(c.charCodeAt(0) + 1)
            : c === ' '
              ? '_'
              : ' ';
      const result = verifyReceipt(text.slice(0, i) + swap + text.slice(i + 1), publicKey);
      expect(result.ok, `character ${i} (${c} → ${swap})`).toBe(false);
      checked++;
    }
    expect(checked).toBe(text.length);
    // Two Ed25519 verifications per character (the receipt and its approval), ~1,700 characters.
  }, 60_000);
});

describe('keys and domain separation', () => {
  it('a wrong key is rejected with every reason', async () => {
    const result = verifyReceipt(await signed(), otherKey);
    expect(result.ok).toBe(false);
    expect(result.reasons.map((r) => r.code)).toEqual([
      'receipt.key-mismatch',
      'receipt.signature'
    ]);
    expect(verifyReceipt(await signed(), new Uint8Array(32)).reasons[0]?.code).toBe('receipt.key');
    expect(verifyReceipt(await signed(), 'key' as any).reasons[0]?.code).toBe('receipt.key');
  });

  it('the device key signing the same JSON without the tag does not make a receipt', async () => {
    const receipt = buildReceipt(input());
    const bare = utf8(encodeCanonicalJson(receipt));
    const variants = [
      bare,
      utf8(`nightcore.receipt/v2\n${encodeCanonicalJson(receipt)}`),
      utf8(`nightcore.receipt/v1${encodeCanonicalJson(receipt)}`),
      utf8(`${RECEIPT_DOMAIN}${JSON.stringify(receipt)}`)
    ];
    for (const message of variants) {
      const text = formatSignedReceipt({
        keyId,
        receipt,
        signature: toBase64(sign(message, SEED))
      });
      const result = verifyReceipt(text, publicKey);
      expect(result.ok).toBe(false);
      expect(result.reasons.map((r) => r.code)).toEqual(['receipt.signature']);
    }
  });

  it("an audit checkpoint's signature by the same device key does not verify as a receipt", async () => {
    const receipt = buildReceipt(input());
    const note = await signCheckpoint(
      { origin: 'nightcore.local/device/test', size: 3, root: new Uint8Array(32).fill(7) },
      { name: 'nightcore-device-test', publicKey, sign: async (m) => sign(m, SEED) }
    );
    const line = note.trim().split('\n').at(-1)!.split(' ').at(-1)!;
    const noteSignature = Buffer.from(line, 'base64').subarray(4);
    expect(noteSignature.length).toBe(64);
    const text = formatSignedReceipt({ keyId, receipt, signature: toBase64(noteSignature) });
    expect(verifyReceipt(text, publicKey).reasons.map((r) => r.code)).toEqual([
      'receipt.signature'
    ]);
    // And a decision statement's signature neither.
    const decision = formatSignedReceipt({
      keyId,
      receipt,
      signature: receipt.approval.by === 'human' ? receipt.approval.signature : ''
    });
    expect(verifyReceipt(decision, publicKey).ok).toBe(false);
  });
});

describe('malformed input', () => {
  it('never throws; each is refused with a receipt reason', async () => {
    const text = await signed();
    const object = JSON.parse(text) as Record<string, any>;
    const canonical = (value: unknown) => `${encodeCanonicalJson(value)}\n`;
    const inputs: unknown[] = [
      '',
      '\n',
      'null',
      '[]',
      '{}',
      '"receipt"',
      '{"keyId":',
      text.slice(0, -1), // no final newline
      text.slice(0, text.length / 2),
      `\uFEFF${text}`,
      text.replace('{', '{ '),
      JSON.stringify(object, null, 2) + '\n',
      text.replace('{"keyId"', '{"keyId":"x","keyId"'),
      '['.repeat(100_000),
      `"${'x'.repeat(300_000)}"`,
      text.replace('"exitCode":3', '"exitCode":3.5'),
      text.replace('"exitCode":3', '"exitCode":-0'),
      text.replace('"exitCode":3', '"exitCode":1e400'),
      text.replace('"name":"hello"', '"name":"\\ud800"'),
      text.replace('"status":"exited"', '"status":"running"'),
      text.replace('"type":"nightcore.receipt/v1"', '"type":"nightcore.receipt/v2"'),
      canonical({ ...object, extra: 1 }),
      canonical({ ...object, receipt: { ...object.receipt, extra: 1 } }),
      canonical({
        ...object,
        receipt: { ...object.receipt, outcome: { ...object.receipt.outcome, x: 1 } }
      }),
      canonical({ ...object, receipt: { ...object.receipt, approval: { by: 'robot' } } }),
      canonical({ ...object, receipt: { ...object.receipt, limits: { 'a b': 1 } } }),
      canonical({ ...object, receipt: { ...object.receipt, capabilities: ['args', 'args'] } }),
      canonical({ ...object, signature: 'AAAA' }),
      canonical({ ...object, keyId: 'ABC' }),
      canonical({ keyId: object.keyId, signature: object.signature }),
      null,
      undefined,
      42,
      {},
      new Uint8Array(4)
    ];
    for (const bad of inputs) {
      let parsed: ReturnType<typeof parseSignedReceipt> | undefined;
      let verified: ReturnType<typeof verifyReceipt> | undefined;
      expect(() => (parsed = parseSignedReceipt(bad as string))).not.toThrow();
      expect(() => (verified = verifyReceipt(bad as string, publicKey))).not.toThrow();
      expect(parsed?.ok, String(bad).slice(0, 80)).toBe(false);
      expect(verified?.ok).toBe(false);
      if (parsed && !parsed.ok) expect(parsed.reason.code).toMatch(/^receipt\./);
    }
    const codes = (t: string) => {
      const r = parseSignedReceipt(t);
      return r.ok ? 'ok' : r.reason.code;
    };
    expect(codes(JSON.stringify(object, null, 2) + '\n')).toBe('receipt.noncanonical');
    expect(codes(text.replace('"type":"nightcore.receipt/v1"', '"type":"v2"'))).toBe(
      'receipt.type'
    );
    expect(codes(canonical({ ...object, extra: 1 }))).toBe('receipt.malformed');
    // A parsed object with junk goes through the same checks.
    expect(verifyReceipt({ ...object, extra: 1 } as any, publicKey).ok).toBe(false);
    expect(verifyReceipt({ receipt: 1n } as any, publicKey).ok).toBe(false);
  });
});

describe('output digests', () => {
  it('the run output matches; other output does not', async () => {
    const text = await signed();
    expect(verifyReceipt(text, publicKey, { stdout: STDOUT, stderr: STDERR }).ok).toBe(true);
    const changed = verifyReceipt(text, publicKey, {
      stdout: utf8('hello from wasm!\n'),
      stderr: STDERR
    });
    expect(changed.ok).toBe(false);
    expect(changed.reasons.map((r) => r.code)).toEqual(['receipt.stdout-digest']);
    const both = verifyReceipt(text, otherKey, { stdout: STDERR, stderr: STDOUT });
    expect(both.reasons.map((r) => r.code)).toEqual([
      'receipt.key-mismatch',
      'receipt.signature',
      'receipt.stdout-digest',
      'receipt.stderr-digest'
    ]);
    expect(verifyReceipt(text, publicKey, { stdout: new Uint8Array(0) }).ok).toBe(false);
  });
});

describe('the approval inside a receipt', () => {
  it('verifies when the decision statement is signed by the device key and names this run', async () => {
    const result = verifyReceipt(await signed(), publicKey);
    expect(result.reasons).toEqual([]);
  });

  it('a statement for another module, request or manifest is rejected', async () => {
    for (const d of [
      decision(hex('other module'), hex('manifest'), 'req-1'),
      decision(hex('module'), hex('other manifest'), 'req-1'),
      decision(hex('module'), hex('manifest'), 'req-2')
    ]) {
      const result = verifyReceipt(await signed({ decision: d }), publicKey);
      expect(result.reasons.map((r) => r.code)).toContain('receipt.approval-mismatch');
    }
  });

  it('a statement signed by another key is rejected', async () => {
    const d = decision(hex('module'), hex('manifest'), 'req-1', OTHER_SEED);
    const result = verifyReceipt(await signed({ decision: d }), publicKey);
    expect(result.reasons.map((r) => r.code)).toEqual(['receipt.approval-signature']);
  });
});
