/** Loading key files for the CLI: private keys to sign with, public keys to trust. */
import { parsePrivateKey, parsePublicKeys, toTrustedKey } from '$lib/core/keys';
import { fromUtf8 } from '$lib/core/bytes';
import type { TrustedKey } from '$lib/core/verdict';
import { basename } from 'node:path';
import { CliError, readInput } from './io';

export interface SigningKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
}

/**
 * Reads an Ed25519 private key: PKCS#8 PEM (`nightcore keygen`, `openssl genpkey`) or an
 * unencrypted minisign secret key (`minisign -G -W`, or the one the Keys page offers).
 */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  let text: string;
  try {
    text = fromUtf8(await readInput(path), path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${path}: not a text file; expected a PKCS#8 PEM private key`);
  }
  const parsed = parsePrivateKey(text);
  if (!parsed.ok) throw new CliError(`${path}: ${parsed.reason.message} (${parsed.reason.code})`);
  return { seed: parsed.seed, publicKey: parsed.publicKey };
}

/**
 * Reads public key files in any supported format (an allowed_signers file may hold several keys).
 * Each key is labelled with its file name so a verdict can say who signed.
 */
export async function loadTrustedKeys(
  paths: readonly string[],
  namespace?: string
): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const path of paths) {
    const parsed = await parsePublicKeys(await readInput(path));
    if (!parsed.ok) throw new CliError(`${path}: ${parsed.reason.message} (${parsed.reason.code})`);
    for (const key of parsed.keys) {
      if (key.validAfter !== undefined || key.validBefore !== undefined) {
        // TrustedKey has no validity window yet: pinning the key would drop the window silently.
        throw new CliError(
          `${path}: valid-after/valid-before windows are not supported yet; remove the option to trust this key without a window`
        );
      }
      const options: { label: string; namespace?: string } = { label: basename(path) };
      if (namespace !== undefined) options.namespace = namespace;
      keys.push(toTrustedKey(key, options));
    }
  }
  return keys;
}
