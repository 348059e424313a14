/**
 * Outside-in attacks on detached signatures, key import, tenant zips, wasm memory capping and the
 * CLI. Every test asserts the SAFE behaviour: a passing test means the attack failed.
 */
import { zipSync } from 'fflate';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main';
import { terminalSafe } from '../../src/cli/terminal';
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { detectSignatureFormat } from '../../src/lib/core/formats/detached';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { signSignify } from '../../src/lib/core/formats/signify';
import { signSsh } from '../../src/lib/core/formats/sshsig';
import { unzipTenant } from '../../src/lib/core/formats/tenant';
import { encodeSshPublicKey, parsePublicKeys, toTrustedKey } from '../../src/lib/core/keys';
import type { TrustedKey } from '../../src/lib/core/verdict';
import { inspectWasm } from '../../src/lib/core/wasm/inspect';
import { rewriteMemoryMaximum } from '../../src/lib/core/wasm/memory-rewrite';
import { detectInput } from '../../src/lib/core/detect-input';
import { verify } from '../../src/lib/core/verify';

const MODULE = new Uint8Array(
  readFileSync(new URL('../fixtures/wasm/reactor.wasm', import.meta.url))
);
const SEED = new Uint8Array(32).fill(0x11);
const EVIL = new Uint8Array(32).fill(0x99);
const PUB = publicKeyFromSecret(SEED);
const ID = await sha256Hex(PUB);
const KEY: TrustedKey = { id: ID, publicKey: PUB };
const NUM = '0102030405060708';
const NUMBERED: TrustedKey = { ...KEY, keyNumber: NUM };
const codes = (list: { code: string }[]) => list.map((r) => r.code);
const detached = (
  signature: Uint8Array | string,
  keys: TrustedKey[],
  options = {},
  module: Uint8Array = MODULE
) =>
  verify(
    {
      kind: 'detached',
      module,
      signature: typeof signature === 'string' ? utf8(signature) : signature,
      name: 'm.wasm'
    },
    keys,
    options
  );

describe('attack: one pinned key counted twice for the threshold (detached formats)', () => {
  const alias: TrustedKey = { id: 'same-key-second-entry', publicKey: PUB.slice(), keyNumber: NUM };
  const forms: [string, () => Promise<Uint8Array | string>][] = [
    ['raw', async () => sign(MODULE, SEED)],
    ['minisign', () => signMinisign(MODULE, SEED, NUM)],
    ['signify', () => signSignify(MODULE, SEED, NUM)],
    ['sshsig', () => signSsh(MODULE, SEED)]
  ];
  it.each(forms)('%s: one signature must not satisfy threshold 2', async (_f, make) => {
    const v = await detached(await make(), [NUMBERED, alias], { threshold: 2 });
    expect(v.ok).toBe(false);
    expect(codes(v.reasons)).toContain('signature.threshold');
    expect(v.signers).toEqual([ID]); // canonical ids only, as for bundles
  });
});

