// Checkpoints as C2SP signed notes (src/lib/core/audit/checkpoint.ts). The fixture
// tests/fixtures/audit/checkpoint.json was made with node:crypto only; here the code under test must
// produce it byte for byte, node:crypto must verify what the code signs, and the Go sumdb/note
// example note must verify. Every tampering fails with its own reason code.
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex, utf8 } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import {
  formatCheckpoint,
  noteKeyHash,
  noteVerifierKey,
  parseNoteVerifierKey,
  parseSignedCheckpoint,
  signCheckpoint,
  verifySignedCheckpoint
} from '../../src/lib/core/audit/checkpoint';
import type { NoteSigner } from '../../src/lib/core/audit/checkpoint';

const F = JSON.parse(
  readFileSync(new URL('../fixtures/audit/checkpoint.json', import.meta.url), 'utf8')
) as {
  seed: string;
  publicKey: string;
  name: string;
  origin: string;
  size: number;
  root: string;
  keyHash: string;
  body: string;
  note: string;
  vkey: string;
  go: { vkey: string; note: string };
};

const SEED = fromHex(F.seed);
const PUBLIC = publicKeyFromSecret(SEED);
const OTHER_PUBLIC = publicKeyFromSecret(new Uint8Array(32).fill(7));
const signer: NoteSigner = {
  name: F.name,
  publicKey: PUBLIC,
  sign: async (message) => sign(message, SEED)
};
const CHECKPOINT = { origin: F.origin, size: F.size, root: fromHex(F.root) };

/** node:crypto's Ed25519 verify, from the raw 32-byte key (SPKI = fixed prefix + key). */
function nodeVerifies(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) {
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]),
    format: 'der',
    type: 'spki'
  });
  return nodeVerify(null, message, key, signature);
}

const reasonOf = (result: ReturnType<typeof verifySignedCheckpoint>) =>
  result.ok ? 'ok' : result.reason.code;

describe('format and sign', () => {
  it('formats the C2SP tlog-checkpoint body', () => {
    expect(formatCheckpoint(CHECKPOINT)).toBe(F.body);
    expect(F.body).toBe(`${F.origin}\n4\n${Buffer.from(F.root, 'hex').toString('base64')}\n`);
  });

  it('signs the note byte for byte as the independent node:crypto signer did', async () => {
    expect(toHex(PUBLIC)).toBe(F.publicKey);
    expect(await signCheckpoint(CHECKPOINT, signer)).toBe(F.note);
  });

  it('writes the signature line as em dash, space, name, space, base64(key hash || sig)', async () => {
    const note = await signCheckpoint(CHECKPOINT, signer);
    const line = note.slice(F.body.length + 1, -1);
    expect(line.startsWith('\u2014 ' + F.name + ' ')).toBe(true);
    const blob = Buffer.from(line.split(' ')[2]!, 'base64');
    expect(blob.length).toBe(68);
    // key hash = SHA-256(name || 0x0A || 0x01 || key)[0:4], recomputed with node:crypto
    const keyHash = createHash('sha256')
      .update(Buffer.concat([Buffer.from(F.name), Buffer.of(0x0a, 0x01), Buffer.from(PUBLIC)]))
      .digest()
      .subarray(0, 4);
    expect(blob.subarray(0, 4).toString('hex')).toBe(keyHash.toString('hex'));
    expect(toHex(noteKeyHash(F.name, PUBLIC))).toBe(F.keyHash);
    // node:crypto verifies the signature over the body bytes.
    expect(nodeVerifies(utf8(F.body), blob.subarray(4), PUBLIC)).toBe(true);
    expect(nodeVerifies(utf8(F.body + 'x'), blob.subarray(4), PUBLIC)).toBe(false);
  });

  it('refuses a signer whose signature is not by its public key', async () => {
    const liar = { ...signer, publicKey: OTHER_PUBLIC };
    await expect(signCheckpoint(CHECKPOINT, liar)).rejects.toThrow(/does not verify/);
    const short = { ...signer, sign: async () => new Uint8Array(63) };
    await expect(signCheckpoint(CHECKPOINT, short)).rejects.toThrow(TypeError);
  });

  it.each([
    ['an origin with a space', { ...CHECKPOINT, origin: 'night core' }],
    ['an origin with a plus', { ...CHECKPOINT, origin: 'a+b' }],
    ['an empty origin', { ...CHECKPOINT, origin: '' }],
    ['an origin with a newline', { ...CHECKPOINT, origin: 'a\nb' }],
    ['a fractional size', { ...CHECKPOINT, size: 1.5 }],
    ['a negative size', { ...CHECKPOINT, size: -1 }],
    ['a short root', { ...CHECKPOINT, root: new Uint8Array(31) }]
  ])('formatCheckpoint refuses %s', (_what, checkpoint) => {
    expect(() => formatCheckpoint(checkpoint)).toThrow(TypeError);
  });
});

