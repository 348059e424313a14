/**
 * OpenSSH SSHSIG detached signatures (`ssh-keygen -Y sign -n <namespace>`), Ed25519 keys only.
 * Spec: openssh-portable PROTOCOL.sshsig.
 *
 * Armor: "-----BEGIN SSH SIGNATURE-----", base64 lines, "-----END SSH SIGNATURE-----"; strict UTF-8,
 * LF or CRLF, final line ending optional, no blank lines, nothing before or after.
 * Blob: "SSHSIG" || uint32 version (1) || string publickey || string namespace || string reserved
 *       || string hash_algorithm ("sha512" | "sha256") || string signature
 * Signed data: "SSHSIG" || string namespace || string reserved || string hash_algorithm
 *              || string H(message)
 * The public key inside the signature proves nothing on its own: it must be a pinned key.
 */
import {
  bytesEqual,
  concatBytes,
  DecodeError,
  fromBase64,
  fromUtf8,
  toBase64,
  utf8
} from '../bytes';
import { sha256, sha256Hex, sha512 } from '../digest';
import { publicKeyFromSecret, sign, verifyStrict } from '../ed25519';
import {
  reason,
  type DetachedOptions,
  type DetachedVerification,
  type Reason,
  type TrustedKey
} from '../verdict';
import { checkSeed, detachedResult, inputProblem, signatureLines } from './common';

export const SSHSIG_BEGIN = '-----BEGIN SSH SIGNATURE-----';
export const SSHSIG_END = '-----END SSH SIGNATURE-----';
export const DEFAULT_SSH_NAMESPACE = 'nightcore';
export type SshHashAlgorithm = 'sha512' | 'sha256';

const MAGIC = utf8('SSHSIG');
const KEY_TYPE = 'ssh-ed25519';

export interface SshSignature {
  publicKey: Uint8Array;
  namespace: string;
  reserved: Uint8Array;
  hashAlgorithm: SshHashAlgorithm;
  signature: Uint8Array;
}

export type SshsigParse = { ok: true; value: SshSignature } | { ok: false; reasons: Reason[] };

