/**
 * The built CLI (dist/cli/nightcore.js, made by `npm run build`) against the real tools: what it
 * signs, minisign / ssh-keygen / signify / openssl verify; what they sign, it verifies; and every
 * rejection exits 1 with its reason, every usage error exits 2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const HELLO = new URL('../fixtures/wasm/hello.wasm', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'nightcore-cli-'));
const at = (name: string) => join(dir, name);

function nightcore(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function tool(command: string, args: string[], input?: Buffer) {
  try {
    return execFileSync(command, args, {
      cwd: dir,
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe']
    });
  } catch (error) {
    const e = error as { code?: string; stderr?: string; status?: number };
    if (e.code === 'ENOENT') {
      throw new Error(
        `${command} is not installed: apt-get install -y minisign signify-openbsd openssh-client openssl`
      );
    }
    throw new Error(`${command} ${args.join(' ')} failed (${e.status}): ${e.stderr}`);
  }
}

beforeAll(() => {
  expect(existsSync(CLI), 'dist/cli/nightcore.js is missing: run npm run build').toBe(true);
  copyFileSync(HELLO, at('hello.wasm'));
  expect(nightcore('keygen', '--out', 'alice').code).toBe(0);
  expect(nightcore('keygen', '--out', 'bob').code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keygen', () => {
  it('writes the private key with mode 0600 and the public key in every form', () => {
    expect(statSync(at('alice.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(at('alice.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    // openssl reads the private key and derives the same public key we wrote.
    const derived = tool('openssl', ['pkey', '-in', 'alice.key', '-pubout']);
    expect(derived).toBe(readFileSync(at('alice.pub.pem'), 'utf8'));
    // ssh-keygen reads the ssh line; minisign's key id is in its own comment.
    expect(tool('ssh-keygen', ['-lf', 'alice.ssh.pub'])).toMatch(
      /^256 SHA256:\S+ nightcore \(ED25519\)/
    );
    expect(readFileSync(at('alice.minisign.pub'), 'utf8')).toMatch(
      /^untrusted comment: minisign public key [0-9A-F]+\n/
    );
  });

  it('refuses to replace existing files without --force', () => {
    const again = nightcore('keygen', '--out', 'alice');
    expect(again.code).toBe(1);
    expect(again.err).toContain('alice.key exists; pass --force');
  });
});

describe('bundles', () => {
  it('signs a module into a bundle that verifies, and tampering is rejected with its reason', () => {
    const signed = nightcore(
      'sign',
      'hello.wasm',
      '--key',
      'alice.key',
      '--version',
      '1.2.3',
      '--out',
      'hello.ncb'
    );
    expect(signed.code, signed.err).toBe(0);
    const ok = nightcore('verify', 'hello.ncb', '--key', 'alice.pub');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^verified: hello 1\.2\.3 \(bundle\)/);

    const bundle = JSON.parse(readFileSync(at('hello.ncb'), 'utf8'));
    const module = Buffer.from(bundle.module, 'base64');
    module[module.length - 1]! ^= 1;
    writeFileSync(
      at('tampered.ncb'),
      JSON.stringify({ ...bundle, module: module.toString('base64') })
    );
    const tampered = nightcore('verify', 'tampered.ncb', '--key', 'alice.pub');
    expect(tampered.code).toBe(1);
    expect(tampered.err).toContain('module.digest-mismatch');
  });

  it('rejects a bundle signed by a key that is not trusted', () => {
    const result = nightcore('verify', 'hello.ncb', '--key', 'bob.pub');
    expect(result.code).toBe(1);
    expect(result.err).toContain('signature.untrusted');
  });

  it('adds a second signature; a threshold of two distinct keys then holds', () => {
    expect(
      nightcore('verify', 'hello.ncb', '--key', 'alice.pub', '--key', 'bob.pub', '--threshold', '2')
        .code
    ).toBe(1);
    const added = nightcore('sign', '--add', 'hello.ncb', '--key', 'bob.key');
    expect(added.code, added.err).toBe(0);
    const both = nightcore(
      'verify',
      'hello.ncb',
      '--key',
      'alice.ssh.pub',
      '--key',
      'bob.minisign.pub',
      '--threshold',
      '2',
      '--json'
    );
    expect(both.code, both.err).toBe(0);
    const verdict = JSON.parse(both.out);
    expect(verdict.signers).toHaveLength(2);
    expect(verdict.manifest.version).toBe('1.2.3');
  });

  it('signs with a key made by openssl (PKCS#8 interop)', () => {
    tool('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'carol.key']);
    tool('openssl', ['pkey', '-in', 'carol.key', '-pubout', '-out', 'carol.pem']);
    expect(
      nightcore(
        'sign',
        'hello.wasm',
        '--key',
        'carol.key',
        '--version',
        '2.0.0',
        '--out',
        'carol.ncb'
      ).code
    ).toBe(0);
    expect(nightcore('verify', 'carol.ncb', '--key', 'carol.pem').code).toBe(0);
  });

  it('judges expiry at --now', () => {
    const made = nightcore(
      'sign',
      'hello.wasm',
      '--key',
      'alice.key',
      '--version',
      '1.0.0',
      '--expires',
      '2030-01-01T00:00:00Z',
      '--out',
      'exp.ncb'
    );
    expect(made.code, made.err).toBe(0);
    expect(
      nightcore('verify', 'exp.ncb', '--key', 'alice.pub', '--now', '2029-12-31T00:00:00Z').code
    ).toBe(0);
    const late = nightcore(
      'verify',
      'exp.ncb',
      '--key',
      'alice.pub',
      '--now',
      '2030-01-02T00:00:00Z'
    );
    expect(late.code).toBe(1);
    expect(late.err).toContain('manifest.expired');
  });
});

describe('detached signatures made by the CLI verify with the real tools', () => {
  it('minisign -V', () => {
    expect(
      nightcore(
        'sign',
        'hello.wasm',
        '--key',
        'alice.key',
        '--detached',
        'minisign',
        '--trusted-comment',
        'release 1'
      ).code
    ).toBe(0);
    const out = tool('minisign', ['-V', '-m', 'hello.wasm', '-p', 'alice.minisign.pub']);
    expect(out).toContain('Trusted comment: release 1');
    const ours = nightcore('verify', 'hello.wasm', '--key', 'alice.minisign.pub');
    expect(ours.code, ours.err).toBe(0);
    expect(ours.out).toContain('trusted comment: release 1');
  });

  it('ssh-keygen -Y verify (sha512 and sha256)', () => {
    writeFileSync(
      at('allowed_signers'),
      `alice namespaces="nightcore" ${readFileSync(at('alice.ssh.pub'), 'utf8')}`
    );
    for (const hash of ['sha512', 'sha256']) {
      const sig = `hello.${hash}.sshsig`;
      expect(
        nightcore(
          'sign',
          'hello.wasm',
          '--key',
          'alice.key',
          '--detached',
          'ssh',
          '--hash',
          hash,
          '--out',
          sig
        ).code
      ).toBe(0);
      const out = tool(
        'ssh-keygen',
        ['-Y', 'verify', '-f', 'allowed_signers', '-I', 'alice', '-n', 'nightcore', '-s', sig],
        readFileSync(at('hello.wasm'))
      );
      expect(out).toContain('Good "nightcore" signature for alice');
      expect(nightcore('verify', 'hello.wasm', '--sig', sig, '--key', 'allowed_signers').code).toBe(
        0
      );
    }
  });

  it('signify -V', () => {
    expect(
      nightcore(
        'sign',
        'hello.wasm',
        '--key',
        'alice.key',
        '--detached',
        'signify',
        '--out',
        'hello.signify'
      ).code
    ).toBe(0);
    expect(
      tool('signify-openbsd', [
        '-V',
        '-p',
        'alice.signify.pub',
        '-m',
        'hello.wasm',
        '-x',
        'hello.signify'
      ])
    ).toContain('Signature Verified');
    expect(
      nightcore('verify', 'hello.wasm', '--sig', 'hello.signify', '--key', 'alice.signify.pub').code
    ).toBe(0);
  });

  it('openssl pkeyutl -verify (raw Ed25519)', () => {
    expect(nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'raw').code).toBe(0);
    writeFileSync(
      at('raw.bin'),
      Buffer.from(readFileSync(at('hello.wasm.ed25519'), 'utf8').trim(), 'base64')
    );
    const out = tool('openssl', [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      'alice.pub.pem',
      '-rawin',
      '-in',
      'hello.wasm',
      '-sigfile',
      'raw.bin'
    ]);
    expect(out).toContain('Signature Verified Successfully');
    expect(
      nightcore('verify', 'hello.wasm', '--sig', 'hello.wasm.ed25519', '--key', 'alice.pub').code
    ).toBe(0);
  });
});

describe('signatures made by the real tools verify with the CLI', () => {
  it('ssh-keygen -Y sign, and a wrong namespace is refused', () => {
    tool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dave', '-f', 'dave']);
    tool('ssh-keygen', ['-Y', 'sign', '-f', 'dave', '-n', 'nightcore', 'hello.wasm']);
    expect(
      nightcore('verify', 'hello.wasm', '--sig', 'hello.wasm.sig', '--key', 'dave.pub').code
    ).toBe(0);
    copyFileSync(at('hello.wasm'), at('other.wasm'));
    tool('ssh-keygen', ['-Y', 'sign', '-f', 'dave', '-n', 'file', 'other.wasm']);
    const wrong = nightcore('verify', 'other.wasm', '--key', 'dave.pub');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('sshsig.namespace');
  });

  it('minisign -S, and a flipped module byte is refused', () => {
    tool('minisign', ['-G', '-W', '-p', 'erin.pub', '-s', 'erin.key']);
    copyFileSync(at('hello.wasm'), at('m.wasm'));
    tool('minisign', ['-S', '-s', 'erin.key', '-m', 'm.wasm', '-t', 'erin was here']);
    const ok = nightcore('verify', 'm.wasm', '--key', 'erin.pub');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('trusted comment: erin was here');
    const bytes = readFileSync(at('m.wasm'));
    bytes[100]! ^= 0x20;
    writeFileSync(at('m.wasm'), bytes);
    const bad = nightcore('verify', 'm.wasm', '--key', 'erin.pub');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/rejected: m\.wasm \(minisign\)/);
  });
});

describe('usage errors exit 2, unreadable input exits 1', () => {
  it.each([
    [['verify', 'hello.ncb'], /at least one --key/],
    [['verify', '--key', 'alice.pub'], /exactly one FILE/],
    [['verify', 'hello.ncb', '--key', 'alice.pub', '--threshold', '0'], /--threshold/],
    [
      ['verify', 'hello.wasm', '--key', 'alice.pub', '--sig', 'hello.wasm.ed25519', '--bogus'],
      /bogus/
    ],
    [['verify', 'hello.ncb', '--key', 'hello.wasm'], /hello\.wasm/],
    [['sign', 'hello.wasm', '--key', 'alice.key'], /--version/],
    [
      ['sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'pgp'],
      /--detached must be one of/
    ],
    [['inspect'], /exactly one FILE/]
  ])('%j', (args, message) => {
    const result = nightcore(...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });

  it('a missing file is an error with its name', () => {
    const result = nightcore('verify', 'nope.ncb', '--key', 'alice.pub');
    expect(result.code).toBe(1);
    expect(result.err).toContain('cannot read nope.ncb');
  });
});

describe('inspect', () => {
  it('lists imports by capability and flags foreign ones', () => {
    copyFileSync(
      new URL('../fixtures/wasm/foreign-import.wasm', import.meta.url),
      at('foreign.wasm')
    );
    const result = nightcore('inspect', 'foreign.wasm');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/env\.evil\s+func\s+FOREIGN/);
    const json = JSON.parse(nightcore('inspect', 'hello.ncb', '--json').out);
    expect(json.verified).toBe(false);
    expect(json.inspection.entry).toBe('command');
  });

  it('reports a file that is not wasm', () => {
    writeFileSync(at('junk.wasm'), '\0asm\x02\0\0\0');
    const result = nightcore('inspect', 'junk.wasm');
    expect(result.code).toBe(1);
    expect(result.err).toContain('wasm.version');
  });
});
