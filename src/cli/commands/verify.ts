import { verify, type Verdict, type VerifyInput, type VerifyOptions } from '$lib/core/verify';
import { detectInput } from '$lib/core/detect-input';
import { parseRfc3339 } from '$lib/core/time';
import type { TrustedKey } from '$lib/core/verdict';
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import type { CliIO } from '../main';
import { CliError, UsageError, fileExists, isDirectory, readFolder, readInput } from '../io';
import { loadTrustedKeys } from '../keys';

export const VERIFY_USAGE = `Usage: nightcore verify FILE [--sig SIGNATURE] --key PUBLIC_KEY... [options]

FILE is a bundle (.ncb), a module (.wasm) with a detached signature, or the old console's tenant
folder or zip (module.wasm, module.sig, manifest.json, pubkey.b64: the key in pubkey.b64 is
reported, never trusted because it is there).
  --sig FILE        detached signature (minisign, OpenSSH SSHSIG, signify, raw Ed25519);
                    default: FILE.minisig or FILE.sig when one exists
  --key FILE        a public key to trust (repeatable): raw hex/base64, minisign, signify,
                    ssh-ed25519 line, allowed_signers file, PEM SPKI
  --namespace NS    SSH signature namespace (default nightcore)
  --threshold N     distinct trusted keys that must have signed (default 1)
  --now TIME        judge expiry at this RFC 3339 time instead of now
  --json            print the whole verdict as JSON on stdout

Exit status: 0 verified, 1 rejected (every reason on stderr), 2 usage error.`;

export async function verifyCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      sig: { type: 'string' },
      key: { type: 'string', multiple: true },
      namespace: { type: 'string' },
      threshold: { type: 'string' },
      now: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true,
    allowPositionals: true
  });
  if (values.help) {
    io.out(`${VERIFY_USAGE}\n`);
    return 0;
  }
  const [path, ...extra] = positionals;
  if (!path || extra.length > 0) throw new UsageError('verify takes exactly one FILE');
  if (!values.key?.length) throw new UsageError('verify needs at least one --key to trust');
  const options: VerifyOptions = {};
  if (values.namespace !== undefined) options.namespace = values.namespace;
  if (values.threshold !== undefined) {
    if (!/^[1-9]\d*$/.test(values.threshold))
      throw new UsageError('--threshold must be a whole number >= 1');
    options.threshold = Number(values.threshold);
  }
  if (values.now !== undefined) {
    const now = parseRfc3339(values.now);
    if (now === null)
      throw new UsageError('--now must be an RFC 3339 time, e.g. 2027-01-01T00:00:00Z');
    options.now = now;
  }
  let keys: TrustedKey[];
  try {
    keys = await loadTrustedKeys(values.key, values.namespace);
  } catch (error) {
    if (error instanceof CliError) throw new UsageError(error.message);
    throw error;
  }
  const input = await readVerifyInput(path, values.sig);
  const verdict = await verify(input, keys, options);
  report(verdict, keys, values.json, io);
  return verdict.ok ? 0 : 1;
}

async function readVerifyInput(path: string, sigPath: string | undefined): Promise<VerifyInput> {
  if (await isDirectory(path)) {
    if (sigPath !== undefined) throw new UsageError('--sig does not apply to a tenant folder');
    return { kind: 'tenant', files: await readFolder(path) };
  }
  const bytes = await readInput(path);
  const kind = detectInput(bytes, path);
  if (kind === 'bundle') {
    if (sigPath !== undefined)
      throw new UsageError('a bundle carries its own signatures; --sig does not apply');
    return { kind: 'bundle', bytes };
  }
  if (kind === 'zip') return { kind: 'tenant-zip', bytes };
  if (kind === 'wasm') {
    const signaturePath = sigPath ?? (await findSignature(path));
    if (!signaturePath) {
      throw new UsageError(`${path} is a raw module: pass its detached signature with --sig`);
    }
    return {
      kind: 'detached',
      module: bytes,
      signature: await readInput(signaturePath),
      name: basename(path)
    };
  }
  throw new CliError(`${path}: not a bundle, a WebAssembly module or a zip (unrecognized content)`);
}

async function findSignature(modulePath: string): Promise<string | undefined> {
  for (const candidate of [`${modulePath}.minisig`, `${modulePath}.sig`]) {
    if (await fileExists(candidate)) return candidate;
  }
  return undefined;
}

function report(verdict: Verdict, keys: readonly TrustedKey[], json: boolean, io: CliIO): void {
  if (json) {
    const { moduleBytes: _module, manifestBytes: _manifest, ...printable } = verdict;
    io.out(`${JSON.stringify(printable, null, 2)}\n`);
  }
  const labelOf = (id: string) => keys.find((key) => key.id === id)?.label;
  const write = json ? io.err : io.out;
  if (verdict.ok) {
    const title = verdict.manifest
      ? `${verdict.manifest.name} ${verdict.manifest.version}`
      : (verdict.name ?? '');
    write(`verified: ${title} (${verdict.format})\n`);
    if (verdict.module)
      write(`  module     sha256 ${verdict.module.sha256} (${verdict.module.size} bytes)\n`);
    for (const id of verdict.signers) {
      const label = labelOf(id);
      write(`  signed by  ${id}${label ? ` (${label})` : ''}\n`);
    }
    if (verdict.trustedComment !== undefined)
      write(`  trusted comment: ${verdict.trustedComment}\n`);
  } else {
    io.err(`rejected: ${verdict.name ?? 'input'} (${verdict.format})\n`);
    for (const reason of verdict.reasons) io.err(`  ${reason.code}: ${reason.message}\n`);
  }
  for (const note of verdict.notes) io.err(`  note ${note.code}: ${note.message}\n`);
}
