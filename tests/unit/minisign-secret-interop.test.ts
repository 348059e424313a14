// The minisign secret key files Night Core writes (Keys page, core/keys/minisign-secret.ts), used
// by the real minisign binary, and minisign's own -W keys read by our parser. A missing minisign
// FAILS with the package to install, as in the other interop tests (they never skip).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, randomSecretKey } from '../../src/lib/core/ed25519';
import { verifyDetachedSignature } from '../../src/lib/core/formats/detached';
import {
  canonicalKeyId,
  encodeMinisignPublicKey,
  encodeMinisignSecretKey,
  parseMinisignSecretKey,
  parsePublicKeys,
  publicKeyNumber,
  toTrustedKey
} from '../../src/lib/core/keys';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { runCli } from '../../src/cli/main';
import { copyFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'nightcore-minisign-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = (name: string) => join(dir, name);

function minisign(args: string[]): string {
  const result = spawnSync('minisign', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(
      'minisign is not installed: run "sudo apt-get install minisign" (interop tests never skip).'
    );
  }
  if (result.error) throw result.error;
  const out = `${result.stdout}${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`minisign ${args.join(' ')} exited ${result.status}:\n${out}`);
  return out;
}

const MESSAGE = utf8(`a file to sign ${Date.now()}\n`.repeat(1000));
writeFileSync(path('file.bin'), MESSAGE);

describe('our minisign secret key in the real minisign', () => {
  it('signs a file with minisign -S; minisign -V and our verifier accept it under our public key', async () => {
    const seed = randomSecretKey();
    const publicKey = publicKeyFromSecret(seed);
    const keyNumber = await publicKeyNumber(publicKey);
    writeFileSync(path('ours.key'), encodeMinisignSecretKey(seed, keyNumber), { mode: 0o600 });
    writeFileSync(path('ours.pub'), encodeMinisignPublicKey(publicKey, keyNumber));
    // minisign -R rebuilds the public key file from our secret key: the same key and key number.
    minisign(['-R', '-W', '-s', 'ours.key', '-p', 'rebuilt.pub']);
    expect(readFileSync(path('rebuilt.pub'), 'utf8').split('\n')[1]).toBe(
      encodeMinisignPublicKey(publicKey, keyNumber).split('\n')[1]
    );
    for (const legacy of [false, true]) {
      const sig = legacy ? 'file.legacy.minisig' : 'file.bin.minisig';
      minisign([
        '-S',
        '-s',
        'ours.key',
        '-m',
        'file.bin',
        '-x',
        sig,
        '-t',
        'made by minisign',
        ...(legacy ? ['-l'] : [])
      ]);
      expect(
        minisign(['-V', '-p', 'ours.pub', '-m', 'file.bin', '-x', sig, ...(legacy ? ['-l'] : [])])
      ).toContain('Signature and comment signature verified');
      const parsed = await parsePublicKeys(readFileSync(path('ours.pub'), 'utf8'));
      if (!parsed.ok) throw new Error(parsed.reason.message);
      const key = toTrustedKey(parsed.keys[0]!);
      expect(key.id).toBe(await canonicalKeyId(publicKey));
      const verdict = await verifyDetachedSignature(readFileSync(path(sig)), MESSAGE, [key]);
      expect(verdict.ok, JSON.stringify(verdict.reasons)).toBe(true);
      // The same signature fails for a changed file: the check can fail.
      const changed = MESSAGE.slice();
      changed[0]! ^= 1;
      expect((await verifyDetachedSignature(readFileSync(path(sig)), changed, [key])).ok).toBe(
        false
      );
    }
  });

  it('minisign refuses our key file when its seed was changed (sanity: it really reads our bytes)', async () => {
    const seed = randomSecretKey();
    const publicKey = publicKeyFromSecret(seed);
    const keyNumber = await publicKeyNumber(publicKey);
    writeFileSync(path('p.pub'), encodeMinisignPublicKey(publicKey, keyNumber));
    const text = encodeMinisignSecretKey(seed, keyNumber);
    const bytes = Buffer.from(text.split('\n')[1]!, 'base64');
    bytes[62]! ^= 1; // first seed byte
    writeFileSync(path('p.key'), `untrusted comment: x\n${bytes.toString('base64')}\n`);
    // minisign signs with the seed it reads, then checks against -p: it must notice.
    expect(() =>
      minisign(['-S', '-s', 'p.key', '-p', 'p.pub', '-m', 'file.bin', '-x', 'p.minisig'])
    ).toThrow();
  });
});

describe("minisign's own -W secret key in our parser", () => {
  it('reads the seed, public key and key number minisign made; our signature verifies with minisign -V', async () => {
    minisign(['-G', '-W', '-f', '-p', 'theirs.pub', '-s', 'theirs.key']);
    const parsed = parseMinisignSecretKey(readFileSync(path('theirs.key'), 'utf8'));
    expect(parsed.ok, parsed.ok ? '' : parsed.reason.message).toBe(true);
    if (!parsed.ok) return;
    const pub = await parsePublicKeys(readFileSync(path('theirs.pub'), 'utf8'));
    if (!pub.ok) throw new Error(pub.reason.message);
    expect(pub.keys[0]!.publicKey).toEqual(parsed.publicKey);
    expect(pub.keys[0]!.keyNumber).toBe(Buffer.from(parsed.keyNumber).toString('hex'));
    writeFileSync(path('ours.minisig'), await signMinisign(MESSAGE, parsed.seed, parsed.keyNumber));
    expect(minisign(['-V', '-p', 'theirs.pub', '-m', 'file.bin', '-x', 'ours.minisig'])).toContain(
      'Signature and comment signature verified'
    );
  });
});

describe('nightcore sign --key with a minisign secret key', () => {
  it("signs a bundle with minisign's own -W key; verify accepts it under minisign's .pub", async () => {
    minisign(['-G', '-W', '-f', '-p', 'cli.pub', '-s', 'cli.key']);
    copyFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url), path('hello.wasm'));
    let err = '';
    const io = { out: () => {}, err: (t: string) => (err += t) };
    const signed = await runCli(
      [
        'sign',
        path('hello.wasm'),
        '--key',
        path('cli.key'),
        '--version',
        '1.0.0',
        '--out',
        path('h.ncb')
      ],
      io
    );
    expect(signed, err).toBe(0);
    expect(await runCli(['verify', path('h.ncb'), '--key', path('cli.pub')], io)).toBe(0);
    // The same bundle under another key is refused: the check can fail.
    expect(await runCli(['verify', path('h.ncb'), '--key', path('theirs.pub')], io)).toBe(1);
  });
});
