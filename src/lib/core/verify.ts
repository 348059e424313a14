/**
 * The one entry point that turns input bytes into a Verdict: bundles (docs/bundle-format.md),
 * detached signatures over a raw module, the old console's tenant folder or zip, and unsigned
 * modules. Only the keys passed in are trusted; a key shipped with the input never is.
 *
 * verify() never throws and never stops at the first problem when later checks still mean
 * something: a bundle with a digest mismatch and an untrusted signer reports both. An
 * unexpected exception becomes the reason `input.internal` (a bug, never an expected outcome).
 */
import { DEFAULT_MAX_MODULE_BYTES } from './bundle';
import { sha256Hex } from './digest';
import { publicKeyProblem } from './ed25519';
import { detectSignatureFormat, verifyDetachedSignature } from './formats/detached';
import { commonFolder, readTenantFiles, unzipTenant, verifyTenant } from './formats/tenant';
import { isTenantName } from './policy/document';
import type { Manifest } from './manifest';
import {
  reason,
  type DetachedVerification,
  type InputFormat,
  type Reason,
  type TrustedKey
} from './verdict';
import { thresholdReason, verifyBundle } from './verify-bundle';

export type VerifyInput =
  | { kind: 'bundle'; bytes: Uint8Array }
  | { kind: 'detached'; module: Uint8Array; signature: Uint8Array; name: string }
  | { kind: 'tenant'; files: ReadonlyMap<string, Uint8Array> }
  | { kind: 'tenant-zip'; bytes: Uint8Array }
  | { kind: 'unsigned'; module: Uint8Array; name: string };

export interface VerifyOptions {
  /** The current time in epoch milliseconds, for expiry; default Date.now(). */
  now?: number;
  /** Distinct trusted keys whose signatures must verify; default 1. */
  threshold?: number;
  /** SSHSIG namespace for detached OpenSSH signatures; default `nightcore`. */
  namespace?: string;
  /** Largest module accepted, in bytes; default 64 MiB. */
  maxModuleBytes?: number;
}

export interface Verdict {
  /** True only when there is no reason: signed by enough trusted keys and everything matched. */
  ok: boolean;
  format: InputFormat | 'unsigned';
  /** Why it failed; empty when ok. */
  reasons: Reason[];
  /** What the reviewer should see either way (untrusted extra signatures, unknown fields…). */
  notes: Reason[];
  /** Distinct canonical ids of the trusted keys whose signatures verified. */
  signers: string[];
  /** SHA-256 (lowercase hex) and length of the module bytes, when there were module bytes. */
  module: { sha256: string; size: number } | null;
  moduleBytes: Uint8Array | null;
  /** The bundle's manifest whenever it parsed, even when ok is false (then it is unverified). */
  manifest: Manifest | null;
  /** The manifest exactly as signed (bundles only). */
  manifestBytes: Uint8Array | null;
  manifestSha256: string | null;
  unknownManifestKeys: string[];
  /** The module's name: the manifest's for a bundle, the file name for a detached signature. */
  name: string | null;
  trustedComment?: string;
  untrustedComment?: string;
  /** Tenant input: canonical id of the key in pubkey.b64 (shown, never trusted by presence). */
  claimedKeyId?: string | null;
  /**
   * Tenant input: the tenant its folder names (the one top-level folder, when it is a valid
   * tenant name). Not covered by any signature: it chooses the policy's override, nothing more.
   */
  tenant?: string;
}

/** VerifyOptions with the defaults filled in. */
export interface Resolved {
  now: number;
  threshold: number;
  namespace: string | undefined;
  maxModuleBytes: number;
}

/** Verifies any supported input against the pinned keys. Never throws. */
export async function verify(
  input: VerifyInput,
  keys: readonly TrustedKey[],
  options: VerifyOptions = {}
): Promise<Verdict> {
  let format: Verdict['format'] = 'unknown';
  try {
    format = formatOf(input);
    const problem = checkArguments(input, keys, options);
    if (problem !== null) return finish(emptyVerdict(format), [problem]);
    const resolved: Resolved = {
      now: options.now ?? Date.now(),
      threshold: options.threshold ?? 1,
      namespace: options.namespace,
      maxModuleBytes: options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
    };
    switch (input.kind) {
      case 'bundle': {
        const verdict = emptyVerdict('bundle');
        return finish(verdict, await verifyBundle(input.bytes, keys, resolved, verdict));
      }
      case 'detached':
        return await verifyDetached(input.module, input.signature, input.name, keys, resolved);
      case 'tenant':
        return withTenant(
          await verifyTenantFiles(input.files, keys, resolved),
          commonFolder([...input.files.keys()])
        );
      case 'tenant-zip': {
        const unzipped = unzipTenant(input.bytes);
        if (!unzipped.ok) return finish(emptyVerdict('tenant'), [unzipped.reason]);
        return withTenant(await verifyTenantFiles(unzipped.files, keys, resolved), unzipped.folder);
      }
      case 'unsigned':
        return await verifyUnsigned(input.module, input.name, resolved);
    }
  } catch (error) {
    let detail = 'an unprintable error';
    try {
      detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    } catch {
      // keep the placeholder: describing the error must not throw either
    }
    return finish(emptyVerdict(format), [
      reason(
        'input.internal',
        `Night Core hit an internal error while verifying (${detail.slice(0, 200)}); the input is refused.`
      )
    ]);
  }
}

