/**
 * Bundle format v1 (docs/bundle-format.md): one UTF-8 JSON file holding the module and a DSSE v1
 * envelope whose payload is the manifest. This file parses the container strictly (and holds
 * PAE, the bytes a signature covers); bundle-write.ts writes it; verify-bundle.ts decides what the
 * signatures and the manifest mean.
 *
 * The container is ours, so it is closed: an unknown field, a duplicate key, a wrong type or
 * non-canonical base64 is an error, never something to guess around. Sizes are checked before
 * anything big is decoded. Nothing here throws on bad input.
 */
import { fromBase64, utf8, concatBytes, DecodeError } from './bytes';
import { SIGNATURE_LENGTH } from './ed25519';
import {
  isJsonArray,
  isJsonObject,
  isJsonString,
  jsonKindOf,
  parseJsonBytes,
  type JsonObject,
  type JsonValue
} from './json';
import { MAX_MANIFEST_BYTES } from './manifest';
import { reason, type Reason, type ReasonCode } from './verdict';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.nightcore.bundle+json';
export const BUNDLE_EXTENSION = '.ncb';
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.nightcore.manifest+json';
export const BUNDLE_VERSION = 1;
export const DEFAULT_MAX_MODULE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_SIGNATURES = 32;
export const MAX_KEYID_LENGTH = 256;

export interface BundleLimits {
  /** Largest decoded module accepted; default 64 MiB. Checked from the base64 length. */
  maxModuleBytes?: number;
  /** Largest decoded manifest accepted; default 1 MiB. */
  maxManifestBytes?: number;
  /** Most signatures in one envelope; default 32 (each is tried against every trusted key). */
  maxSignatures?: number;
}

export interface BundleSignature {
  /** The signer's unauthenticated hint ("" when absent); never trusted, only used for order. */
  keyid: string;
  /** 64 bytes: R then S. */
  sig: Uint8Array;
}

export interface ParsedBundle {
  ok: true;
  module: Uint8Array;
  payloadType: string;
  /** The manifest exactly as signed: the decoded DSSE payload. */
  manifestBytes: Uint8Array;
  signatures: BundleSignature[];
}

export type BundleParseResult = ParsedBundle | { ok: false; reasons: Reason[] };

const BUNDLE_KEYS = ['nightcoreBundle', 'module', 'envelope'];
const ENVELOPE_KEYS = ['payloadType', 'payload', 'signatures'];
const SIGNATURE_KEYS = ['keyid', 'sig'];
const BUNDLE_MAX_DEPTH = 8;

/** Longest standard padded base64 text for `bytes` bytes. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** The largest bundle file the limits allow (module + manifest as base64, signatures, slack). */
export function maxBundleBytes(limits: BundleLimits = {}): number {
  const l = resolveLimits(limits);
  return (
    base64Length(l.maxModuleBytes) + base64Length(l.maxManifestBytes) + l.maxSignatures * 512 + 4096
  );
}

/** Parses a bundle file strictly, reporting every problem found (see docs for the codes). */
export function parseBundle(bytes: Uint8Array, limits: BundleLimits = {}): BundleParseResult {
  const parsed = parseBundleText(bytes, limits);
  if (!parsed.ok) return parsed;
  const { moduleBase64: _m, payloadBase64: _p, ...bundle } = parsed;
  return bundle;
}

/** A parsed bundle with its base64 text as written, so addSignature can keep it byte for byte. */
export interface ParsedBundleText extends ParsedBundle {
  moduleBase64: string;
  payloadBase64: string;
}

