// Interop with the real tools, both ways: signatures made by minisign, ssh-keygen, signify-openbsd
// and openssl verify with our verifiers, and signatures made by our signers verify with those
// tools. A missing tool FAILS the test with the apt package to install (no skipping).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, randomSecretKey } from '../../src/lib/core/ed25519';
import type { TrustedKey } from '../../src/lib/core/verdict';
import { verifyDetachedSignature } from '../../src/lib/core/formats/detached';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { signRaw } from '../../src/lib/core/formats/raw';
import { parseSshsig, signSsh } from '../../src/lib/core/formats/sshsig';
import { keyNumberForPublicKey } from '../../src/lib/core/formats/common';
import { signSignify } from '../../src/lib/core/formats/signify';

const PACKAGES: Record<string, string> = {
  minisign: 'minisign',
  'ssh-keygen': 'openssh-client',
  'signify-openbsd': 'signify-openbsd',
  openssl: 'openssl'
};

const dir = mkdtempSync(join(tmpdir(), 'nightcore-detached-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string) => join(dir, name);
const read = (name: string) => new Uint8Array(readFileSync(path(name)));
const write = (name: string, data: Uint8Array | string) => writeFileSync(path(name), data);

/** Runs a Debian tool in the temp dir; fails with the package to install when it is missing. */
function tool(bin: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(bin, args, { cwd: dir, encoding: 'utf8', timeout: 20_000, ...options });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      `${bin} is not installed: run "sudo apt-get install ${PACKAGES[bin] ?? bin}" ` +
        '(these interop tests need the real tool and never skip).'
    );
  }
  if (result.error) throw result.error;
  const out = `${String(result.stdout ?? '')}${String(result.stderr ?? '')}`;
  if (result.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} exited ${result.status}:\n${out}`);
  }
  return out;
}

const MODULE = concatBytes(
  new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  crypto.getRandomValues(new Uint8Array(20_000))
);
write('module.wasm', MODULE);

async function trusted(publicKey: Uint8Array, keyNumber?: Uint8Array): Promise<TrustedKey> {
  const key: TrustedKey = { id: await sha256Hex(publicKey), publicKey };
  if (keyNumber) key.keyNumber = toHex(keyNumber);
  return key;
}

/** minisign and signify public key files: line 2 is base64("Ed" || keynum(8) || key(32)). */
function parseKeyFile(name: string) {
  const bytes = fromBase64(readFileSync(path(name), 'utf8').split('\n')[1]!);
  expect(bytes.length).toBe(42);
  return { keyNumber: bytes.slice(2, 10), publicKey: bytes.slice(10) };
}

/** An OpenSSH .pub line: "ssh-ed25519 <base64 blob> comment"; the key is the blob's last 32 bytes. */
function parseSshPub(name: string): Uint8Array {
  const blob = fromBase64(readFileSync(path(name), 'utf8').split(' ')[1]!);
  expect(blob.length).toBe(51);
  return blob.slice(19);
}

const ED25519_SPKI_PREFIX = fromHex('302a300506032b6570032100');

async function ourKey() {
  const seed = randomSecretKey();
  const publicKey = publicKeyFromSecret(seed);
  const keyNumber = await keyNumberForPublicKey(publicKey);
  return { seed, publicKey, keyNumber };
}

const b64KeyFile = (comment: string, keyNumber: Uint8Array, publicKey: Uint8Array) =>
  `untrusted comment: ${comment}\n${toBase64(concatBytes(utf8('Ed'), keyNumber, publicKey))}\n`;

describe('interop: the real tools sign, Night Core verifies', () => {
  it('minisign -S (ED, prehashed) and -S -l (legacy Ed), with trusted comments', async () => {
    expect(tool('minisign', ['-v'])).toMatch(/minisign \d/);
    tool('minisign', ['-G', '-W', '-p', 'mini.pub', '-s', 'mini.sec'], { input: '' });
    const { keyNumber, publicKey } = parseKeyFile('mini.pub');
    const key = await trusted(publicKey, keyNumber);
    for (const legacy of [false, true]) {
      const sig = legacy ? 'legacy.minisig' : 'module.minisig';
      const comment = legacy ? 'legacy build 7' : 'build 42\tcommit abc';
      tool('minisign', [
        '-S',
        ...(legacy ? ['-l'] : []),
        '-s',
        'mini.sec',
        '-m',
        'module.wasm',
        '-x',
        sig,
        '-t',
        comment,
        '-c',
        'made by the minisign CLI'
      ]);
      const r = await verifyDetachedSignature(read(sig), MODULE, [key]);
      expect(r, sig).toMatchObject({
        ok: true,
        format: 'minisign',
        signers: [key.id],
        trustedComment: comment,
        untrustedComment: 'made by the minisign CLI'
      });
      expect(r.notes.some((n) => n.code === 'minisign.legacy')).toBe(legacy);
      // The same key imported without its key number still verifies, with a note.
      const bare = await verifyDetachedSignature(read(sig), MODULE, [{ id: key.id, publicKey }]);
      expect(bare.ok).toBe(true);
      expect(bare.notes.map((n) => n.code)).toContain('minisign.key-number-unknown');
    }
  });

  it('ssh-keygen -Y sign, sha512 and sha256; another namespace is sshsig.namespace', async () => {
    tool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ci@nightcore', '-f', 'ssh_key']);
    const key = await trusted(parseSshPub('ssh_key.pub'));
    const sign = (namespace: string, extra: string[] = []) =>
      utf8(
        tool('ssh-keygen', ['-Y', 'sign', '-f', 'ssh_key', '-n', namespace, ...extra], {
          input: MODULE,
          stdio: ['pipe', 'pipe', 'ignore']
        })
      );
    const sha512 = sign('nightcore');
    const sha256 = sign('nightcore', ['-O', 'hashalg=sha256']);
    const parsed = [parseSshsig(sha512), parseSshsig(sha256)].map(
      (p) => p.ok && p.value.hashAlgorithm
    );
    expect(parsed).toEqual(['sha512', 'sha256']);
    for (const sig of [sha512, sha256]) {
      const r = await verifyDetachedSignature(sig, MODULE, [key]);
      expect(r).toMatchObject({ ok: true, format: 'sshsig', signers: [key.id] });
    }
    const other = await verifyDetachedSignature(sign('other'), MODULE, [key]);
    expect(other.ok).toBe(false);
    expect(other.reasons.map((x) => x.code)).toEqual(['sshsig.namespace']);
  });

  it('signify-openbsd -S', async () => {
    tool('signify-openbsd', ['-G', '-n', '-p', 'signify.pub', '-s', 'signify.sec']);
    tool('signify-openbsd', ['-S', '-s', 'signify.sec', '-m', 'module.wasm', '-x', 'module.sig']);
    const { keyNumber, publicKey } = parseKeyFile('signify.pub');
    const key = await trusted(publicKey, keyNumber);
    const r = await verifyDetachedSignature(read('module.sig'), MODULE, [key]);
    expect(r).toMatchObject({ ok: true, format: 'signify', signers: [key.id] });
    expect(r.untrustedComment).toBe('verify with signify.pub');
  });

  it('openssl pkeyutl -sign -rawin (raw Ed25519; binary, base64 and hex)', async () => {
    tool('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'ossl.pem']);
    tool('openssl', ['pkey', '-in', 'ossl.pem', '-pubout', '-outform', 'DER', '-out', 'ossl.der']);
    const der = read('ossl.der');
    expect(toHex(der.subarray(0, 12))).toBe(toHex(ED25519_SPKI_PREFIX));
    const key = await trusted(der.slice(12));
    tool('openssl', [
      'pkeyutl',
      '-sign',
      '-rawin',
      '-inkey',
      'ossl.pem',
      '-in',
      'module.wasm',
      '-out',
      'ossl.sig'
    ]);
    const sig = read('ossl.sig');
    for (const form of [sig, utf8(`${toBase64(sig)}\n`), utf8(`${toHex(sig)}\n`)]) {
      const r = await verifyDetachedSignature(form, MODULE, [key]);
      expect(r).toMatchObject({ ok: true, format: 'raw-ed25519', signers: [key.id] });
    }
  });
});

describe('interop: Night Core signs, the real tools verify', () => {
  it('minisign -V accepts signMinisign (ED and legacy) and prints the trusted comment', async () => {
    const k = await ourKey();
    write('ours-mini.pub', b64KeyFile('minisign public key', k.keyNumber, k.publicKey));
    for (const legacy of [false, true]) {
      const sig = await signMinisign(MODULE, k.seed, k.keyNumber, {
        trustedComment: `night core ${legacy ? 'legacy' : 'prehashed'}`,
        legacy
      });
      write('ours.minisig', sig);
      const out = tool('minisign', [
        '-V',
        '-p',
        'ours-mini.pub',
        '-m',
        'module.wasm',
        '-x',
        'ours.minisig'
      ]);
      expect(out).toContain('Signature and comment signature verified');
      expect(out).toContain(`Trusted comment: night core ${legacy ? 'legacy' : 'prehashed'}`);
    }
  });

  it('ssh-keygen -Y verify accepts signSsh (sha512 and sha256)', async () => {
    const k = await ourKey();
    const blob = concatBytes(
      fromHex('0000000b'),
      utf8('ssh-ed25519'),
      fromHex('00000020'),
      k.publicKey
    );
    write('allowed_signers', `ci@nightcore namespaces="nightcore" ssh-ed25519 ${toBase64(blob)}\n`);
    for (const hash of ['sha512', 'sha256'] as const) {
      write('ours.sshsig', await signSsh(MODULE, k.seed, { hash }));
      const out = tool(
        'ssh-keygen',
        [
          '-Y',
          'verify',
          '-f',
          'allowed_signers',
          '-I',
          'ci@nightcore',
          '-n',
          'nightcore',
          '-s',
          'ours.sshsig'
        ],
        { input: MODULE }
      );
      expect(out, hash).toContain('Good "nightcore" signature for ci@nightcore');
    }
  });

  it('signify-openbsd -V accepts signSignify', async () => {
    const k = await ourKey();
    write('ours-signify.pub', b64KeyFile('signify public key', k.keyNumber, k.publicKey));
    write('ours.sig', await signSignify(MODULE, k.seed, k.keyNumber));
    const out = tool('signify-openbsd', [
      '-V',
      '-p',
      'ours-signify.pub',
      '-m',
      'module.wasm',
      '-x',
      'ours.sig'
    ]);
    expect(out).toContain('Signature Verified');
  });

  it('openssl pkeyutl -verify -rawin accepts signRaw', async () => {
    const k = await ourKey();
    const der = concatBytes(ED25519_SPKI_PREFIX, k.publicKey);
    write(
      'ours-pub.pem',
      `-----BEGIN PUBLIC KEY-----\n${toBase64(der)}\n-----END PUBLIC KEY-----\n`
    );
    write('ours-raw.sig', await signRaw(MODULE, k.seed));
    const out = tool('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      'ours-pub.pem',
      '-rawin',
      '-in',
      'module.wasm',
      '-sigfile',
      'ours-raw.sig'
    ]);
    expect(out).toContain('Signature Verified Successfully');
  });
});