async function verifyDetached(
  module: Uint8Array,
  signature: Uint8Array,
  name: string,
  keys: readonly TrustedKey[],
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict(detectSignatureFormat(signature) ?? 'unknown');
  verdict.name = name;
  const tooBig = await takeModule(verdict, module, options);
  if (tooBig !== null) return finish(verdict, [tooBig]);
  const notWasm = wasmMagicReason(module);
  if (notWasm !== null) return finish(verdict, [notWasm]);
  const trusted = await canonicalKeys(keys, verdict.notes);
  const detachedOptions = options.namespace === undefined ? {} : { namespace: options.namespace };
  const result = await verifyDetachedSignature(signature, module, trusted, detachedOptions);
  if (result.trustedComment !== undefined) verdict.trustedComment = result.trustedComment;
  if (result.untrustedComment !== undefined) verdict.untrustedComment = result.untrustedComment;
  return finishDetached(verdict, result, options.threshold);
}

/** Names the tenant a tenant folder's name gives, or notes why it gives none. */
function withTenant(verdict: Verdict, folder: string | null): Verdict {
  if (folder === null) return verdict;
  if (isTenantName(folder)) verdict.tenant = folder;
  else {
    verdict.notes.push(
      reason(
        'tenant.name',
        `The folder ${JSON.stringify(folder.slice(0, 80))} is not a tenant name (1 to 64 characters from A-Z a-z 0-9 . _ - starting with a letter or digit): the base policy applies.`
      )
    );
  }
  return verdict;
}

async function verifyTenantFiles(
  files: ReadonlyMap<string, Uint8Array>,
  keys: readonly TrustedKey[],
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict('tenant');
  const read = readTenantFiles(files);
  if (!read.ok) return finish(verdict, [read.reason]);
  verdict.name = 'module.wasm';
  const tooBig = await takeModule(verdict, read.layout.module, options);
  if (tooBig !== null) return finish(verdict, [tooBig]);
  const notWasm = wasmMagicReason(read.layout.module);
  if (notWasm !== null) return finish(verdict, [notWasm]);
  const trusted = await canonicalKeys(keys, verdict.notes);
  const tenantOptions = options.namespace === undefined ? {} : { namespace: options.namespace };
  const result = await verifyTenant(read.layout, trusted, tenantOptions);
  verdict.claimedKeyId = result.claimedKeyId;
  return finishDetached(verdict, result, options.threshold);
}

async function verifyUnsigned(
  module: Uint8Array,
  name: string,
  options: Resolved
): Promise<Verdict> {
  const verdict = emptyVerdict('unsigned');
  verdict.name = name;
  const tooBig = await takeModule(verdict, module, options);
  if (tooBig !== null) return finish(verdict, [tooBig]);
  return finish(verdict, [
    reason('signature.missing', 'The module is not signed, so no pinned key vouches for it.')
  ]);
}

/**
 * The pinned keys with their canonical ids (SHA-256 of the key bytes), whatever id the caller
 * gave, and without unusable keys (noted). A detached verifier reports signers by key id, so the
 * same key pinned twice under two ids must not count as two signers towards a threshold.
 */
async function canonicalKeys(keys: readonly TrustedKey[], notes: Reason[]): Promise<TrustedKey[]> {
  const out: TrustedKey[] = [];
  for (const key of keys) {
    const problem = publicKeyProblem(key.publicKey);
    if (problem !== null) {
      const label = typeof key.label === 'string' ? JSON.stringify(key.label.slice(0, 80)) : key.id;
      notes.push(reason('key.unusable', `The pinned key ${label} is ignored: ${problem}.`));
      continue;
    }
    out.push({ ...key, id: await sha256Hex(key.publicKey) });
  }
  return out;
}

/**
 * A detached signature covers whatever bytes it was made over: without this check a signature
 * over something else (a bundle's PAE bytes, a hash) would "verify" as a module.
 */