export function parseBundleText(
  bytes: Uint8Array,
  limits: BundleLimits
): ParsedBundleText | { ok: false; reasons: Reason[] } {
  const l = resolveLimits(limits);
  const reasons: Reason[] = [];
  const failed = (code: ReasonCode, message: string) => ({
    ok: false as const,
    reasons: [reason(code, message)]
  });
  if (!(bytes instanceof Uint8Array)) return failed('bundle.type', 'The bundle is not bytes.');
  const maxBytes = maxBundleBytes(l);
  if (bytes.length > maxBytes) {
    return failed(
      'bundle.too-large',
      `The bundle is ${bytes.length} bytes, over the ${maxBytes}-byte limit for a ${l.maxModuleBytes}-byte module.`
    );
  }
  const json = parseJsonBytes(bytes, { maxDepth: BUNDLE_MAX_DEPTH });
  if (!json.ok) {
    const where = `${json.message} (at byte ${json.offset})`;
    if (json.kind === 'duplicate-key') {
      return failed('bundle.duplicate-key', `The bundle repeats a key: ${where}.`);
    }
    if (json.kind === 'encoding')
      return failed('bundle.encoding', `The bundle is not UTF-8 JSON: ${where}.`);
    return failed('bundle.json', `The bundle is not valid JSON: ${where}.`);
  }
  const root = json.value;
  if (!isJsonObject(root))
    return failed('bundle.type', `The bundle must be a JSON object, not ${jsonKindOf(root)}.`);
  if (!Object.hasOwn(root, 'nightcoreBundle')) {
    return failed(
      'bundle.missing',
      'This is not a Night Core bundle: the "nightcoreBundle" field is missing.'
    );
  }
  if (root.nightcoreBundle !== BUNDLE_VERSION) {
    return failed(
      'bundle.version',
      `This bundle is format version ${describe(root.nightcoreBundle)}; this version of Night Core reads version ${BUNDLE_VERSION}.`
    );
  }
  const missing: string[] = [];
  checkUnknown(root, BUNDLE_KEYS, 'bundle', 'the bundle', reasons);

  // module: size from the base64 length first, then a strict decode.
  let module: Uint8Array | null = null;
  const moduleText = field(
    root,
    'module',
    'a base64 string',
    isJsonString,
    'bundle',
    missing,
    reasons
  );
  if (moduleText !== null) {
    if (moduleText.length > base64Length(l.maxModuleBytes)) {
      const atLeast = Math.floor((moduleText.length * 3) / 4) - 2;
      reasons.push(tooLarge(`over ${atLeast}`, l.maxModuleBytes));
    } else {
      module = decode(moduleText, 'module.base64', 'The module', reasons);
      if (module !== null && module.length > l.maxModuleBytes) {
        reasons.push(tooLarge(`${module.length}`, l.maxModuleBytes));
        module = null;
      }
    }
  }

  const envelope = field(root, 'envelope', 'an object', isJsonObject, 'bundle', missing, reasons);
  if (missing.length > 0) {
    reasons.push(reason('bundle.missing', `The bundle is missing: ${missing.join(', ')}.`));
  }
  const env = envelope === null ? null : parseEnvelope(envelope, l, reasons);
  if (reasons.length > 0 || module === null || moduleText === null || env === null) {
    return { ok: false, reasons };
  }
  return { ok: true, module, moduleBase64: moduleText, ...env };
}

function parseEnvelope(
  envelope: JsonObject,
  l: Required<BundleLimits>,
  reasons: Reason[]
): Omit<ParsedBundleText, 'ok' | 'module' | 'moduleBase64'> | null {
  const missing: string[] = [];
  checkUnknown(envelope, ENVELOPE_KEYS, 'envelope', 'the envelope', reasons);
  const payloadType = field(
    envelope,
    'payloadType',
    'a string',
    isJsonString,
    'envelope',
    missing,
    reasons
  );
  if (payloadType !== null && payloadType !== MANIFEST_PAYLOAD_TYPE) {
    reasons.push(
      reason(
        'envelope.payload-type',
        `The envelope's payloadType is ${JSON.stringify(payloadType.slice(0, 100))}; a bundle's must be exactly "${MANIFEST_PAYLOAD_TYPE}".`
      )
    );
  }
  let manifestBytes: Uint8Array | null = null;
  const payload = field(
    envelope,
    'payload',
    'a base64 string',
    isJsonString,
    'envelope',
    missing,
    reasons
  );
  if (payload !== null) {
    if (payload.length > base64Length(l.maxManifestBytes)) {
      reasons.push(
        reason(
          'envelope.too-large',
          `The manifest payload is over the ${l.maxManifestBytes}-byte limit.`
        )
      );
    } else {
      manifestBytes = decode(payload, 'envelope.base64', 'The envelope payload', reasons);
      if (manifestBytes !== null && manifestBytes.length > l.maxManifestBytes) {
        reasons.push(
          reason(
            'envelope.too-large',
            `The manifest payload is over the ${l.maxManifestBytes}-byte limit.`
          )
        );
        manifestBytes = null;
      }
    }
  }
  const list = field(envelope, 'signatures', 'an array', isJsonArray, 'envelope', missing, reasons);
  if (missing.length > 0) {
    reasons.push(reason('envelope.missing', `The envelope is missing: ${missing.join(', ')}.`));
  }
  const signatures: BundleSignature[] = [];
  if (list !== null) {
    if (list.length === 0) {
      reasons.push(reason('envelope.no-signatures', 'The envelope has no signatures.'));
    } else if (list.length > l.maxSignatures) {
      reasons.push(
        reason(
          'envelope.too-many-signatures',
          `The envelope has ${list.length} signatures, over the limit of ${l.maxSignatures}.`
        )
      );
    } else {
      list.forEach((item, index) => {
        const sig = parseSignature(item, index, reasons);
        if (sig !== null) signatures.push(sig);
      });
    }
  }
  if (payloadType === null || payload === null || manifestBytes === null) return null;
  return { payloadType, payloadBase64: payload, manifestBytes, signatures };
}

