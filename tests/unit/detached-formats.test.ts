// Detached signatures over a raw .wasm (minisign, SSHSIG, signify, raw Ed25519) with our own
// signers: round trips, detection, and one test per kind of tampering, each naming its reason code.
// Interop with the real Debian tools is in detached-interop.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, randomSecretKey } from '../../src/lib/core/ed25519';
import type { DetachedVerification, TrustedKey } from '../../src/lib/core/verdict';
import {
  detectSignatureFormat,
  verifyDetachedSignature
} from '../../src/lib/core/formats/detached';
import { parseMinisign, signMinisign, verifyMinisign } from '../../src/lib/core/formats/minisign';
import { signRaw, verifyRaw } from '../../src/lib/core/formats/raw';
import { parseSshsig, signSsh, verifySshsig } from '../../src/lib/core/formats/sshsig';
import { displayKeyId, keyNumberForPublicKey } from '../../src/lib/core/formats/common';
import { signSignify } from '../../src/lib/core/formats/signify';

const MODULE = concatBytes(
  new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  crypto.getRandomValues(new Uint8Array(3000))
);

async function makeKey() {
  const seed = randomSecretKey();
  const publicKey = publicKeyFromSecret(seed);
  const id = await sha256Hex(publicKey);
  const number = await keyNumberForPublicKey(publicKey);
  const numbered: TrustedKey = { id, publicKey, keyNumber: toHex(number), label: 'ci' };
  const bare: TrustedKey = { id, publicKey };
  return { seed, publicKey, id, number, numbered, bare };
}

const text = (s: string) => utf8(s);
const codes = (r: DetachedVerification) => r.reasons.map((x) => x.code);
const noteCodes = (r: DetachedVerification) => r.notes.map((x) => x.code);
const flipped = (bytes: Uint8Array, index: number) => {
  const copy = bytes.slice();
  copy[index] = copy[index]! ^ 0x01;
  return copy;
};
/** Applies f to the bytes base64-encoded on line `index` of a text signature file. */
const editB64Line = (file: string, index: number, f: (b: Uint8Array) => Uint8Array) =>
  file
    .split('\n')
    .map((line, i) => (i === index ? toBase64(f(fromBase64(line))) : line))
    .join('\n');
/** Edits the blob inside an SSHSIG armor and re-armors it. */
const editSshBlob = (armor: string, f: (b: Uint8Array) => Uint8Array) => {
  const lines = armor.trimEnd().split('\n');
  const blob = f(fromBase64(lines.slice(1, -1).join('')));
  return `${lines[0]}\n${toBase64(blob)}\n${lines.at(-1)}\n`;
};
const sshString = (s: string | Uint8Array) => {
  const b = typeof s === 'string' ? utf8(s) : s;
  return concatBytes(new Uint8Array([0, 0, b.length >> 8, b.length & 255]), b);
};

describe('detectSignatureFormat', () => {
  it('tells the four formats apart, and says null for anything else', async () => {
    const k = await makeKey();
    const minisig = await signMinisign(MODULE, k.seed, k.number);
    const legacy = await signMinisign(MODULE, k.seed, k.number, { legacy: true });
    const signify = await signSignify(MODULE, k.seed, k.number);
    const ssh = await signSsh(MODULE, k.seed);
    const raw = await signRaw(MODULE, k.seed);
    const cases: [string, Uint8Array, string | null][] = [
      ['minisign ED', text(minisig), 'minisign'],
      ['minisign Ed (legacy)', text(legacy), 'minisign'],
      ['signify', text(signify), 'signify'],
      ['sshsig', text(ssh), 'sshsig'],
      ['raw binary', raw, 'raw-ed25519'],
      ['raw base64', text(`${toBase64(raw)}\n`), 'raw-ed25519'],
      ['raw hex', text(`  ${toHex(raw).toUpperCase()}\r\n`), 'raw-ed25519'],
      ['empty', new Uint8Array(0), null],
      ['63 bytes', raw.subarray(1), null],
      ['json', text('{"nightcoreBundle":1}'), null],
      ['too large', new Uint8Array(70_000), null]
    ];
    for (const [name, bytes, expected] of cases) {
      expect(detectSignatureFormat(bytes), name).toBe(expected);
    }
  });

  it('reports an unknown format with signature.format-unknown', async () => {
    const k = await makeKey();
    const r = await verifyDetachedSignature(text('hello'), MODULE, [k.bare]);
    expect(r).toMatchObject({ ok: false, format: 'unknown' });
    expect(codes(r)).toEqual(['signature.format-unknown']);
  });

  it('never throws and never accepts arbitrary bytes (property)', async () => {
    const k = await makeKey();
    const prefixes = ['', 'untrusted comment: ', '-----BEGIN SSH SIGNATURE-----\n'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...prefixes),
        fc.uint8Array({ maxLength: 300 }),
        async (prefix, tail) => {
          const r = await verifyDetachedSignature(concatBytes(text(prefix), tail), MODULE, [
            k.numbered
          ]);
          expect(r.ok).toBe(false);
          expect(r.reasons.length).toBeGreaterThan(0);
        }
      ),
      { numRuns: 300 }
    );
  });

  it('refuses non-byte input as a reason, not an exception', async () => {
    const r = await verifyDetachedSignature('x' as unknown as Uint8Array, MODULE, []);
    expect(codes(r)).toEqual(['input.type']);
  });
});

