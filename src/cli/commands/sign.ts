import { addSignature, createBundle } from '$lib/core/bundle-write';
import { utf8, fromUtf8 } from '$lib/core/bytes';
import { sha256Hex } from '$lib/core/digest';
import { signMinisign } from '$lib/core/formats/minisign';
import { signRaw } from '$lib/core/formats/raw';
import { signSignify } from '$lib/core/formats/signify';
import { signSsh } from '$lib/core/formats/sshsig';
import { canonicalKeyId, publicKeyNumber } from '$lib/core/keys';
import { CAPABILITIES, LIMIT_NAMES, parseManifest, type LimitName } from '$lib/core/manifest';
import { requiredCapabilities } from '$lib/core/wasm/capabilities';
import { inspectWasm } from '$lib/core/wasm/inspect';
import { toBase64 } from '$lib/core/bytes';
import { parseArgs } from 'node:util';
import type { CliIO } from '../main';
import { CliError, UsageError, baseName, readInput, writeOutput } from '../io';
import { loadSigningKey, type SigningKey } from '../keys';

export const SIGN_USAGE = `Usage:
  nightcore sign MODULE.wasm --key KEY --version V [manifest fields] [--out FILE.ncb]
  nightcore sign MODULE.wasm --key KEY --manifest MANIFEST.json [--out FILE.ncb]
  nightcore sign --add BUNDLE.ncb --key KEY [--out FILE.ncb]
  nightcore sign MODULE.wasm --key KEY --detached minisign|ssh|signify|raw [--out FILE]

KEY is an Ed25519 private key in PKCS#8 PEM (nightcore keygen, or openssl genpkey -algorithm ed25519)
or an unencrypted minisign secret key (minisign -G -W).

Bundle (.ncb): the manifest is built from the fields below, or read from --manifest (its module
digest and size are filled in from MODULE.wasm); then it is checked and signed (DSSE, Ed25519).
  --name N              module name (default: the file name without .wasm)
  --version V           semantic version (required without --manifest)
  --publisher P, --description D
  --entry command|reactor      default: from the module's exports
  --capability C        repeatable: ${CAPABILITIES.join(', ')}
                        (default: the groups the module's WASI imports need)
  --arg A               repeatable: arguments passed to the module
  --env NAME=VALUE      repeatable: environment passed to the module
  --timeout-ms N, --memory-mib N, --output-bytes N, --fs-bytes N    requested limits
  --expires TIME        RFC 3339, e.g. 2027-01-01T00:00:00Z
  --add BUNDLE          add this key's signature to an existing bundle (written in place
                        unless --out)

Detached signature of the raw module in another tool's own format:
  minisign  MODULE.wasm.minisig   (verify: minisign -Vm MODULE.wasm -p KEY.minisign.pub)
  ssh       MODULE.wasm.sig       (verify: ssh-keygen -Y verify -n nightcore …)
  signify   MODULE.wasm.sig       (verify: signify -V -p KEY.signify.pub -m MODULE.wasm)
  raw       MODULE.wasm.ed25519   (64-byte signature in base64; openssl pkeyutl -verify -rawin)
  --namespace NS        SSH signature namespace (default nightcore)
  --hash sha512|sha256  SSH signature hash (default sha512)
  --trusted-comment T   minisign trusted comment (default timestamp:<now>)
  --legacy              minisign legacy Ed (unhashed) signature

--force replaces an existing output file.`;

const LIMIT_FLAGS: Record<LimitName, string> = {
  timeoutMs: 'timeout-ms',
  memoryMiB: 'memory-mib',
  outputBytes: 'output-bytes',
  fsBytes: 'fs-bytes'
};

const DETACHED_EXTENSIONS = { minisign: '.minisig', ssh: '.sig', signify: '.sig', raw: '.ed25519' };
type DetachedKind = keyof typeof DETACHED_EXTENSIONS;