/** Reads SSH wire encodings; every read returns null when the data runs out. */
class WireReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  get remaining(): number {
    return this.bytes.length - this.offset;
  }
  take(length: number): Uint8Array | null {
    if (length > this.remaining) return null;
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  uint32(): number | null {
    const b = this.take(4);
    return b ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : null;
  }
  string(): Uint8Array | null {
    const length = this.uint32();
    return length === null ? null : this.take(length);
  }
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function quoted(bytes: Uint8Array): string {
  try {
    return JSON.stringify(fromUtf8(bytes).slice(0, 64));
  } catch {
    return `${bytes.length} bytes that are not UTF-8`;
  }
}

/** Parses an armored SSHSIG strictly. Never throws. */
export function parseSshsig(bytes: Uint8Array): SshsigParse {
  const fail = (code: `sshsig.${string}`, message: string): SshsigParse => ({
    ok: false,
    reasons: [reason(code, message)]
  });
  const split = signatureLines(bytes);
  if (!split.ok) return fail('sshsig.armor', `Not an SSH signature file: ${split.problem}.`);
  const lines = split.lines;
  if (lines[0] !== SSHSIG_BEGIN) {
    return fail('sshsig.armor', `An SSH signature starts with the line "${SSHSIG_BEGIN}".`);
  }
  if (lines.length < 3 || lines[lines.length - 1] !== SSHSIG_END) {
    return fail('sshsig.armor', `The armor does not end with the line "${SSHSIG_END}".`);
  }
  let blob: Uint8Array;
  try {
    blob = fromBase64(lines.slice(1, -1).join(''), 'SSH signature body');
  } catch (error) {
    const detail = error instanceof DecodeError ? error.message : 'not base64';
    return fail('sshsig.base64', `The signature body is unusable: ${detail} (truncated?).`);
  }
  const truncated = () =>
    fail('sshsig.truncated', 'The signature blob ends in the middle of a field.');
  const reader = new WireReader(blob);
  const magic = reader.take(MAGIC.length);
  if (!magic || !bytesEqual(magic, MAGIC)) {
    return fail('sshsig.magic', 'The signature blob does not start with "SSHSIG".');
  }
  const version = reader.uint32();
  if (version === null) return truncated();
  if (version !== 1) {
    return fail('sshsig.version', `SSHSIG version ${version} is not supported (only 1).`);
  }
  const keyBlob = reader.string();
  const namespaceBytes = reader.string();
  const reserved = reader.string();
  const hashBytes = reader.string();
  const sigBlob = reader.string();
  if (!keyBlob || !namespaceBytes || !reserved || !hashBytes || !sigBlob) return truncated();
  if (reader.remaining !== 0) {
    return fail(
      'sshsig.trailing-data',
      `${reader.remaining} unexpected byte(s) follow the signature in the blob.`
    );
  }
  const key = new WireReader(keyBlob);
  const keyType = key.string();
  if (!keyType || fromUtf8Safe(keyType) !== KEY_TYPE) {
    return fail(
      'sshsig.key-type',
      `The signing key is of type ${keyType ? quoted(keyType) : 'unknown'}; only ssh-ed25519 is supported.`
    );
  }
  const publicKey = key.string();
  if (!publicKey || publicKey.length !== 32 || key.remaining !== 0) {
    return fail('sshsig.public-key', 'The embedded ssh-ed25519 public key is malformed.');
  }
  const hash = fromUtf8Safe(hashBytes);
  if (hash !== 'sha512' && hash !== 'sha256') {
    return fail(
      'sshsig.hash-algorithm',
      `The hash algorithm ${quoted(hashBytes)} is not supported (sha512 or sha256).`
    );
  }
  const namespace = fromUtf8Safe(namespaceBytes);
  if (namespace === null) return fail('sshsig.namespace', 'The namespace is not UTF-8 text.');
  const sigReader = new WireReader(sigBlob);
  const sigType = sigReader.string();
  const signature = sigReader.string();
  if (!sigType || fromUtf8Safe(sigType) !== KEY_TYPE) {
    return fail(
      'sshsig.key-type',
      `The signature is of type ${sigType ? quoted(sigType) : 'unknown'}; expected ssh-ed25519.`
    );
  }
  if (!signature || signature.length !== 64) {
    return fail('sshsig.signature-length', 'The Ed25519 signature inside is not 64 bytes.');
  }
  if (sigReader.remaining !== 0) {
    return fail('sshsig.trailing-data', 'Unexpected bytes follow the Ed25519 signature.');
  }
  return {
    ok: true,
    value: {
      publicKey: publicKey.slice(),
      namespace,
      reserved: reserved.slice(),
      hashAlgorithm: hash,
      signature: signature.slice()
    }
  };
}

function fromUtf8Safe(bytes: Uint8Array): string | null {
  try {
    return fromUtf8(bytes);
  } catch {
    return null;
  }
}

function signedData(
  namespace: string,
  reserved: Uint8Array,
  hash: SshHashAlgorithm,
  digest: Uint8Array
): Uint8Array {
  return concatBytes(
    MAGIC,
    sshString(utf8(namespace)),
    sshString(reserved),
    sshString(utf8(hash)),
    sshString(digest)
  );
}

async function digestOf(hash: SshHashAlgorithm, message: Uint8Array): Promise<Uint8Array> {
  return hash === 'sha512' ? sha512(message) : sha256(message);
}

/** OpenSSH's fingerprint of an ssh-ed25519 key: SHA256:<unpadded base64 of SHA-256(blob)>. */
async function fingerprint(publicKey: Uint8Array): Promise<string> {
  const blob = concatBytes(sshString(utf8(KEY_TYPE)), sshString(publicKey));
  return `SHA256:${toBase64(await sha256(blob)).replace(/=+$/, '')}`;
}

/**
 * An OpenSSH pattern list, as in allowed_signers' namespaces option: `*` matches any run, `?` one
 * character; a name is allowed when a plain pattern matches it and no `!`-negated one does.
 */
function namespaceAllowed(name: string, patterns: readonly string[]): boolean {
  const matches = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`
    ).test(name);
  if (patterns.some((p) => p.startsWith('!') && matches(p.slice(1)))) return false;
  return patterns.some((p) => !p.startsWith('!') && matches(p));
}

/**
 * Verifies an SSHSIG: the embedded key must be pinned, the namespace must be the one the user set
 * for the key (`sshNamespace`), else options.namespace, else "nightcore"; an allowed_signers
 * restriction (`sshAllowedNamespaces`) must admit it; and the signature must verify.
 */
export async function verifySshsig(
  signature: Uint8Array,
  message: Uint8Array,
  keys: readonly TrustedKey[],
  options: DetachedOptions = {}
): Promise<DetachedVerification> {
  const problem = inputProblem(signature, message, keys);
  if (problem) return detachedResult('sshsig', [], [problem], []);
  const parsed = parseSshsig(signature);
  if (!parsed.ok) return detachedResult('sshsig', [], parsed.reasons, []);
  const sig = parsed.value;
  const defaultNamespace = options.namespace ?? DEFAULT_SSH_NAMESPACE;
  const matches = keys.filter(
    (key) => key.publicKey instanceof Uint8Array && bytesEqual(key.publicKey, sig.publicKey)
  );
  const reasons: Reason[] = [];
  const signers: string[] = [];
  const namespaceReason = (expected: string, whose: string) =>
    reason(
      'sshsig.namespace',
      `The signature was made for namespace ${JSON.stringify(sig.namespace)}, but ${whose} ` +
        `${JSON.stringify(expected)} (sign with ssh-keygen -Y sign -n ${expected}).`
    );
  if (matches.length === 0) {
    const id = await sha256Hex(sig.publicKey);
    reasons.push(
      reason(
        'signature.untrusted',
        `Signed by SSH key ${await fingerprint(sig.publicKey)} (key id ${id}), which is not ` +
          'pinned. The key inside an SSH signature proves nothing by itself.'
      )
    );
    if (sig.namespace !== defaultNamespace) {
      reasons.push(namespaceReason(defaultNamespace, 'the required namespace is'));
    }
    return detachedResult('sshsig', signers, reasons, []);
  }
  const digest = await digestOf(sig.hashAlgorithm, message);
  const data = signedData(sig.namespace, sig.reserved, sig.hashAlgorithm, digest);
  const verified = verifyStrict(sig.signature, data, sig.publicKey);
  for (const key of matches) {
    const expected = key.sshNamespace ?? defaultNamespace;
    const allowed = key.sshAllowedNamespaces;
    if (allowed !== undefined && !namespaceAllowed(expected, allowed)) {
      reasons.push(
        reason(
          'sshsig.namespace-not-allowed',
          `The pinned key's allowed_signers line limits it to namespaces ${JSON.stringify(allowed.join(','))}, ` +
            `which do not include the required namespace ${JSON.stringify(expected)}.`
        )
      );
    } else if (sig.namespace !== expected) {
      reasons.push(
        namespaceReason(
          expected,
          key.sshNamespace === undefined ? 'the required namespace is' : 'this key signs under'
        )
      );
    } else if (verified) {
      signers.push(key.id);
    }
  }
  if (!verified) {
    reasons.push(
      reason(
        'signature.invalid',
        'The SSH signature was made by a pinned key but does not verify: the module or the ' +
          'signature was changed after signing.'
      )
    );
  }
  // One matching key with the right namespace is enough; other copies' namespaces do not matter.
  return detachedResult('sshsig', signers, signers.length > 0 ? [] : reasons, []);
}