function parseSignature(item: JsonValue, index: number, reasons: Reason[]): BundleSignature | null {
  const name = `signatures[${index}]`;
  if (!isJsonObject(item)) {
    reasons.push(
      reason('envelope.type', `The envelope's ${name} must be an object, not ${jsonKindOf(item)}.`)
    );
    return null;
  }
  checkUnknown(item, SIGNATURE_KEYS, 'envelope', `the envelope's ${name}`, reasons);
  const missing: string[] = [];
  // keyid is optional in DSSE; absent means "no hint".
  const keyid = Object.hasOwn(item, 'keyid')
    ? field(item, 'keyid', 'a string', isJsonString, 'envelope', missing, reasons, `${name}.`)
    : '';
  if (keyid !== null && keyid.length > MAX_KEYID_LENGTH) {
    reasons.push(
      reason('envelope.keyid', `The ${name}.keyid is longer than ${MAX_KEYID_LENGTH} characters.`)
    );
  }
  const sigText = field(
    item,
    'sig',
    'a base64 string',
    isJsonString,
    'envelope',
    missing,
    reasons,
    `${name}.`
  );
  if (missing.length > 0) {
    reasons.push(
      reason('envelope.missing', `The envelope's ${name} is missing: ${missing.join(', ')}.`)
    );
  }
  if (sigText === null) return null;
  if (sigText.length > base64Length(SIGNATURE_LENGTH) * 2) {
    reasons.push(
      reason('signature.length', `The ${name}.sig is far longer than ${SIGNATURE_LENGTH} bytes.`)
    );
    return null;
  }
  const sig = decode(sigText, 'signature.base64', `The ${name}.sig`, reasons);
  if (sig === null) return null;
  if (sig.length !== SIGNATURE_LENGTH) {
    reasons.push(
      reason(
        'signature.length',
        `The ${name}.sig is ${sig.length} bytes; an Ed25519 signature is ${SIGNATURE_LENGTH}.`
      )
    );
    return null;
  }
  return keyid === null || keyid.length > MAX_KEYID_LENGTH ? null : { keyid, sig };
}

/**
 * DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(payload) SP payload,
 * lengths as decimal byte counts (the type is encoded as UTF-8 first).
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  const header = utf8(`DSSEv1 ${type.length} `);
  return concatBytes(header, type, utf8(` ${payload.length} `), payload);
}

// ---------------------------------------------------------------------------------------------

function tooLarge(size: string, max: number): Reason {
  return reason('module.too-large', `The module is ${size} bytes, over the ${max}-byte limit.`);
}

function resolveLimits(limits: BundleLimits): Required<BundleLimits> {
  const pick = (value: number | undefined, fallback: number): number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fallback;
  return {
    maxModuleBytes: pick(limits.maxModuleBytes, DEFAULT_MAX_MODULE_BYTES),
    maxManifestBytes: pick(limits.maxManifestBytes, MAX_MANIFEST_BYTES),
    maxSignatures: pick(limits.maxSignatures, DEFAULT_MAX_SIGNATURES)
  };
}

function field<T extends JsonValue>(
  object: JsonObject,
  key: string,
  want: string,
  is: (value: JsonValue) => value is T,
  area: 'bundle' | 'envelope',
  missing: string[],
  reasons: Reason[],
  prefix = ''
): T | null {
  if (!Object.hasOwn(object, key)) {
    missing.push(prefix + key);
    return null;
  }
  const value = object[key]!;
  if (is(value)) return value;
  const where = area === 'bundle' ? 'The bundle field' : "The envelope's field";
  reasons.push(
    reason(`${area}.type`, `${where} "${prefix}${key}" must be ${want}, not ${jsonKindOf(value)}.`)
  );
  return null;
}

function checkUnknown(
  object: JsonObject,
  known: readonly string[],
  area: 'bundle' | 'envelope',
  what: string,
  reasons: Reason[]
): void {
  const unknown = Object.keys(object).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const list = unknown
    .slice(0, 10)
    .map((k) => JSON.stringify(k.slice(0, 64)))
    .join(', ');
  reasons.push(
    reason(
      `${area}.unknown-field`,
      `Unknown field${unknown.length > 1 ? 's' : ''} in ${what}: ${list}.`
    )
  );
}

function decode(
  text: string,
  code: ReasonCode,
  what: string,
  reasons: Reason[]
): Uint8Array | null {
  try {
    return fromBase64(text);
  } catch (error) {
    const detail =
      error instanceof DecodeError ? error.message.replace(/^base64: /, '') : 'not base64';
    reasons.push(reason(code, `${what} is not valid: ${detail}.`));
    return null;
  }
}

function describe(value: JsonValue | undefined): string {
  return typeof value === 'number'
    ? String(value)
    : `${jsonKindOf(value)} ${JSON.stringify(value)?.slice(0, 40) ?? ''}`;
}