describe('verify', () => {
  it('verifies the fixture note, with and without the expected name and origin', () => {
    const result = verifySignedCheckpoint(F.note, {
      publicKey: PUBLIC,
      name: F.name,
      origin: F.origin
    });
    expect(result).toEqual({ ok: true, checkpoint: CHECKPOINT, signer: F.name });
    expect(verifySignedCheckpoint(F.note, { publicKey: PUBLIC }).ok).toBe(true);
    const parsed = parseSignedCheckpoint(F.note);
    expect(parsed.ok && parsed.signatures.map((s) => [s.name, s.keyHash])).toEqual([
      [F.name, F.keyHash]
    ]);
  });

  it('verifies the Go sumdb/note example (the signature, then refuses its body as a checkpoint)', () => {
    const key = parseNoteVerifierKey(F.go.vkey);
    expect(key.ok).toBe(true);
    if (!key.ok) return;
    expect(noteVerifierKey(key.name, key.publicKey)).toBe(F.go.vkey);
    // The signature verifies; the text is not a checkpoint body, which is the next check.
    expect(reasonOf(verifySignedCheckpoint(F.go.note, { publicKey: key.publicKey }))).toBe(
      'audit.checkpoint-malformed'
    );
    const altered = F.go.note.replace('cryptography', 'cryptographY');
    expect(reasonOf(verifySignedCheckpoint(altered, { publicKey: key.publicKey }))).toBe(
      'audit.note-signature'
    );
  });

  it('writes and reads verifier keys', () => {
    expect(noteVerifierKey(F.name, PUBLIC)).toBe(F.vkey);
    expect(parseNoteVerifierKey(F.vkey + '\n')).toEqual({
      ok: true,
      name: F.name,
      publicKey: PUBLIC
    });
    const [name, hash, key] = F.vkey.split('+') as [string, string, string];
    for (const bad of [
      `${name}+${hash}`,
      `other+${hash}+${key}`,
      `${name}+00000000+${key}`,
      `${name}+${hash}+${key.slice(0, -4)}`,
      `${name}+${hash}+${Buffer.concat([Buffer.of(2), Buffer.from(PUBLIC)]).toString('base64')}`,
      `na me+${hash}+${key}`
    ]) {
      expect(parseNoteVerifierKey(bad).ok, bad).toBe(false);
    }
  });

  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const [bodyText, sigLine] = [F.body, F.note.slice(F.body.length + 1)];
  const sigBlob = fromBase64(sigLine.slice(sigLine.lastIndexOf(' ') + 1, -1));
  const withSig = (blob: Uint8Array, name = F.name) => `${bodyText}\n\u2014 ${name} ${b64(blob)}\n`;
  const flipAt = (bytes: Uint8Array, i: number) => {
    const copy = bytes.slice();
    copy[i]! ^= 1;
    return copy;
  };
  const cases: [string, string, { name?: string; origin?: string; key?: Uint8Array }, string][] = [
    ['origin changed', F.note.replace('device-0001', 'device-0002'), {}, 'audit.note-signature'],
    ['size changed', F.note.replace('\n4\n', '\n5\n'), {}, 'audit.note-signature'],
    [
      'root changed',
      F.note.replace(F.body.split('\n')[2]!, b64(flipAt(fromHex(F.root), 0))),
      {},
      'audit.note-signature'
    ],
    ['signature byte flipped', withSig(flipAt(sigBlob, 40)), {}, 'audit.note-signature'],
    ['signature R flipped', withSig(flipAt(sigBlob, 4)), {}, 'audit.note-signature'],
    [
      'key name changed on the line',
      withSig(sigBlob, 'someone-else'),
      {},
      'audit.note-unknown-key'
    ],
    ['key hash changed', withSig(flipAt(sigBlob, 0)), {}, 'audit.note-unknown-key'],
    ['another trusted key', F.note, { key: OTHER_PUBLIC }, 'audit.note-unknown-key'],
    ['another expected name', F.note, { name: 'other-device' }, 'audit.note-unknown-key'],
    [
      'another expected origin',
      F.note,
      { origin: 'nightcore.test/other' },
      'audit.checkpoint-origin'
    ],
    ['no blank line', F.note.replace('\n\n', '\n'), {}, 'audit.note-malformed'],
    ['truncated (final newline cut)', F.note.slice(0, -1), {}, 'audit.note-malformed'],
    ['truncated (signature line cut)', F.note.slice(0, -20), {}, 'audit.note-malformed'],
    ['hyphen instead of em dash', F.note.replace('\u2014', '-'), {}, 'audit.note-malformed'],
    ['CRLF line ends', F.note.replaceAll('\n', '\r\n'), {}, 'audit.note-malformed'],
    ['no signatures', F.body + '\n', {}, 'audit.note-malformed'],
    ['a small-order trusted key', F.note, { key: new Uint8Array(32) }, 'audit.note-key']
  ];
  it.each(cases)('%s: %s', (_what, text, opts, code) => {
    const verifier = { publicKey: opts.key ?? PUBLIC, ...opts };
    expect(reasonOf(verifySignedCheckpoint(text, verifier))).toBe(code);
  });

  it('refuses a well-signed body that is not a Night Core checkpoint', async () => {
    const signBody = async (body: string) => {
      const sig = sign(utf8(body), SEED);
      const blob = Buffer.concat([Buffer.from(noteKeyHash(F.name, PUBLIC)), Buffer.from(sig)]);
      return `${body}\n\u2014 ${F.name} ${blob.toString('base64')}\n`;
    };
    for (const body of [
      F.body + 'extension line\n',
      `${F.origin}\n04\n${F.body.split('\n')[2]}\n`,
      `${F.origin}\n4\n${Buffer.alloc(31).toString('base64')}\n`,
      `${F.origin}\n4\nnot base64\n`,
      `${F.origin}\n99999999999999999\n${F.body.split('\n')[2]}\n`
    ]) {
      expect(
        reasonOf(verifySignedCheckpoint(await signBody(body), { publicKey: PUBLIC })),
        body
      ).toBe('audit.checkpoint-malformed');
    }
  });

  it('accepts a cosigned note when one line is by the trusted key', () => {
    const other = new Uint8Array(32).fill(9);
    const blob = Buffer.concat([
      Buffer.from(noteKeyHash('witness', publicKeyFromSecret(other))),
      Buffer.from(sign(utf8(F.body), other))
    ]);
    const cosigned = `${F.note}\u2014 witness ${blob.toString('base64')}\n`;
    expect(verifySignedCheckpoint(cosigned, { publicKey: PUBLIC }).ok).toBe(true);
    expect(verifySignedCheckpoint(cosigned, { publicKey: publicKeyFromSecret(other) }).ok).toBe(
      true
    );
  });
});

describe('verifier keys whose base64 contains "+"', () => {
  it('parse back (split on the first two "+" only)', async () => {
    const { noteVerifierKey, parseNoteVerifierKey } =
      await import('../../src/lib/core/audit/checkpoint');
    const { publicKeyFromSecret } = await import('../../src/lib/core/ed25519');
    let found = 0;
    for (let i = 1; i < 64 && found < 3; i++) {
      const publicKey = publicKeyFromSecret(new Uint8Array(32).fill(i));
      const vkey = noteVerifierKey('device', publicKey);
      if (!vkey.split('+').slice(2).join('+').includes('+')) continue;
      found++;
      const parsed = parseNoteVerifierKey(vkey);
      expect(parsed.ok && [...parsed.publicKey]).toEqual([...publicKey]);
    }
    expect(found).toBe(3);
  });
});