function wasmMagicReason(module: Uint8Array): Reason | null {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (module.length >= 8 && magic.every((byte, i) => module[i] === byte)) return null;
  return reason(
    'module.not-wasm',
    'The signed file is not a WebAssembly module (it does not start with the \\0asm header).'
  );
}

/** Records the module and its digest, or returns why it is refused for its size. */
async function takeModule(
  verdict: Verdict,
  module: Uint8Array,
  options: Resolved
): Promise<Reason | null> {
  if (module.length > options.maxModuleBytes) {
    const limit = `${options.maxModuleBytes}-byte limit`;
    return reason('module.too-large', `The module is ${module.length} bytes, over the ${limit}.`);
  }
  verdict.moduleBytes = module;
  verdict.module = { sha256: await sha256Hex(module), size: module.length };
  return null;
}

/** Folds a detached (or tenant) verification into the verdict, adding the threshold rule. */
function finishDetached(
  verdict: Verdict,
  result: DetachedVerification,
  threshold: number
): Verdict {
  verdict.format = result.format;
  verdict.notes.push(...result.notes);
  verdict.signers = [...new Set(result.signers)];
  const reasons = [...result.reasons];
  if (!result.ok && reasons.length === 0) {
    reasons.push(reason('signature.invalid', 'The signature does not verify.'));
  }
  if (result.ok && verdict.signers.length < threshold) {
    reasons.push(thresholdReason(verdict.signers.length, threshold));
  }
  return finish(verdict, reasons);
}

// ---------------------------------------------------------------------------------------------

function formatOf(input: VerifyInput): Verdict['format'] {
  const kind = (input as { kind?: unknown } | null)?.kind;
  if (kind === 'bundle') return 'bundle';
  if (kind === 'tenant' || kind === 'tenant-zip') return 'tenant';
  if (kind === 'unsigned') return 'unsigned';
  return 'unknown';
}

/** Checks the caller's arguments (verify is a boundary; TypeScript types are not enough). */
function checkArguments(
  input: VerifyInput,
  keys: readonly TrustedKey[],
  options: VerifyOptions
): Reason | null {
  const bad = (message: string): Reason => reason('input.invalid', message);
  const isBytes = (value: unknown): boolean => value instanceof Uint8Array;
  if (typeof input !== 'object' || input === null) return bad('The input is not an object.');
  switch (input.kind) {
    case 'bundle':
    case 'tenant-zip':
      if (!isBytes(input.bytes)) return bad('The input bytes are not a Uint8Array.');
      break;
    case 'detached':
      if (!isBytes(input.module) || !isBytes(input.signature)) {
        return bad('The module and the signature must be Uint8Arrays.');
      }
      if (typeof input.name !== 'string') return bad('The module name must be a string.');
      break;
    case 'unsigned':
      if (!isBytes(input.module)) return bad('The module must be a Uint8Array.');
      if (typeof input.name !== 'string') return bad('The module name must be a string.');
      break;
    case 'tenant':
      if (!(input.files instanceof Map)) return bad('The tenant files must be a Map.');
      break;
    default:
      return bad(
        `Unknown input kind ${JSON.stringify(String((input as { kind?: unknown }).kind))}.`
      );
  }
  if (
    !Array.isArray(keys) ||
    !keys.every((k) => typeof k === 'object' && k !== null && isBytes(k.publicKey))
  ) {
    return bad('The trusted keys must be an array of {id, publicKey: Uint8Array}.');
  }
  if (typeof options !== 'object' || options === null) return bad('The options are not an object.');
  const { now, threshold, namespace, maxModuleBytes } = options;
  if (now !== undefined && !Number.isFinite(now))
    return bad('The option now must be a finite number of milliseconds.');
  if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 1)) {
    return bad('The option threshold must be a whole number of at least 1.');
  }
  if (namespace !== undefined && typeof namespace !== 'string')
    return bad('The option namespace must be a string.');
  if (
    maxModuleBytes !== undefined &&
    !(Number.isSafeInteger(maxModuleBytes) && maxModuleBytes >= 0)
  ) {
    return bad('The option maxModuleBytes must be a whole number of bytes.');
  }
  return null;
}

function emptyVerdict(format: Verdict['format']): Verdict {
  return {
    ok: false,
    format,
    reasons: [],
    notes: [],
    signers: [],
    module: null,
    moduleBytes: null,
    manifest: null,
    manifestBytes: null,
    manifestSha256: null,
    unknownManifestKeys: [],
    name: null
  };
}

function finish(verdict: Verdict, reasons: Reason[]): Verdict {
  verdict.reasons = reasons;
  verdict.ok = reasons.length === 0;
  return verdict;
}
