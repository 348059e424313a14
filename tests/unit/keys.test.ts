// Public key import (src/lib/core/keys.ts) against the real tools: every key here is made at test
// time by ssh-keygen, minisign, signify-openbsd or openssl, and everything we encode is read back
// by the same tools. A missing tool FAILS the test with the package to install (CI installs them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import {
  canonicalKeyId,
  encodeMinisignPublicKey,
  encodePemSpki,
  encodePkcs8PrivateKeyPem,
  encodeSignifyPublicKey,
  encodeSshPublicKey,
  minisignKeyId,
  parsePkcs8PrivateKeyPem,
  parsePublicKeys,
  sshFingerprint,
  toTrustedKey
} from '../../src/lib/core/keys';
import type { ParsedPublicKey } from '../../src/lib/core/keys';

// ---- the real tools -------------------------------------------------------------------------

const PACKAGES: Record<string, string> = {
  'ssh-keygen': 'openssh-client',
  minisign: 'minisign',
  'signify-openbsd': 'signify-openbsd',
  openssl: 'openssl'
};

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nightcore-keys-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string): string => join(dir, name);
const read = (name: string): string => readFileSync(file(name), 'utf8');
const write = (name: string, data: string | Uint8Array): string => {
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
function run(tool: string, args: string[], input?: string | Uint8Array): Run {
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

function runOk(tool: string, args: string[], input?: string | Uint8Array): Run {
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
const fresh = (label: string): string => `${label}-${counter++}`;

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

const sshKey = once(() => {
  const name = fresh('id_ed25519');
  runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@laptop', '-f', name]);
  const line = read(`${name}.pub`);
  const fingerprint = runOk('ssh-keygen', ['-lf', `${name}.pub`]).stdout.split(' ')[1] ?? '';
  return { name, line, fingerprint, seed: opensshSeed(read(name)) };
});

const minisignKey = once(() => {
  const name = fresh('minisign');
  runOk('minisign', ['-G', '-W', '-p', `${name}.pub`, '-s', `${name}.key`]);
  // Unencrypted (-W) secret key: "Ed", kdf "\0\0", "B2", salt 32, ops 8, mem 8, keynum 8, sk 64.
  const secret = fromBase64(read(`${name}.key`).split('\n')[1] ?? '');
  return { name, text: read(`${name}.pub`), seed: secret.slice(62, 94) };
});

const signifyKey = once(() => {
  const name = fresh('signify');
  runOk('signify-openbsd', ['-G', '-n', '-p', `${name}.pub`, '-s', `${name}.sec`]);
  // Unencrypted (-n) secret key: "Ed", "BK", rounds 4, salt 16, checksum 8, keynum 8, sk 64.
  const secret = fromBase64(read(`${name}.sec`).split('\n')[1] ?? '');
  return { name, text: read(`${name}.pub`), seed: secret.slice(40, 72) };
});

const opensslKey = once(() => {
  const name = fresh('openssl');
  runOk('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', `${name}.key`]);
  runOk('openssl', ['pkey', '-in', `${name}.key`, '-pubout', '-out', `${name}.pem`]);
  return { name, privateText: read(`${name}.key`), text: read(`${name}.pem`) };
});

const rsaSshLine = once(() => {
  const name = fresh('id_rsa');
  runOk('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', name]);
  return read(`${name}.pub`);
});

/** openssl's own public key PEM for a seed: our PKCS#8 in, `openssl pkey -pubout` out. */
function opensslPublicPem(seed: Uint8Array): string {
  const path = write(fresh('seed.key'), encodePkcs8PrivateKeyPem(seed));
  return runOk('openssl', ['pkey', '-in', path, '-pubout']).stdout;
}

// ---- helpers --------------------------------------------------------------------------------

async function parseOne(input: string | Uint8Array): Promise<ParsedPublicKey> {
  const result = await parsePublicKeys(input);
  if (!result.ok) throw new Error(`${result.reason.code}: ${result.reason.message}`);
  expect(result.keys).toHaveLength(1);
  return result.keys[0]!;
}

async function reasonOf(input: string | Uint8Array) {
  const result = await parsePublicKeys(input);
  if (result.ok) throw new Error(`expected a rejection, got ${result.keys.length} key(s)`);
  expect(result.reason.message.length).toBeGreaterThan(10);
  return result.reason;
}

const sshBlob = (pk: Uint8Array, extra = new Uint8Array()) =>
  concatBytes(fromHex('0000000b'), utf8('ssh-ed25519'), fromHex('00000020'), pk, extra);

// ---- tests ----------------------------------------------------------------------------------

describe('keys made by the real tools', () => {
  it('ssh-keygen: the .pub line parses; nativeId equals `ssh-keygen -lf`', async () => {
    const { line, fingerprint, seed } = sshKey();
    const key = await parseOne(line);
    expect(key.format).toBe('ssh');
    expect(key.comment).toBe('alice@laptop');
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(key.nativeId).toBe(fingerprint);
    expect(await sshFingerprint(key.publicKey)).toBe(fingerprint);
    expect(key.publicKey).toEqual(publicKeyFromSecret(seed));
    expect(key.id).toBe(await sha256Hex(publicKeyFromSecret(seed)));
  });

  it('minisign: the .pub file and its base64 line parse; nativeId equals the id minisign wrote', async () => {
    const { text, seed } = minisignKey();
    const [comment = '', base64 = ''] = text.split('\n');
    const printed = /^untrusted comment: minisign public key ([0-9A-F]+)$/.exec(comment)?.[1];
    expect(printed, comment).toBeDefined();
    const key = await parseOne(text);
    expect(key.format).toBe('minisign');
    expect(key.nativeId).toBe(printed);
    expect(key.keyNumber).toBe(toHex(fromBase64(base64).subarray(2, 10)));
    expect(key.comment).toBe(`minisign public key ${printed}`);
    expect(key.publicKey).toEqual(publicKeyFromSecret(seed));
    const bare = await parseOne(base64);
    expect([bare.format, bare.id, bare.nativeId]).toEqual(['minisign', key.id, key.nativeId]);
  });

  it('minisign: nativeId drops leading zeros exactly as minisign prints key ids', async () => {
    const { name, text } = minisignKey();
    writeFileSync(file('message.txt'), 'hello');
    runOk('minisign', ['-S', '-s', `${name}.key`, '-m', 'message.txt']);
    const bytes = fromBase64(text.split('\n')[1] ?? '');
    bytes.set([1, 2, 3, 4, 5, 6, 7, 0], 2); // key number 0x0007060504030201 (little-endian)
    write('other-id.pub', `untrusted comment: crafted\n${toBase64(bytes)}\n`);
    const mismatch = run('minisign', ['-V', '-p', 'other-id.pub', '-m', 'message.txt']);
    expect(mismatch.status).not.toBe(0);
    const shown = /key id in the public key is ([0-9A-F]+)/.exec(mismatch.stderr + mismatch.stdout);
    expect(shown?.[1]).toBe('7060504030201');
    expect((await parseOne(toBase64(bytes))).nativeId).toBe(shown?.[1]);
  });

  it('signify: the .pub file parses as signify with its key number', async () => {
    const { text, seed } = signifyKey();
    expect(text.split('\n')[0]).toBe('untrusted comment: signify public key');
    const key = await parseOne(text);
    expect(key.format).toBe('signify');
    expect(key.comment).toBe('signify public key');
    expect(key.keyNumber).toBe(toHex(fromBase64(text.split('\n')[1] ?? '').subarray(2, 10)));
    expect(key.nativeId).toBe(minisignKeyId(fromHex(key.keyNumber ?? '')));
    expect(key.publicKey).toEqual(publicKeyFromSecret(seed));
  });

  it('openssl: the PEM SPKI and its DER parse; nativeId is the SSH fingerprint', async () => {
    const { name, text } = opensslKey();
    const key = await parseOne(text);
    expect(key.format).toBe('pem-spki');
    const der = runOk('openssl', ['pkey', '-pubin', '-in', `${name}.pem`, '-outform', 'DER']).raw;
    expect(toHex(der.subarray(0, 12))).toBe('302a300506032b6570032100');
    expect(key.publicKey).toEqual(der.subarray(12));
    expect(await parseOne(der)).toMatchObject({ format: 'pem-spki', id: key.id });
    // ssh-keygen reads our ssh line for this key and prints the fingerprint we computed.
    write(`${name}.ssh.pub`, encodeSshPublicKey(key.publicKey, 'from openssl'));
    const printed = runOk('ssh-keygen', ['-lf', `${name}.ssh.pub`]).stdout;
    expect(printed).toBe(`256 ${key.nativeId} from openssl (ED25519)\n`);
  });

  it('allowed_signers: a file ssh-keygen -Y verify accepts yields every key with principals and options', async () => {
    const alice = sshKey();
    const other = fresh('id_other');
    runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', other]);
    const aliceKey = alice.line.trim().split(' ').slice(0, 2).join(' ');
    const otherKey = read(`${other}.pub`).trim();
    const text = [
      '# Night Core signers',
      `alice@example.com,bob namespaces="git,nightcore" ${aliceKey} alice laptop`,
      '',
      `  "carol dan" valid-after="20240101",valid-before="20991231Z" ${otherKey}`
    ].join('\n');
    write('allowed_signers', text);
    write('payload', 'payload');
    runOk('ssh-keygen', ['-Y', 'sign', '-f', alice.name, '-n', 'nightcore', 'payload']);
    const verified = runOk(
      'ssh-keygen',
      [
        '-Y',
        'verify',
        '-f',
        'allowed_signers',
        '-I',
        'bob',
        '-n',
        'nightcore',
        '-s',
        'payload.sig'
      ],
      'payload'
    );
    expect(verified.stdout).toContain('Good "nightcore" signature for bob');

    const result = await parsePublicKeys(text);
    if (!result.ok) throw new Error(result.reason.message);
    const [first, second] = result.keys;
    expect(result.keys).toHaveLength(2);
    expect(first).toMatchObject({
      format: 'allowed-signers',
      principals: ['alice@example.com', 'bob'],
      namespaces: ['git', 'nightcore'],
      comment: 'alice laptop',
      nativeId: alice.fingerprint,
      id: (await parseOne(alice.line)).id
    });
    expect(second).toMatchObject({
      principals: ['carol dan'],
      validAfter: '20240101',
      validBefore: '20991231Z',
      id: (await parseOne(otherKey)).id
    });
    expect(second?.comment).toBeUndefined();
    expect(second?.namespaces).toBeUndefined();
  });

  it('all forms of one key give the same canonical id', async () => {
    const { line, seed } = sshKey();
    const publicKey = publicKeyFromSecret(seed);
    const id = await canonicalKeyId(publicKey);
    expect(id).toBe(await sha256Hex(publicKey));
    const der = runOk('openssl', ['pkey', '-pubin', '-outform', 'DER'], opensslPublicPem(seed)).raw;
    const keyNumber = fromHex('0123456789abcdef');
    const forms: [string, string | Uint8Array][] = [
      ['ssh-keygen .pub', line],
      ['allowed_signers', `alice ${line}`],
      ['openssl PEM (same seed)', opensslPublicPem(seed)],
      ['openssl DER', der],
      ['hex', toHex(publicKey)],
      ['HEX', toHex(publicKey).toUpperCase()],
      ['base64', toBase64(publicKey)],
      ['raw bytes', publicKey],
      ['minisign (ours)', encodeMinisignPublicKey(publicKey, keyNumber)],
      ['signify (ours)', encodeSignifyPublicKey(publicKey, keyNumber)],
      ['PEM (ours)', encodePemSpki(publicKey)],
      ['CRLF, BOM and blank lines', `\uFEFF\r\n${line.trim()}\r\n\r\n`]
    ];
    for (const [name, form] of forms) {
      expect((await parseOne(form)).id, name).toBe(id);
    }
    // The same holds across the other tools: each secret key's seed, through openssl, is its key.
    for (const tool of [minisignKey(), signifyKey()]) {
      expect((await parseOne(opensslPublicPem(tool.seed))).id).toBe((await parseOne(tool.text)).id);
    }
  });
});

describe('round trips through the real tools', () => {
  it('encodeSshPublicKey: re-parses, and ssh-keygen -lf reads it', async () => {
    const { line, fingerprint } = sshKey();
    const key = await parseOne(line);
    const ours = encodeSshPublicKey(key.publicKey, 'alice@laptop');
    expect(ours).toBe(line); // byte for byte what ssh-keygen wrote
    write('ours.pub', encodeSshPublicKey(key.publicKey));
    expect(runOk('ssh-keygen', ['-lf', 'ours.pub']).stdout).toMatch(
      new RegExp(`^256 ${fingerprint.replace(/[+/]/g, '\\$&')} .*\\(ED25519\\)\\n$`)
    );
    expect((await parseOne(ours)).id).toBe(key.id);
  });

  it('encodePemSpki: re-parses, and openssl pkey -pubin reads it', async () => {
    const { text } = opensslKey();
    const key = await parseOne(text);
    const ours = encodePemSpki(key.publicKey);
    expect(ours).toBe(text);
    const path = write('ours.pem', ours);
    const printed = runOk('openssl', ['pkey', '-pubin', '-in', path, '-text', '-noout']).stdout;
    expect(printed.replace(/[\s:]/g, '')).toContain(`pub${toHex(key.publicKey)}`);
    expect((await parseOne(ours)).id).toBe(key.id);
  });

  it('PKCS#8: openssl reads our private key and derives the same public key; we read openssl’s', async () => {
    const { privateText, text } = opensslKey();
    const parsed = parsePkcs8PrivateKeyPem(privateText);
    if (!parsed.ok) throw new Error(parsed.reason.message);
    expect(encodePkcs8PrivateKeyPem(parsed.seed)).toBe(privateText);
    expect(publicKeyFromSecret(parsed.seed)).toEqual((await parseOne(text)).publicKey);

    const seed = crypto.getRandomValues(new Uint8Array(32));
    const fromOpenssl = await parseOne(opensslPublicPem(seed));
    expect(fromOpenssl.publicKey).toEqual(publicKeyFromSecret(seed));
  });

  it('encodeMinisignPublicKey: identical to minisign’s file, and minisign -V verifies with ours', async () => {
    const { name, text } = minisignKey();
    const key = await parseOne(text);
    const ours = encodeMinisignPublicKey(key.publicKey, fromHex(key.keyNumber ?? ''));
    expect(ours).toBe(text);
    write(
      'ours.minisign.pub',
      encodeMinisignPublicKey(key.publicKey, fromHex(key.keyNumber ?? ''), 'x')
    );
    write('signed.txt', 'signed by minisign');
    runOk('minisign', ['-S', '-s', `${name}.key`, '-m', 'signed.txt']);
    runOk('minisign', ['-V', '-p', 'ours.minisign.pub', '-m', 'signed.txt']);
    expect((await parseOne(ours)).id).toBe(key.id);
  });

  it('encodeSignifyPublicKey: identical to signify’s file, and signify -V verifies with ours', async () => {
    const { name, text } = signifyKey();
    const key = await parseOne(text);
    expect(encodeSignifyPublicKey(key.publicKey, fromHex(key.keyNumber ?? ''))).toBe(text);
    const ours = encodeSignifyPublicKey(key.publicKey, fromHex(key.keyNumber ?? ''), 'release');
    write('ours.signify.pub', ours);
    write('signed2.txt', 'signed by signify');
    runOk('signify-openbsd', ['-S', '-s', `${name}.sec`, '-m', 'signed2.txt']);
    runOk('signify-openbsd', ['-V', '-p', 'ours.signify.pub', '-m', 'signed2.txt']);
    expect(await parseOne(ours)).toMatchObject({ format: 'signify', id: key.id });
  });
});

describe('bad input: each gives its reason', () => {
  const IDENTITY = fromHex('01' + '00'.repeat(31));
  const ORDER_8 = fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
  const goodKey = () => publicKeyFromSecret(fromHex('11'.repeat(32)));

  it('truncated base64 → key.base64', async () => {
    const { text } = minisignKey();
    const line = text.split('\n')[1] ?? '';
    expect((await reasonOf(line.slice(0, -3))).code).toBe('key.base64');
    expect((await reasonOf(`untrusted comment: x\n${line.slice(0, 50)}`)).code).toBe('key.base64');
    expect((await reasonOf(toBase64(goodKey()).replace(/=$/, ''))).code).toBe('key.base64');
    const ssh = sshKey().line.split(' ');
    expect((await reasonOf(`${ssh[0]} ${ssh[1]?.slice(0, 61)}`)).code).toBe('key.base64');
    // Cut on a 4-character boundary it is valid base64 of a truncated blob.
    expect((await reasonOf(`${ssh[0]} ${ssh[1]?.slice(0, 60)}`)).code).toBe('key.ssh-blob');
  });

  it('wrong length → key.length', async () => {
    expect((await reasonOf(toHex(goodKey()).slice(0, 62))).code).toBe('key.length');
    expect((await reasonOf(toBase64(goodKey().subarray(0, 31)))).code).toBe('key.length');
    expect((await reasonOf(toBase64(new Uint8Array(48).fill(0xff)))).code).toBe('key.length');
  });

  it('ssh-rsa and ecdsa lines from ssh-keygen → key.unsupported-type naming the type', async () => {
    let reason = await reasonOf(rsaSshLine());
    expect(reason.code).toBe('key.unsupported-type');
    expect(reason.message).toContain('"ssh-rsa"');
    const ecdsa = fresh('id_ecdsa');
    runOk('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsa]);
    reason = await reasonOf(read(`${ecdsa}.pub`));
    expect(reason.code).toBe('key.unsupported-type');
    expect(reason.message).toContain('"ecdsa-sha2-nistp256"');
    // An RSA blob behind an ssh-ed25519 label is caught by the blob check.
    const swapped = `ssh-ed25519 ${rsaSshLine().split(' ')[1]}`;
    expect((await reasonOf(swapped)).code).toBe('key.unsupported-type');
  });

  it('ssh blob with trailing bytes → key.trailing-data; malformed blob → key.ssh-blob', async () => {
    const pk = goodKey();
    expect(await parseOne(`ssh-ed25519 ${toBase64(sshBlob(pk))}`)).toMatchObject({ format: 'ssh' });
    const trailing = await reasonOf(`ssh-ed25519 ${toBase64(sshBlob(pk, new Uint8Array(3)))} c`);
    expect(trailing.code).toBe('key.trailing-data');
    expect(trailing.message).toContain('3 byte(s)');
    const short = concatBytes(
      fromHex('0000000b'),
      utf8('ssh-ed25519'),
      fromHex('0000001f'),
      pk.subarray(1)
    );
    expect((await reasonOf(`ssh-ed25519 ${toBase64(short)}`)).code).toBe('key.ssh-blob');
    const cut = sshBlob(pk).subarray(0, 40);
    expect((await reasonOf(`ssh-ed25519 ${toBase64(cut)}`)).code).toBe('key.ssh-blob');
    const huge = concatBytes(fromHex('ffffffff'), utf8('ssh-ed25519'));
    expect((await reasonOf(`ssh-ed25519 ${toBase64(huge)}`)).code).toBe('key.ssh-blob');
  });

  it('RSA and EC PEM from openssl → key.unsupported-type naming the algorithm', async () => {
    const cases: [string[], string][] = [
      [['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'RSA'],
      [['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'ECDSA'],
      [['-algorithm', 'X25519'], 'X25519']
    ];
    for (const [args, name] of cases) {
      const key = fresh('other.key');
      runOk('openssl', ['genpkey', ...args, '-out', key]);
      const pem = runOk('openssl', ['pkey', '-in', key, '-pubout']).stdout;
      const reason = await reasonOf(pem);
      expect(reason.code, name).toBe('key.unsupported-type');
      expect(reason.message).toContain(name);
      const pkcs8 = parsePkcs8PrivateKeyPem(read(key));
      expect(pkcs8.ok ? 'ok' : pkcs8.reason.code, name).toBe('key.unsupported-type');
      expect((await reasonOf(read(key))).code).toBe('key.private-key');
    }
    const rsaKey = fresh('rsa.key');
    runOk('openssl', [
      'genpkey',
      '-algorithm',
      'RSA',
      '-pkeyopt',
      'rsa_keygen_bits:2048',
      '-out',
      rsaKey
    ]);
    const pkcs1 = runOk('openssl', ['rsa', '-in', rsaKey, '-RSAPublicKey_out']).stdout;
    expect(pkcs1).toContain('BEGIN RSA PUBLIC KEY');
    expect((await reasonOf(pkcs1)).code).toBe('key.unsupported-type');
  });

  it('garbage → key.format-unknown', async () => {
    for (const input of [
      'hello world, this is not a key',
      'not!a!key',
      crypto.getRandomValues(new Uint8Array(100)).map((byte) => byte | 0x80),
      new Uint8Array([0x30, 0x82, 0xff, 0xff, 0x00, 0x01])
    ]) {
      const reason = await reasonOf(input);
      expect(['key.format-unknown', 'key.der']).toContain(reason.code);
    }
    expect((await reasonOf('hello world, this is not a key')).code).toBe('key.format-unknown');
    expect((await reasonOf('')).code).toBe('key.empty');
    expect((await reasonOf(' \n\t\n')).code).toBe('key.empty');
    // 32 bytes of printable text are text, not a raw key.
    expect((await reasonOf(utf8('not a key: just thirty-two bytes'))).code).toBe(
      'key.format-unknown'
    );
  });

  it('a small-order or non-canonical key → key.unusable, in every format', async () => {
    const nonCanonical = fromHex('ee' + 'ff'.repeat(30) + '7f'); // y = p + 1
    for (const bad of [IDENTITY, ORDER_8, nonCanonical]) {
      for (const input of [
        toHex(bad),
        toBase64(bad),
        bad,
        encodeSshPublicKey(bad),
        `alice ${encodeSshPublicKey(bad)}`,
        encodeMinisignPublicKey(bad, new Uint8Array(8)),
        encodeSignifyPublicKey(bad, new Uint8Array(8)),
        encodePemSpki(bad)
      ]) {
        const reason = await reasonOf(input);
        expect(reason.code).toBe('key.unusable');
        expect(reason.message).toMatch(/small-order|canonical/);
      }
    }
  });

  it('allowed_signers with a bad line → its reason names the line number', async () => {
    const good = sshKey().line.trim();
    const bad = (line: string) => reasonOf(`# signers\nalice ${good}\n${line}\n`);
    let reason = await bad('bob frobnicate="x" ' + good);
    expect(reason).toMatchObject({ code: 'key.allowed-signers' });
    expect(reason.message).toMatch(/^allowed_signers line 3: .*frobnicate/);
    reason = await bad('bob cert-authority ' + good);
    expect(reason.code).toBe('key.unsupported-option');
    expect(reason.message).toContain('line 3');
    reason = await bad(`bob ${rsaSshLine().trim()}`);
    expect(reason.code).toBe('key.unsupported-type');
    expect(reason.message).toContain('line 3');
    reason = await bad(`bob namespaces="a ${good}`);
    expect(reason.code).toBe('key.allowed-signers');
    reason = await bad(`bob valid-after="yesterday" ${good}`);
    expect(reason.message).toMatch(/line 3: valid-after/);
    reason = await bad(`bob ssh-ed25519 ${toBase64(sshBlob(IDENTITY))}`);
    expect(reason.code).toBe('key.unusable');
    expect(reason.message).toContain('line 3');
  });

  it('keys that are really private keys or signatures are refused with advice', async () => {
    expect((await reasonOf(read(`${minisignKey().name}.key`))).code).toBe('key.private-key');
    expect((await reasonOf(read(`${signifyKey().name}.sec`))).code).toBe('key.private-key');
    expect((await reasonOf(opensslKey().privateText)).code).toBe('key.private-key');
    expect((await reasonOf(read(sshKey().name))).code).toBe('key.private-key');
    write('to-sign.txt', 'x');
    runOk('minisign', ['-S', '-s', `${minisignKey().name}.key`, '-m', 'to-sign.txt']);
    const signature = read('to-sign.txt.minisig').split('\n')[1] ?? '';
    expect((await reasonOf(signature)).code).toBe('key.not-a-key');
    expect((await reasonOf(read('to-sign.txt.minisig'))).code).toBe('key.not-a-key');
    for (const secret of [read(`${minisignKey().name}.key`), read(`${signifyKey().name}.sec`)]) {
      expect((await reasonOf(secret.split('\n')[1] ?? '')).code).toBe('key.private-key');
    }
  });

  it('PEM armor problems → key.armor, key.trailing-data, key.base64, key.der', async () => {
    const pem = encodePemSpki(goodKey());
    expect((await reasonOf(pem + 'more\n')).code).toBe('key.trailing-data');
    expect((await reasonOf(pem + pem)).code).toBe('key.trailing-data');
    expect((await reasonOf(pem.replace('-----END PUBLIC KEY-----', ''))).code).toBe('key.armor');
    expect((await reasonOf(pem.replace('END PUBLIC', 'END PRIVATE'))).code).toBe('key.armor');
    expect(
      (
        await reasonOf(
          pem.replace('PUBLIC KEY', 'CERTIFICATE').replace('PUBLIC KEY', 'CERTIFICATE')
        )
      ).code
    ).toBe('key.armor');
    expect((await reasonOf(pem.replace('MCow', 'MCo!'))).code).toBe('key.base64');
    const der = concatBytes(fromHex('302b300506032b657003220000'), goodKey()); // padded BIT STRING
    expect((await reasonOf(der)).code).toBe('key.der');
    const armored = `-----BEGIN PUBLIC KEY-----\n${toBase64(der)}\n-----END PUBLIC KEY-----\n`;
    expect((await reasonOf(armored)).code).toBe('key.der');
  });

  it('PKCS#8 private keys: only the exact plain Ed25519 form', () => {
    const seed = fromHex('22'.repeat(32));
    const pem = encodePkcs8PrivateKeyPem(seed);
    const parsed = parsePkcs8PrivateKeyPem(pem.replace(/\n/g, '\r\n'));
    expect(parsed.ok && toHex(parsed.seed)).toBe(toHex(seed));
    const code = (text: string) => {
      const result = parsePkcs8PrivateKeyPem(text);
      return result.ok ? 'ok' : result.reason.code;
    };
    // RFC 8410 v2 (OneAsymmetricKey with the public key attached) is not the exact form.
    const v2 = concatBytes(
      fromHex('3051020101300506032b657004220420'),
      seed,
      fromHex('812100'),
      publicKeyFromSecret(seed)
    );
    expect(code(`-----BEGIN PRIVATE KEY-----\n${toBase64(v2)}\n-----END PRIVATE KEY-----\n`)).toBe(
      'key.der'
    );
    expect(code(encodePemSpki(goodKey()))).toBe('key.armor');
    expect(code(pem.replace(/PRIVATE KEY/g, 'ENCRYPTED PRIVATE KEY'))).toBe('key.encrypted');
    expect(code('garbage')).toBe('key.armor');
  });
});

describe('API', () => {
  it('canonicalKeyId is the lowercase hex SHA-256 of the raw key', async () => {
    const pk = publicKeyFromSecret(fromHex('33'.repeat(32)));
    expect(await canonicalKeyId(pk)).toMatch(/^[0-9a-f]{64}$/);
    expect(await canonicalKeyId(pk)).toBe(await sha256Hex(pk));
  });

  it('minisignKeyId reads the key number as a little-endian u64', () => {
    expect(minisignKeyId(fromHex('77c6a5ea1e16e10e'))).toBe('EE1161EEAA5C677');
    expect(minisignKeyId(fromHex('0100000000000000'))).toBe('1');
    expect(minisignKeyId(new Uint8Array(8))).toBe('0');
    expect(minisignKeyId(fromHex('ffffffffffffffff'))).toBe('FFFFFFFFFFFFFFFF');
  });

  it('toTrustedKey copies id, key, key number and the namespace', async () => {
    const pk = publicKeyFromSecret(fromHex('44'.repeat(32)));
    const minisign = await parseOne(encodeMinisignPublicKey(pk, fromHex('0102030405060708')));
    const trusted = toTrustedKey(minisign, { label: 'release key' });
    expect(trusted).toEqual({
      id: minisign.id,
      publicKey: pk,
      keyNumber: '0102030405060708',
      label: 'release key'
    });
    expect(trusted.publicKey).not.toBe(minisign.publicKey);
    const line = `ci namespaces="git,nightcore" ${encodeSshPublicKey(pk)}`;
    const signer = await parseOne(line);
    expect(signer.format).toBe('allowed-signers');
    expect(toTrustedKey(signer)).toEqual({ id: signer.id, publicKey: pk, sshNamespace: 'git' });
    expect(toTrustedKey(signer, { namespace: 'nightcore' }).sshNamespace).toBe('nightcore');
    expect(toTrustedKey(signer, { namespace: 'other' }).sshNamespace).toBe('git');
    expect(toTrustedKey(await parseOne(encodeSshPublicKey(pk)))).toEqual({
      id: minisign.id,
      publicKey: pk
    });
  });

  it('encoders throw TypeError on misuse; parsePublicKeys on a wrong input type', async () => {
    const pk = publicKeyFromSecret(fromHex('55'.repeat(32)));
    expect(() => encodeSshPublicKey(pk.subarray(1))).toThrow(TypeError);
    expect(() => encodeSshPublicKey(pk, 'two\nlines')).toThrow(TypeError);
    expect(() => encodeMinisignPublicKey(pk, new Uint8Array(7))).toThrow(TypeError);
    expect(() => encodeSignifyPublicKey(pk, new Uint8Array(8), 'a\rb')).toThrow(TypeError);
    expect(() => encodePemSpki(new Uint8Array(33))).toThrow(TypeError);
    expect(() => encodePkcs8PrivateKeyPem(new Uint8Array(64))).toThrow(TypeError);
    await expect(canonicalKeyId(new Uint8Array(31))).rejects.toThrow(TypeError);
    await expect(parsePublicKeys(42 as unknown as string)).rejects.toThrow(TypeError);
  });

  it('caps the input size', async () => {
    expect((await reasonOf('a'.repeat(1024 * 1024 + 1))).code).toBe('key.too-large');
  });
});
