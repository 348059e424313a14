import { publicKeyFromSecret, randomSecretKey } from '$lib/core/ed25519';
import { toBase64 } from '$lib/core/bytes';
import {
  canonicalKeyId,
  encodeMinisignPublicKey,
  encodePemSpki,
  encodePkcs8PrivateKeyPem,
  encodeSignifyPublicKey,
  encodeSshPublicKey,
  sshFingerprint,
  minisignKeyId,
  publicKeyNumber
} from '$lib/core/keys';
import { parseArgs } from 'node:util';
import type { CliIO } from '../main';
import { UsageError, writeOutput } from '../io';

export const KEYGEN_USAGE = `Usage: nightcore keygen [--out PREFIX] [--comment TEXT] [--force]

Writes a new Ed25519 key pair:
  PREFIX.key           private key, PKCS#8 PEM, mode 0600 (keep it secret)
  PREFIX.pub           public key, raw 32 bytes in base64
  PREFIX.ssh.pub       public key, OpenSSH ssh-ed25519 line
  PREFIX.minisign.pub  public key, minisign format
  PREFIX.signify.pub   public key, signify format
  PREFIX.pub.pem       public key, PEM SubjectPublicKeyInfo (openssl)
PREFIX defaults to "nightcore". Existing files are never replaced without --force.
The minisign/signify key number is the first 8 bytes of the key's SHA-256 (its canonical id).`;

export async function keygen(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'nightcore' },
      comment: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true,
    allowPositionals: false
  });
  if (values.help) {
    io.out(`${KEYGEN_USAGE}\n`);
    return 0;
  }
  const prefix = values.out;
  if (!prefix) throw new UsageError('--out needs a file name prefix');
  const comment = values.comment ?? 'nightcore';
  if (/[\r\n]/.test(comment)) throw new UsageError('--comment must be one line');

  const seed = randomSecretKey();
  const publicKey = publicKeyFromSecret(seed);
  const id = await canonicalKeyId(publicKey);
  const keyNumber = await publicKeyNumber(publicKey);
  const overwrite = values.force;
  const files: [string, string, number][] = [
    [`${prefix}.key`, encodePkcs8PrivateKeyPem(seed), 0o600],
    [`${prefix}.pub`, `${toBase64(publicKey)}\n`, 0o644],
    [`${prefix}.ssh.pub`, `${encodeSshPublicKey(publicKey, comment)}\n`, 0o644],
    [`${prefix}.minisign.pub`, encodeMinisignPublicKey(publicKey, keyNumber), 0o644],
    [`${prefix}.signify.pub`, encodeSignifyPublicKey(publicKey, keyNumber, comment), 0o644],
    [`${prefix}.pub.pem`, encodePemSpki(publicKey), 0o644]
  ];
  for (const [path, text, mode] of files) {
    await writeOutput(path, text.endsWith('\n') ? text : `${text}\n`, { mode, overwrite });
  }
  io.out(`key id       ${id}\n`);
  io.out(`ssh          ${await sshFingerprint(publicKey)}\n`);
  io.out(`minisign id  ${minisignKeyId(keyNumber)}\n`);
  for (const [path] of files) io.out(`wrote        ${path}\n`);
  return 0;
}