describe('minisign', () => {
  it('verifies ED (prehashed) and legacy Ed, returning both comments', async () => {
    const k = await makeKey();
    for (const legacy of [false, true]) {
      const sig = await signMinisign(MODULE, k.seed, k.number, {
        trustedComment: 'timestamp:1700000000\tfile:hello.wasm',
        untrustedComment: 'signature from the CI key',
        legacy
      });
      expect(sig.split('\n')[1]!.slice(0, 2)).toBe(legacy ? 'RW' : 'RU');
      const r = await verifyDetachedSignature(text(sig), MODULE, [k.numbered]);
      expect(r, `legacy=${legacy}`).toMatchObject({
        ok: true,
        format: 'minisign',
        signers: [k.id],
        reasons: [],
        trustedComment: 'timestamp:1700000000\tfile:hello.wasm',
        untrustedComment: 'signature from the CI key'
      });
      expect(noteCodes(r)).toContain('minisign.untrusted-comment');
      expect(noteCodes(r).includes('minisign.legacy')).toBe(legacy);
    }
  });

  it('accepts CRLF line endings and a missing final newline; refuses a blank trailing line', async () => {
    const k = await makeKey();
    const sig = await signMinisign(MODULE, k.seed, k.number, { trustedComment: 'tc' });
    const crlf = sig.replace(/\n/g, '\r\n');
    expect((await verifyMinisign(text(crlf), MODULE, [k.numbered])).ok).toBe(true);
    expect((await verifyMinisign(text(sig.trimEnd()), MODULE, [k.numbered])).ok).toBe(true);
    const blank = await verifyMinisign(text(`${sig}\n`), MODULE, [k.numbered]);
    expect(codes(blank)).toEqual(['minisign.lines']);
  });

  it('tries a pinned key without a key number, and notes minisign.key-number-unknown', async () => {
    const k = await makeKey();
    const sig = await signMinisign(MODULE, k.seed, k.number, { trustedComment: 'tc' });
    const r = await verifyDetachedSignature(text(sig), MODULE, [k.bare]);
    expect(r.ok).toBe(true);
    expect(noteCodes(r)).toContain('minisign.key-number-unknown');
  });

  it('tamper: module byte flipped -> signature.invalid', async () => {
    const k = await makeKey();
    for (const legacy of [false, true]) {
      const sig = await signMinisign(MODULE, k.seed, k.number, { legacy });
      const r = await verifyDetachedSignature(text(sig), flipped(MODULE, 1000), [k.numbered]);
      expect(r.ok).toBe(false);
      expect(codes(r)).toEqual(['signature.invalid']);
      expect(r.trustedComment).toBeUndefined();
    }
  });

  it('tamper: signature bytes flipped -> signature.invalid', async () => {
    const k = await makeKey();
    const sig = await signMinisign(MODULE, k.seed, k.number);
    const bad = editB64Line(sig, 1, (b) => flipped(b, 40));
    const r = await verifyDetachedSignature(text(bad), MODULE, [k.numbered]);
    expect(codes(r)).toEqual(['signature.invalid']);
  });

  it('tamper: key number mismatch -> minisign.key-number-mismatch naming the key ID', async () => {
    const k = await makeKey();
    const other = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const sig = await signMinisign(MODULE, k.seed, other);
    // The pinned key would verify, but it is recorded with another key number: not tried.
    const r = await verifyDetachedSignature(text(sig), MODULE, [k.numbered]);
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['minisign.key-number-mismatch']);
    expect(displayKeyId(other)).toBe('0807060504030201');
    expect(r.reasons[0]!.message).toContain('key ID 0807060504030201');
  });

  it('tamper: altered trusted comment -> minisign.trusted-comment', async () => {
    const k = await makeKey();
    const sig = await signMinisign(MODULE, k.seed, k.number, { trustedComment: 'version 1.0.0' });
    const bad = sig.replace('trusted comment: version 1.0.0', 'trusted comment: version 9.9.9');
    const r = await verifyDetachedSignature(text(bad), MODULE, [k.numbered]);
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['minisign.trusted-comment']);
    expect(r.trustedComment).toBeUndefined();
  });

  it('tamper: signed by an unpinned key -> signature.untrusted', async () => {
    const signer = await makeKey();
    const pinned = await makeKey();
    const sig = await signMinisign(MODULE, signer.seed, signer.number);
    const r = await verifyDetachedSignature(text(sig), MODULE, [pinned.bare]);
    expect(codes(r)).toEqual(['signature.untrusted']);
    expect((await verifyDetachedSignature(text(sig), MODULE, [])).reasons[0]!.code).toBe(
      'signature.untrusted'
    );
  });

  it('tamper: truncated base64 -> minisign.base64', async () => {
    const k = await makeKey();
    const lines = (await signMinisign(MODULE, k.seed, k.number)).split('\n');
    lines[1] = lines[1]!.slice(0, -3);
    const r = await verifyDetachedSignature(text(lines.join('\n')), MODULE, [k.numbered]);
    expect(codes(r)).toEqual(['minisign.base64']);
  });

  it('tamper: extra trailing data -> minisign.lines', async () => {
    const k = await makeKey();
    const sig = await signMinisign(MODULE, k.seed, k.number);
    const r = await verifyDetachedSignature(text(`${sig}extra\n`), MODULE, [k.numbered]);
    expect(codes(r)).toEqual(['minisign.lines']);
  });

  it('refuses broken structure with specific codes', async () => {
    const k = await makeKey();
    const sig = await signMinisign(MODULE, k.seed, k.number);
    const cases: [string, string][] = [
      [
        sig.replace('\ntrusted comment: ', '\ntrusted-comment: '),
        'minisign.trusted-comment-prefix'
      ],
      [editB64Line(sig, 1, (b) => concatBytes(text('XY'), b.subarray(2))), 'minisign.algorithm'],
      [editB64Line(sig, 3, (b) => b.subarray(1)), 'minisign.length']
    ];
    for (const [bad, code] of cases) {
      const r = await verifyMinisign(text(bad), MODULE, [k.numbered]);
      expect(codes(r), code).toEqual([code]);
    }
    const parsed = parseMinisign(text(sig.replace('untrusted comment: ', 'comment: ')));
    expect(parsed.ok).toBe(false);
  });

  it('signers refuse comments that would break the file', async () => {
    const k = await makeKey();
    await expect(
      signMinisign(MODULE, k.seed, k.number, { trustedComment: 'a\nb' })
    ).rejects.toThrow(RangeError);
    await expect(signMinisign(MODULE, k.seed.subarray(1), k.number)).rejects.toThrow(RangeError);
    await expect(signMinisign(MODULE, k.seed, 'abcd')).rejects.toThrow(RangeError);
  });
});

