// Public key import (src/lib/core/keys.ts) against the real tools: every key here is made at test
// time by ssh-keygen, minisign, signify-openbsd or openssl, and everything we encode is read back
// by the same tools. A missing tool FAILS the test with the package to install (CI installs them).
// Bad input and the API are in keys-parse.test.ts.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toBase64, toHex } from '../../src/lib/core/bytes';
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
  sshFingerprint
} from '../../src/lib/core/keys';
import {
  file,
  fresh,
  minisignKey,
  opensslKey,
  opensslPublicPem,
  parseOne,
  read,
  run,
  runOk,
  signifyKey,
  sshKey,
  useToolDir,
  write
} from './helpers/key-tools';

useToolDir();

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