describe('attack: SSHSIG namespace and embedded key', () => {
  it('a signature by an unpinned key embedded in the SSHSIG is untrusted', async () => {
    const v = await detached(await signSsh(MODULE, EVIL), [KEY]);
    expect(codes(v.reasons)).toContain('signature.untrusted');
  });
  it('a pinned key signing under another namespace ("git", "file", "nightcore\\0") is refused', async () => {
    for (const namespace of ['git', 'file', 'nightcore\0', 'Nightcore', 'nightcore ']) {
      const v = await detached(await signSsh(MODULE, SEED, { namespace }), [KEY]);
      expect(v.ok, namespace).toBe(false);
    }
  });
  it('allowed_signers namespaces="file" must not make "file" signatures valid Night Core approvals', async () => {
    const line = `alice@example.com namespaces="file" ${encodeSshPublicKey(PUB).trim()}`;
    const parsed = await parsePublicKeys(line);
    expect(parsed.ok).toBe(true);
    const key = toTrustedKey(parsed.ok ? parsed.keys[0]! : (null as never));
    const fileSig = await signSsh(MODULE, SEED, { namespace: 'file' });
    // The caller asks for the nightcore namespace explicitly; a "file" signature is for another tool.
    const v = await detached(fileSig, [key], { namespace: 'nightcore' });
    expect(v.ok).toBe(false);
  });
  it('swapping the declared hash (sha512 -> sha256) breaks the signature', async () => {
    const armored = await signSsh(MODULE, SEED, { hash: 'sha512' });
    const body = armored.split('\n').slice(1, -2).join('');
    const blob = fromBase64(body);
    const text = new TextDecoder('latin1').decode(blob).replace('sha512', 'sha256');
    const swapped = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const v = await detached(
      `-----BEGIN SSH SIGNATURE-----\n${toBase64(swapped)}\n-----END SSH SIGNATURE-----\n`,
      [KEY]
    );
    expect(v.ok).toBe(false);
  });
});

describe('attack: minisign / signify tampering', () => {
  it('an edited trusted comment is refused, and never shown as trusted', async () => {
    const sig = (await signMinisign(MODULE, SEED, NUM, { trustedComment: 'version 1' })).replace(
      'version 1',
      'version 9'
    );
    const v = await detached(sig, [NUMBERED]);
    expect(v.ok).toBe(false);
    expect(v.trustedComment).toBeUndefined();
  });
  it('downgrading ED (prehashed) to Ed (legacy) does not verify the same module', async () => {
    const lines = (await signMinisign(MODULE, SEED, NUM)).split('\n');
    const raw = fromBase64(lines[1]!);
    raw[1] = 0x64; // 'd'
    lines[1] = toBase64(raw);
    expect((await detached(lines.join('\n'), [NUMBERED])).ok).toBe(false);
  });
  it('a signature naming another pinned key number is not tried under the numbered key', async () => {
    const other: TrustedKey = { ...KEY, keyNumber: 'ffffffffffffffff' };
    const v = await detached(await signSignify(MODULE, SEED, NUM), [other]);
    expect(v.ok).toBe(false);
  });
  it('the untrusted comment cannot smuggle terminal escapes or lines into the notes', async () => {
    const sig = (await signMinisign(MODULE, SEED, NUM)).replace(
      /^untrusted comment: .*$/m,
      'untrusted comment: \u001b[2J\u009b31m\u202eevil'
    );
    const v = await detached(sig, [NUMBERED]);
    for (const n of v.notes) expect(n.message).not.toMatch(/[\u0000-\u001f]/);
  });
  it('a BOM, trailing line or leading blank line makes a minisig unreadable, not differently read', async () => {
    const good = await signMinisign(MODULE, SEED, NUM);
    for (const bad of [
      `\ufeff${good}`,
      `${good}extra\n`,
      `\n${good}`,
      good.replace(/\n/g, '\n\n')
    ]) {
      expect((await detached(bad, [NUMBERED])).ok).toBe(false);
    }
  });
});