describe('signify', () => {
  it('verifies, and keeps the untrusted comment as untrusted', async () => {
    const k = await makeKey();
    const sig = await signSignify(MODULE, k.seed, k.number, 'verify with ci.pub');
    const r = await verifyDetachedSignature(text(sig), MODULE, [k.numbered]);
    expect(r).toMatchObject({
      ok: true,
      format: 'signify',
      untrustedComment: 'verify with ci.pub'
    });
    expect(noteCodes(r)).toContain('signify.untrusted-comment');
  });

  it('tamper: module byte flipped -> signature.invalid', async () => {
    const k = await makeKey();
    const sig = await signSignify(MODULE, k.seed, k.number);
    expect(
      codes(await verifyDetachedSignature(text(sig), flipped(MODULE, 0), [k.numbered]))
    ).toEqual(['signature.invalid']);
  });

  it('tamper: signature bytes flipped -> signature.invalid', async () => {
    const k = await makeKey();
    const sig = editB64Line(await signSignify(MODULE, k.seed, k.number), 1, (b) => flipped(b, 70));
    expect(codes(await verifyDetachedSignature(text(sig), MODULE, [k.numbered]))).toEqual([
      'signature.invalid'
    ]);
  });

  it('tamper: key number mismatch -> signify.key-number-mismatch', async () => {
    const k = await makeKey();
    const sig = await signSignify(MODULE, k.seed, new Uint8Array(8));
    expect(codes(await verifyDetachedSignature(text(sig), MODULE, [k.numbered]))).toEqual([
      'signify.key-number-mismatch'
    ]);
  });

  it('tamper: truncated base64 -> signify.base64; trailing line -> signify.lines', async () => {
    const k = await makeKey();
    const sig = await signSignify(MODULE, k.seed, k.number);
    const truncated = sig.replace(/.{2}\n$/, '\n');
    expect(codes(await verifyDetachedSignature(text(truncated), MODULE, [k.numbered]))).toEqual([
      'signify.base64'
    ]);
    expect(
      codes(await verifyDetachedSignature(text(`${sig}junk\n`), MODULE, [k.numbered]))
    ).toEqual(['signify.lines']);
  });
});

