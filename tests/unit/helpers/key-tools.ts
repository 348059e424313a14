/**
 * Public key tests against the real tools: a temp dir, runners for ssh-keygen, minisign,
 * signify-openbsd and openssl, and keys each tool makes once per test file. A missing tool FAILS
 * the test with the Debian package to install (CI installs them); these tests never skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { concatBytes, fromBase64, fromHex, utf8 } from '../../../src/lib/core/bytes';
import { encodePkcs8PrivateKeyPem, parsePublicKeys } from '../../../src/lib/core/keys';
import type { ParsedPublicKey } from '../../../src/lib/core/keys';

// ---- the real tools -------------------------------------------------------------------------

const PACKAGES: Record<string, string> = {
  'ssh-keygen': 'openssh-client',
  minisign: 'minisign',
  'signify-openbsd': 'signify-openbsd',
  openssl: 'openssl'
};

let dir = '';

/** Call once at the top of a test file: a fresh temp dir for the tools, removed afterwards. */
export function useToolDir(): void {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nightcore-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
}

export const file = (name: string): string => join(dir, name);
export const read = (name: string): string => readFileSync(file(name), 'utf8');
export const write = (name: string, data: string | Uint8Array): string => {
  writeFileSync(file(name), data, { mode: 0o600 });
  return file(name);
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  raw: Uint8Array;
}

/** Runs a tool in the temp dir. A missing tool is a failure that says what to install. */
export function run(tool: string, args: string[], input?: string | Uint8Array): Run {
  const result = spawnSync(tool, args, { cwd: dir, input, timeout: 60_000 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    const pkg = PACKAGES[tool] ?? tool;
    throw new Error(
      `${tool} is not installed: install the Debian package "${pkg}" (sudo apt-get install ${pkg}). ` +
        'These tests never skip; CI installs it.'
    );
  }
  if (result.error) throw result.error;
  return {
    status: result.status,
    stdout: result.stdout.toString('utf8'),
    stderr: result.stderr.toString('utf8'),
    raw: new Uint8Array(result.stdout)
  };
}

export function runOk(tool: string, args: string[], input?: string | Uint8Array): Run {
  const result = run(tool, args, input);
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result;
}

const once = <T>(make: () => T): (() => T) => {
  let value: { v: T } | undefined;
  return () => (value ??= { v: make() }).v;
};
let counter = 0;
export const fresh = (label: string): string => `${label}-${counter++}`;

/** The seed inside an unencrypted OpenSSH private key (openssh-key-v1, PROTOCOL.key). */
function opensshSeed(text: string): Uint8Array {
  const body = text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const bytes = fromBase64(body);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 'openssh-key-v1\0'.length;
  const next = (): Uint8Array => {
    const length = view.getUint32(offset);
    offset += 4 + length;
    return bytes.subarray(offset - length, offset);
  };
  const [cipher, kdf] = [next(), next()];
  expect(new TextDecoder().decode(cipher), 'the test key must be unencrypted').toBe('none');
  expect(new TextDecoder().decode(kdf)).toBe('none');
  next(); // kdf options
  offset += 4; // number of keys (1)
  next(); // public key blob
  const secret = next();
  const inner = new DataView(secret.buffer, secret.byteOffset, secret.byteLength);
  offset = 8; // two check integers
  const take = (): Uint8Array => {
    const length = inner.getUint32(offset);
    offset += 4 + length;
    return secret.subarray(offset - length, offset);
  };
  take(); // "ssh-ed25519"
  take(); // public key
  return take().slice(0, 32); // seed || public key
}

export const sshKey = once(() => {
  const name = fresh('id_ed25519');
  runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', name]);
  const line = read(`${name}.pub`);
  const fingerprint = runOk('ssh-keygen', ['-lf', `${name}.pub`]).stdout.split(' ')[1] ?? '';
  return { name, line, fingerprint, seed: opensshSeed(read(name)) };
});

export const minisignKey = once(() => {
  const name = fresh('minisign');
  runOk('minisign', ['-G', '-W', '-p', `${name}.pub`, '-s', `${name}.key`]);
  // Unencrypted (-W) secret key: "Ed", kdf "\0\0", "B2", salt 32, ops 8, mem 8, keynum 8, sk 64.
  const secret = fromBase64(read(`${name}.key`).split('\n')[1] ?? '');
  return { name, text: read(`${name}.pub`), seed: secret.slice(62, 94) };
});

export const signifyKey = once(() => {
  const name = fresh('signify');
  runOk('signify-openbsd', ['-G', '-n', '-p', `${name}.pub`, '-s', `${name}.sec`]);
  // Unencrypted (-n) secret key: "Ed", "BK", rounds 4, salt 16, checksum 8, keynum 8, sk 64.
  const secret = fromBase64(read(`${name}.sec`).split('\n')[1] ?? '');
  return { name, text: read(`${name}.pub`), seed: secret.slice(40, 72) };
});

export const opensslKey = once(() => {
  const name = fresh('openssl');
  runOk('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', `${name}.key`]);
  runOk('openssl', ['pkey', '-in', `${name}.key`, '-pubout', '-out', `${name}.pem`]);
  return { name, privateText: read(`${name}.key`), text: read(`${name}.pem`) };
});

export const rsaSshLine = once(() => {
  const name = fresh('id_rsa');
  runOk('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', name]);
  return read(`${name}.pub`);
});

/** openssl's own public key PEM for a seed: our PKCS#8 in, `openssl pkey -pubout` out. */
export function opensslPublicPem(seed: Uint8Array): string {
  const path = write(fresh('seed.key'), encodePkcs8PrivateKeyPem(seed));
  return runOk('openssl', ['pkey', '-in', path, '-pubout']).stdout;
}

// ---- helpers --------------------------------------------------------------------------------

export async function parseOne(input: string | Uint8Array): Promise<ParsedPublicKey> {
  const result = await parsePublicKeys(input);
  if (!result.ok) throw new Error(`${result.reason.code}: ${result.reason.message}`);
  expect(result.keys).toHaveLength(1);
  return result.keys[0]!;
}

export async function reasonOf(input: string | Uint8Array) {
  const result = await parsePublicKeys(input);
  if (result.ok) throw new Error(`expected a rejection, got ${result.keys.length} key(s)`);
  expect(result.reason.message.length).toBeGreaterThan(10);
  return result.reason;
}

export const sshBlob = (pk: Uint8Array, extra = new Uint8Array()) =>
  concatBytes(fromHex('0000000b'), utf8('ssh-ed25519'), fromHex('00000020'), pk, extra);