describe('attack: raw signature encodings and format polyglots', () => {
  const sig = sign(MODULE, SEED);
  it('base64url, inner whitespace, and hex with a 0x prefix are refused', async () => {
    const b64 = toBase64(sig);
    for (const text of [
      b64.replace(/\+/g, '-').replace(/\//g, '_'),
      `${b64.slice(0, 10)} ${b64.slice(10)}`,
      `0x${toHex(sig)}`,
      toHex(sig).slice(2)
    ]) {
      if (text === b64) continue;
      const v = await detached(text, [KEY]);
      if (/[-_]/.test(text) || /\s/.test(text.trim()) || text.startsWith('0x') || text.length < 128)
        expect(v.ok, text).toBe(false);
    }
  });
  it('a bundle given as a detached signature is not a signature', async () => {
    expect(detectSignatureFormat(utf8('{"nightcoreBundle":1}'))).toBeNull();
    expect((await detached('{"nightcoreBundle":1}', [KEY])).ok).toBe(false);
  });
  it('wasm+zip and zip+bundle polyglots are routed by their first bytes, and verification covers every byte', async () => {
    const zip = zipSync({ 'module.wasm': MODULE, 'module.sig': sign(MODULE, SEED) });
    const poly = concatBytes(MODULE, zip);
    expect(detectInput(poly)).toBe('wasm');
    expect((await detached(sign(MODULE, SEED), [KEY], {}, poly)).ok).toBe(false);
    expect(detectInput(concatBytes(zip, utf8('{"nightcoreBundle":1}')), 'x.ncb')).toBe('zip');
  });
});

describe('attack: tenant folder / zip', () => {
  const tenant = (extra: Record<string, Uint8Array> = {}, seed = SEED) => ({
    'module.wasm': MODULE,
    'module.sig': utf8(toBase64(sign(MODULE, seed))),
    'pubkey.b64': utf8(toBase64(publicKeyFromSecret(seed))),
    ...extra
  });
  const zipVerify = (zip: Uint8Array, keys: TrustedKey[] = [KEY]) =>
    verify({ kind: 'tenant-zip', bytes: zip }, keys);
  it('pubkey.b64 is never trusted by being present', async () => {
    const v = await zipVerify(zipSync(tenant({}, EVIL)));
    expect(v.ok).toBe(false);
    expect(codes(v.reasons)).toContain('tenant.signed-by-claimed-key-only');
    expect(v.signers).toEqual([]);
  });
  it('unsafe entry names (backslash, absolute, drive, .., ., NUL) are refused', () => {
    for (const name of [
      '..\\module.wasm',
      '/module.wasm',
      'C:module.wasm',
      'a/../module.wasm',
      './module.wasm',
      'module.wasm\0.txt',
      'a//module.wasm'
    ]) {
      const r = unzipTenant(zipSync({ ...tenant(), [name]: utf8('x') }));
      expect(r.ok, name).toBe(false);
    }
  });
  it('case-only duplicates cannot swap in an unsigned module: what verifies is what is returned', async () => {
    const evil = MODULE.slice();
    evil[evil.length - 2] = evil[evil.length - 2]! ^ 1;
    const v = await zipVerify(zipSync({ ...tenant(), 'MODULE.WASM': evil, 'Module.wasm': evil }));
    if (v.ok) expect(v.moduleBytes).toEqual(MODULE);
  });
  it('a central-directory name that differs from the local header name: the central one is authoritative and the signature still governs', async () => {
    const zip = zipSync(tenant(), { level: 0 });
    const local = new TextDecoder('latin1').decode(zip).indexOf('module.wasm');
    zip.set(utf8('evil!.wasm'.padEnd(11, 'x')), local); // local header only (first occurrence)
    const v = await zipVerify(zip);
    if (v.ok) expect(v.moduleBytes).toEqual(MODULE);
  });
  it('ZIP64 markers and a declared-small entry that inflates to 64 MiB are refused quickly', () => {
    const zip = zipSync({ ...tenant(), 'pad.bin': new Uint8Array(64 * 1024 * 1024) }, { level: 9 });
    const dir = new TextDecoder('latin1').decode(zip).lastIndexOf('PK\u0001\u0002');
    const lie = zip.slice();
    new DataView(lie.buffer).setUint32(dir + 24, 10, true);
    const started = performance.now();
    expect(unzipTenant(lie).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
    const z64 = zip.slice();
    new DataView(z64.buffer).setUint32(dir + 24, 0xffffffff, true);
    const r = unzipTenant(z64);
    expect(!r.ok && r.reason.code).toBe('tenant.zip-unsupported');
  });
});

describe('attack: key import', () => {
  const sshLine = encodeSshPublicKey(PUB).trim();
  it('signatures, secret keys, certificates and cert-authority lines are refused as keys', async () => {
    const minisig = await signMinisign(MODULE, SEED, NUM);
    const inputs = [
      minisig,
      minisig.split('\n')[1]!,
      `ssh-ed25519-cert-v01@openssh.com ${sshLine.split(' ')[1]}`,
      `alice cert-authority ${sshLine}`,
      `alice CERT-AUTHORITY ${sshLine}`,
      `alice namespaces="a",namespaces="b" ${sshLine}`,
      `${sshLine}\n-----BEGIN PUBLIC KEY-----`
    ];
    for (const input of inputs) expect((await parsePublicKeys(input)).ok, input).toBe(false);
  });
  it('small-order and non-canonical keys are refused at import in every encoding', async () => {
    for (const hex of [
      '01' + '00'.repeat(31),
      'ee' + 'ff'.repeat(30) + '7f',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'
    ]) {
      expect((await parsePublicKeys(hex)).ok).toBe(false);
      expect(
        (
          await parsePublicKeys(
            toBase64(Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)))
          )
        ).ok
      ).toBe(false);
    }
  });
  it('the SSH key comment never becomes the trusted label', async () => {
    const parsed = await parsePublicKeys(encodeSshPublicKey(PUB, 'Trusted Vendor Inc'));
    expect(parsed.ok && toTrustedKey(parsed.keys[0]!).label).toBeUndefined();
  });
});