describe('SSHSIG', () => {
  it('verifies sha512 and sha256 signatures', async () => {
    const k = await makeKey();
    for (const hash of ['sha512', 'sha256'] as const) {
      const sig = await signSsh(MODULE, k.seed, { hash });
      expect(sig.split('\n').every((l) => l.length <= 70)).toBe(true);
      const r = await verifyDetachedSignature(text(sig), MODULE, [k.bare]);
      expect(r, hash).toMatchObject({ ok: true, format: 'sshsig', signers: [k.id] });
      const parsed = parseSshsig(text(sig));
      expect(parsed.ok && parsed.value.hashAlgorithm).toBe(hash);
    }
  });

  it('tamper: namespace mismatch -> sshsig.namespace naming both', async () => {
    const k = await makeKey();
    const other = await signSsh(MODULE, k.seed, { namespace: 'file' });
    const r = await verifyDetachedSignature(text(other), MODULE, [k.bare]);
    expect(codes(r)).toEqual(['sshsig.namespace']);
    expect(r.reasons[0]!.message).toMatch(/"file".*"nightcore"/);
    // The key's own namespace wins over the option and the default.
    const ci = await signSsh(MODULE, k.seed, { namespace: 'ci' });
    const scoped = { ...k.bare, sshNamespace: 'ci' };
    expect((await verifyDetachedSignature(text(ci), MODULE, [scoped])).ok).toBe(true);
    expect(
      (await verifyDetachedSignature(text(ci), MODULE, [k.bare], { namespace: 'ci' })).ok
    ).toBe(true);
    const plain = await signSsh(MODULE, k.seed);
    expect(codes(await verifyDetachedSignature(text(plain), MODULE, [scoped]))).toEqual([
      'sshsig.namespace'
    ]);
  });

  it('tamper: module byte flipped -> signature.invalid', async () => {
    const k = await makeKey();
    const sig = await signSsh(MODULE, k.seed);
    expect(codes(await verifyDetachedSignature(text(sig), flipped(MODULE, 5), [k.bare]))).toEqual([
      'signature.invalid'
    ]);
  });

  it('tamper: signature bytes flipped -> signature.invalid', async () => {
    const k = await makeKey();
    const sig = editSshBlob(await signSsh(MODULE, k.seed), (b) => flipped(b, b.length - 10));
    expect(codes(await verifyDetachedSignature(text(sig), MODULE, [k.bare]))).toEqual([
      'signature.invalid'
    ]);
  });

  it('tamper: embedded key not pinned -> signature.untrusted (the embedded key proves nothing)', async () => {
    const signer = await makeKey();
    const pinned = await makeKey();
    const r = await verifyDetachedSignature(text(await signSsh(MODULE, signer.seed)), MODULE, [
      pinned.bare
    ]);
    expect(codes(r)).toEqual(['signature.untrusted']);
    expect(r.reasons[0]!.message).toContain(signer.id);
    expect(r.reasons[0]!.message).toMatch(/SHA256:[A-Za-z0-9+/]{43} /);
  });

  it('tamper: malformed armor -> sshsig.armor', async () => {
    const k = await makeKey();
    const sig = await signSsh(MODULE, k.seed);
    const noEnd = sig.replace('-----END SSH SIGNATURE-----\n', '');
    expect(codes(await verifyDetachedSignature(text(noEnd), MODULE, [k.bare]))).toEqual([
      'sshsig.armor'
    ]);
    const noBegin = sig.replace('-----BEGIN SSH SIGNATURE-----', '-----BEGIN SSH SIGNATURE----');
    expect(codes(await verifySshsig(text(noBegin), MODULE, [k.bare]))).toEqual(['sshsig.armor']);
    const blankLine = sig.replace('\n', '\n\n');
    expect(codes(await verifySshsig(text(blankLine), MODULE, [k.bare]))).toEqual(['sshsig.armor']);
  });

  it('tamper: truncated base64 -> sshsig.base64', async () => {
    const k = await makeKey();
    const lines = (await signSsh(MODULE, k.seed)).split('\n');
    lines[2] = lines[2]!.slice(0, -5);
    expect(codes(await verifyDetachedSignature(text(lines.join('\n')), MODULE, [k.bare]))).toEqual([
      'sshsig.base64'
    ]);
  });

  it('tamper: unknown hash algorithm -> sshsig.hash-algorithm', async () => {
    const k = await makeKey();
    const sig = editSshBlob(await signSsh(MODULE, k.seed), (b) => {
      const i = findBytes(b, sshString('sha512'));
      return concatBytes(b.subarray(0, i), sshString('sha1'), b.subarray(i + 10));
    });
    expect(codes(await verifyDetachedSignature(text(sig), MODULE, [k.bare]))).toEqual([
      'sshsig.hash-algorithm'
    ]);
  });

  it('tamper: extra trailing data -> sshsig.trailing-data', async () => {
    const k = await makeKey();
    const sig = editSshBlob(await signSsh(MODULE, k.seed), (b) =>
      concatBytes(b, new Uint8Array(3))
    );
    expect(codes(await verifyDetachedSignature(text(sig), MODULE, [k.bare]))).toEqual([
      'sshsig.trailing-data'
    ]);
  });

  it('refuses other key types, versions and a bad magic', async () => {
    const k = await makeKey();
    const sig = await signSsh(MODULE, k.seed);
    // The public key string starts at offset 10 and is 4 + 51 bytes long for ssh-ed25519.
    const rsa = editSshBlob(sig, (b) =>
      concatBytes(
        b.subarray(0, 10),
        sshString(concatBytes(sshString('ssh-rsa'), sshString(k.publicKey))),
        b.subarray(65)
      )
    );
    const v2 = editSshBlob(sig, (b) =>
      concatBytes(b.subarray(0, 9), new Uint8Array([2]), b.subarray(10))
    );
    const magic = editSshBlob(sig, (b) => concatBytes(text('SSHSIX'), b.subarray(6)));
    const short = editSshBlob(sig, (b) => b.subarray(0, 60));
    for (const [bad, code] of [
      [rsa, 'sshsig.key-type'],
      [v2, 'sshsig.version'],
      [magic, 'sshsig.magic'],
      [short, 'sshsig.truncated']
    ] as const) {
      expect(codes(await verifySshsig(text(bad), MODULE, [k.bare])), code).toEqual([code]);
    }
  });
});