export async function signCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      manifest: { type: 'string' },
      add: { type: 'string' },
      detached: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      publisher: { type: 'string' },
      description: { type: 'string' },
      entry: { type: 'string' },
      capability: { type: 'string', multiple: true },
      arg: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      'timeout-ms': { type: 'string' },
      'memory-mib': { type: 'string' },
      'output-bytes': { type: 'string' },
      'fs-bytes': { type: 'string' },
      expires: { type: 'string' },
      namespace: { type: 'string' },
      hash: { type: 'string' },
      'trusted-comment': { type: 'string' },
      legacy: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true,
    allowPositionals: true
  });
  if (values.help) {
    io.out(`${SIGN_USAGE}\n`);
    return 0;
  }
  if (!values.key) throw new UsageError('sign needs --key PRIVATE_KEY.pem');
  const key = await loadSigningKey(values.key);
  const overwrite = values.force;

  if (values.add !== undefined) {
    if (positionals.length > 0) throw new UsageError('--add takes the bundle, not a module');
    const result = await addSignature(await readInput(values.add), key.seed);
    if (!result.ok) throw new CliError(describe(values.add, result.reasons));
    const out = values.out ?? values.add;
    await writeOutput(out, result.bytes, { overwrite: overwrite || out === values.add });
    io.out(`added signature by ${await canonicalKeyId(key.publicKey)} to ${out}\n`);
    return 0;
  }

  const [modulePath, ...extra] = positionals;
  if (!modulePath || extra.length > 0) throw new UsageError('sign takes exactly one MODULE.wasm');
  const module = await readInput(modulePath);
  const inspection = inspectWasm(module);
  if (!inspection.ok) {
    throw new CliError(
      describe(modulePath, inspection.reasons) + '\nRefusing to sign a module that does not parse.'
    );
  }

  if (values.detached !== undefined) {
    if (!(values.detached in DETACHED_EXTENSIONS)) {
      throw new UsageError(
        `--detached must be one of ${Object.keys(DETACHED_EXTENSIONS).join(', ')}`
      );
    }
    const kind = values.detached as DetachedKind;
    const out = values.out ?? `${modulePath}${DETACHED_EXTENSIONS[kind]}`;
    const signature = await detachedSignature(kind, module, key, values);
    await writeOutput(out, signature, { overwrite });
    io.out(`wrote ${kind} signature ${out}\n`);
    return 0;
  }

  const manifestObject = values.manifest
    ? await manifestFromFile(values.manifest)
    : manifestFromFields(values, baseName(modulePath));
  manifestObject.module = { sha256: await sha256Hex(module), size: module.length };
  if (manifestObject.entry === undefined) {
    if (inspection.entry === 'none') {
      throw new UsageError('the module exports neither _start nor _initialize: pass --entry');
    }
    manifestObject.entry = inspection.entry;
  }
  if (manifestObject.capabilities === undefined)
    manifestObject.capabilities = requiredCapabilities(inspection);
  manifestObject.created ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const manifestBytes = utf8(`${JSON.stringify(manifestObject, null, 2)}\n`);
  const checked = parseManifest(manifestBytes);
  if (!checked.ok) throw new CliError(describe('manifest', checked.reasons));
  for (const foreign of inspection.foreignImports) {
    io.err(
      `warning: the module imports ${foreign}, which no sandbox provides; it will be refused at review\n`
    );
  }
  const bundle = await createBundle({
    module,
    manifest: manifestBytes,
    signers: [{ seed: key.seed }]
  });
  const out = values.out ?? `${modulePath.replace(/\.wasm$/i, '')}.ncb`;
  await writeOutput(out, bundle, { overwrite });
  io.out(
    `wrote ${out}: ${checked.manifest.name} ${checked.manifest.version}, signed by ${await canonicalKeyId(key.publicKey)}\n`
  );
  return 0;
}

async function detachedSignature(
  kind: DetachedKind,
  module: Uint8Array,
  key: SigningKey,
  values: {
    namespace?: string | undefined;
    hash?: string | undefined;
    'trusted-comment'?: string | undefined;
    legacy?: boolean | undefined;
  }
): Promise<string> {
  const keyNumber = await publicKeyNumber(key.publicKey);
  switch (kind) {
    case 'minisign': {
      const options: { trustedComment?: string; legacy?: boolean } = {
        legacy: values.legacy === true
      };
      if (values['trusted-comment'] !== undefined)
        options.trustedComment = values['trusted-comment'];
      return signMinisign(module, key.seed, keyNumber, options);
    }
    case 'ssh': {
      const hash = values.hash ?? 'sha512';
      if (hash !== 'sha512' && hash !== 'sha256')
        throw new UsageError('--hash must be sha512 or sha256');
      return signSsh(module, key.seed, { namespace: values.namespace ?? 'nightcore', hash });
    }
    case 'signify':
      return signSignify(module, key.seed, keyNumber);
    case 'raw':
      return `${toBase64(await signRaw(module, key.seed))}\n`;
  }
}

type ManifestDraft = Record<string, unknown> & {
  module?: unknown;
  entry?: unknown;
  capabilities?: unknown;
  created?: unknown;
};

async function manifestFromFile(path: string): Promise<ManifestDraft> {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(await readInput(path), path));
  } catch (error) {
    throw new CliError(`${path}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${path}: a manifest is a JSON object`);
  }
  return value as ManifestDraft;
}

function manifestFromFields(values: Record<string, unknown>, defaultName: string): ManifestDraft {
  const text = (name: string) => values[name] as string | undefined;
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  if (text('version') === undefined) throw new UsageError('sign needs --version (or --manifest)');
  const draft: ManifestDraft = { name: text('name') ?? defaultName, version: text('version') };
  for (const field of ['publisher', 'description', 'entry', 'expires']) {
    if (text(field) !== undefined) draft[field] = text(field);
  }
  if (values.capability !== undefined) draft.capabilities = list('capability');
  if (list('arg').length > 0) draft.args = list('arg');
  if (list('env').length > 0) {
    const env: Record<string, string> = {};
    for (const pair of list('env')) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--env ${JSON.stringify(pair)}: expected NAME=VALUE`);
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    draft.env = env;
  }
  const limits: Record<string, number> = {};
  for (const limit of LIMIT_NAMES) {
    const flag = LIMIT_FLAGS[limit];
    const raw = text(flag);
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a positive whole number`);
    limits[limit] = Number(raw);
  }
  if (Object.keys(limits).length > 0) draft.limits = limits;
  return draft;
}

function describe(what: string, reasons: readonly { code: string; message: string }[]): string {
  return reasons.map((r) => `${what}: ${r.message} (${r.code})`).join('\n');
}