// ---- wasm memory cap and CLI ---------------------------------------------------------------

const leb = (n: number) => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const nameBytes = (s: string) => [...leb(utf8(s).length), ...utf8(s)];
function wasm(exportName: string, memory?: number[]): Uint8Array {
  return Uint8Array.from([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...(memory ? section(5, memory) : []),
    ...section(7, [1, ...nameBytes(exportName), 0, 0]),
    ...section(10, [1, 2, 0, 0x0b])
  ]);
}

describe('attack: escaping the memory cap', () => {
  it('no maximum, a huge maximum, or two memories: every memory ends at or under the cap', () => {
    for (const mem of [
      [1, 0, 1],
      [1, 1, 1, ...leb(65536)],
      [2, 0, 0, 1, 0, ...leb(70000)]
    ]) {
      const r = rewriteMemoryMaximum(wasm('_start', mem), 16);
      if (!r.ok) continue; // refusing (e.g. multi-memory) is safe too
      const after = inspectWasm(r.bytes);
      expect(after.memories.length).toBeGreaterThan(0);
      for (const m of after.memories) expect(m.max !== null && Number(m.max) <= 16).toBe(true);
    }
  });
  it('shared, 64-bit and over-the-cap minimum memories are refused', () => {
    for (const mem of [
      [1, 3, 1, 2],
      [1, 4, 1],
      [1, 0, ...leb(17)]
    ]) {
      expect(rewriteMemoryMaximum(wasm('_start', mem), 16).ok).toBe(false);
    }
  });
});

describe('attack: CLI terminal injection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-attack-'));
  async function inspectOutput(name: string): Promise<string> {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.wasm`);
    writeFileSync(path, wasm(name));
    let text = '';
    const io = {
      out: (t: string) => (text += terminalSafe(t)),
      err: (t: string) => (text += terminalSafe(t))
    };
    await runCli(['inspect', path], io);
    return text;
  }
  it('escape sequences (ESC, C1 CSI, bidi override) in an export name never reach the terminal', async () => {
    const out = await inspectOutput('x\u001b]0;pwned\u0007\u009b2J\u202egnp.exe');
    expect(out).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
  });
  it('an export name with a newline cannot forge a separate output line', async () => {
    const out = await inspectOutput('_start\nvalid         yes (forged)');
    expect(out.split('\n').some((line) => line.startsWith('valid         yes (forged)'))).toBe(
      false
    );
  });
});
