// Public key import (src/lib/core/keys.ts): what each bad input is refused with, and the API.
// Some bad keys are made by the real tools (see helpers/key-tools.ts; a missing tool FAILS the
// test). Keys the tools make and read back are in keys-interop.test.ts.
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
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
  toTrustedKey
} from '../../src/lib/core/keys';
import {
  fresh,
  minisignKey,
  opensslKey,
  parseOne,
  read,
  reasonOf,
  rsaSshLine,
  runOk,
  signifyKey,
  sshBlob,
  sshKey,
  useToolDir,
  write
} from './helpers/key-tools';

useToolDir();

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

  it('toTrustedKey copies id, key and key number; allowed_signers namespaces only restrict', async () => {
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
    // The line's namespaces never become the key's namespace (a "git" signature must not count).
    expect(toTrustedKey(signer)).toEqual({
      id: signer.id,
      publicKey: pk,
      sshAllowedNamespaces: ['git', 'nightcore']
    });
    expect(toTrustedKey(signer, { namespace: 'nightcore' }).sshNamespace).toBe('nightcore');
    expect(toTrustedKey(signer, { namespace: 'other' }).sshNamespace).toBe('other');
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