describe('raw Ed25519', () => {
  it('verifies binary, base64 and hex forms, trying each pinned key', async () => {
    const k = await makeKey();
    const other = await makeKey();
    const sig = await signRaw(MODULE, k.seed);
    for (const form of [sig, text(toBase64(sig)), text(`\n${toHex(sig)}\n`)]) {
      const r = await verifyDetachedSignature(form, MODULE, [other.bare, k.bare]);
      expect(r).toMatchObject({ ok: true, format: 'raw-ed25519', signers: [k.id] });
    }
  });

  it('tamper: module byte flipped, signature flipped, unpinned key -> signature.untrusted', async () => {
    const k = await makeKey();
    const other = await makeKey();
    const sig = await signRaw(MODULE, k.seed);
    for (const [msg, s, keys] of [
      [flipped(MODULE, 9), sig, [k.bare]],
      [MODULE, flipped(sig, 3), [k.bare]],
      [MODULE, sig, [other.bare]]
    ] as const) {
      expect(codes(await verifyDetachedSignature(s, msg, keys))).toEqual(['signature.untrusted']);
    }
  });

  it('tamper: extra trailing data / truncated text -> raw.length or raw.encoding', async () => {
    const k = await makeKey();
    const sig = await signRaw(MODULE, k.seed);
    expect(codes(await verifyDetachedSignature(text(`${toHex(sig)}00`), MODULE, [k.bare]))).toEqual(
      ['raw.length']
    );
    expect(codes(await verifyRaw(text(toBase64(sig).slice(0, -3)), MODULE, [k.bare]))).toEqual([
      'raw.encoding'
    ]);
    expect(
      codes(await verifyRaw(concatBytes(sig, new Uint8Array([0xff])), MODULE, [k.bare]))
    ).toEqual(['raw.encoding']);
  });

  it('refuses the identity-key universal forgery', async () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forged = concatBytes(identity, new Uint8Array(32));
    const key = { id: await sha256Hex(identity), publicKey: identity };
    const r = await verifyDetachedSignature(forged, MODULE, [key]);
    expect(r.ok).toBe(false);
  });
});

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