export interface SshSignOptions {
  /** Default "nightcore". */
  namespace?: string;
  /** Default "sha512" (what ssh-keygen uses). */
  hash?: SshHashAlgorithm;
}

/** Signs like `ssh-keygen -Y sign`: the returned armored text verifies with `ssh-keygen -Y verify`. */
export async function signSsh(
  message: Uint8Array,
  seed: Uint8Array,
  options: SshSignOptions = {}
): Promise<string> {
  if (!(message instanceof Uint8Array)) throw new TypeError('message: expected Uint8Array');
  checkSeed(seed);
  const namespace = options.namespace ?? DEFAULT_SSH_NAMESPACE;
  const hash = options.hash ?? 'sha512';
  if (typeof namespace !== 'string' || namespace === '') {
    throw new RangeError('namespace: must be a non-empty string');
  }
  if (hash !== 'sha512' && hash !== 'sha256') {
    throw new RangeError('hash: must be "sha512" or "sha256"');
  }
  const publicKey = publicKeyFromSecret(seed);
  const reserved = new Uint8Array(0);
  const data = signedData(namespace, reserved, hash, await digestOf(hash, message));
  const sig = sign(data, seed);
  const keyType = sshString(utf8(KEY_TYPE));
  const blob = concatBytes(
    MAGIC,
    new Uint8Array([0, 0, 0, 1]),
    sshString(concatBytes(keyType, sshString(publicKey))),
    sshString(utf8(namespace)),
    sshString(reserved),
    sshString(utf8(hash)),
    sshString(concatBytes(keyType, sshString(sig)))
  );
  const body = toBase64(blob).match(/.{1,70}/g) ?? [];
  return `${SSHSIG_BEGIN}\n${body.join('\n')}\n${SSHSIG_END}\n`;
}
