/**
 * The signed manifest of a bundle (docs/bundle-format.md, "Manifest"). parseManifest reads the
 * exact payload bytes with the strict JSON parser and checks every field; it reports every
 * problem it finds, each with a stable code, and never throws.
 *
 * Decisions (documented in docs/bundle-format.md):
 * - Required: `name`, `version`, `module` (with both `sha256` and `size`). Everything else is
 *   optional: `entry` defaults to "command", `args` to [], `env` to {}, `limits` to {} (each
 *   limit optional: an absent one means the policy default), `capabilities` to [].
 * - `name`: 1–128 ASCII characters from `A–Z a–z 0–9 . _ + - /`, starting with a letter or digit
 *   (no spaces, no markup, no look-alike characters: it keys the version history).
 * - Text fields (`publisher` ≤ 256, `description` ≤ 4096 characters) may not contain control
 *   characters (`description` may contain line feeds and tabs) nor bidirectional overrides.
 * - Unknown keys, at the top level or inside `module` and `limits`, are listed (as dotted paths)
 *   and ignored; they never make a manifest invalid.
 */
import {
  isJsonArray,
  isJsonObject,
  isJsonString,
  jsonKindOf,
  parseJsonBytes,
  type JsonObject,
  type JsonValue
} from './json';
import { parseSemver } from './semver';
import { CAPABILITY_GROUPS, type CapabilityGroup } from './wasm/capabilities';
import { parseRfc3339 } from './time';
import { reason, type Reason, type ReasonCode } from './verdict';

/** One list of capability groups for manifests, policy and import mapping (wasm/capabilities). */
export const CAPABILITIES = CAPABILITY_GROUPS;
export type Capability = CapabilityGroup;

export const LIMIT_NAMES = ['timeoutMs', 'memoryMiB', 'outputBytes', 'fsBytes'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
/** Requested limits; each is a positive safe integer, absent means "the policy default". */
export type ManifestLimits = { [K in LimitName]?: number };

export type Entry = 'command' | 'reactor';

export interface Manifest {
  name: string;
  version: string;
  module: { sha256: string; size: number };
  publisher: string | null;
  description: string | null;
  /** RFC 3339 text as signed, and the instant it names in epoch milliseconds. */
  created: string | null;
  createdMs: number | null;
  expires: string | null;
  expiresMs: number | null;
  entry: Entry;
  args: string[];
  /** A null-prototype object, so a key such as `__proto__` is an ordinary entry. */
  env: Record<string, string>;
  limits: ManifestLimits;
  capabilities: Capability[];
}

export type ManifestResult =
  | { ok: true; manifest: Manifest; unknownKeys: string[]; reasons: []; notes: Reason[] }
  | { ok: false; reasons: Reason[]; unknownKeys: string[]; notes: Reason[] };

export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_NAME_LENGTH = 128;
export const MAX_PUBLISHER_LENGTH = 256;
export const MAX_DESCRIPTION_LENGTH = 4096;
export const MAX_ARGS = 1024;
export const MAX_ENV = 1024;
export const MAX_ARG_LENGTH = 4096;

const KNOWN_KEYS = new Set(
  'name version module publisher description created expires entry args env limits capabilities'.split(
    ' '
  )
);
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._+/-]*$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
// Controls (C0, DEL, C1) and the bidirectional overrides and isolates of "Trojan Source".
export const FORBIDDEN_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const FORBIDDEN_DESCRIPTION = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Parses and checks manifest bytes exactly as signed (never re-serialized). */
export function parseManifest(
  bytes: Uint8Array,
  options: { maxBytes?: number } = {}
): ManifestResult {
  const r = new Reader();
  const failed = (): ManifestResult => ({
    ok: false,
    reasons: r.reasons,
    unknownKeys: r.unknownKeys,
    notes: r.notes
  });
  if (!(bytes instanceof Uint8Array)) {
    r.bad('manifest.type', 'The manifest is not a byte string.');
    return failed();
  }
  const maxBytes = options.maxBytes ?? MAX_MANIFEST_BYTES;
  if (bytes.length > maxBytes) {
    r.bad('manifest.too-large', `The manifest is ${bytes.length} bytes, over ${maxBytes}.`);
    return failed();
  }
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) {
    const code =
      parsed.kind === 'duplicate-key'
        ? 'duplicate-key'
        : parsed.kind === 'encoding'
          ? 'encoding'
          : 'json';
    r.bad(
      `manifest.${code}`,
      `The manifest is not valid JSON: ${parsed.message} (at byte ${parsed.offset}).`
    );
    return failed();
  }
  const root = parsed.value;
  if (!isJsonObject(root)) {
    r.bad('manifest.type', `The manifest must be a JSON object, not ${jsonKindOf(root)}.`);
    return failed();
  }
  for (const key of Object.keys(root)) if (!KNOWN_KEYS.has(key)) r.unknownKeys.push(key);

  const name = r.string(root, 'name', true);
  if (name !== null && (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name))) {
    r.bad(
      'manifest.name',
      `The name must be 1 to ${MAX_NAME_LENGTH} characters from A-Z a-z 0-9 . _ + - / starting with a letter or digit; found ${quote(name)}.`
    );
  }
  const version = r.string(root, 'version', true);
  if (version !== null && parseSemver(version) === null) {
    r.bad(
      'manifest.version',
      `The version must be a semantic version (semver 2.0.0, e.g. 1.4.0); found ${quote(version)}.`
    );
  }
  const module = r.module(root);
  const publisher = r.text(root, 'publisher', MAX_PUBLISHER_LENGTH, FORBIDDEN_TEXT);
  const description = r.text(root, 'description', MAX_DESCRIPTION_LENGTH, FORBIDDEN_DESCRIPTION);
  const created = r.time(root, 'created');
  const expires = r.time(root, 'expires');
  const entry = r.string(root, 'entry', false);
  if (entry !== null && entry !== 'command' && entry !== 'reactor') {
    r.bad('manifest.entry', `The entry must be "command" or "reactor"; found ${quote(entry)}.`);
  }
  const args = r.args(root);
  const env = r.env(root);
  const limits = r.limits(root);
  const capabilities = r.capabilities(root);
  if (r.missing.length > 0) {
    const s = r.missing.length > 1 ? 's' : '';
    r.bad(
      'manifest.missing',
      `The manifest is missing required field${s}: ${r.missing.join(', ')}.`
    );
  }
  if (r.unknownKeys.length > 0) {
    const list = r.unknownKeys.slice(0, 20).map(quote).join(', ');
    r.note(
      'manifest.unknown-keys',
      `The manifest has fields Night Core does not know, shown and ignored: ${list}.`
    );
  }
  if (r.reasons.length > 0 || name === null || version === null || module === null) return failed();
  if (args.length > 0 && !capabilities.includes('args')) {
    r.note(
      'manifest.args-unused',
      'The manifest gives args but does not request the "args" capability.'
    );
  }
  if (Object.keys(env).length > 0 && !capabilities.includes('env')) {
    r.note(
      'manifest.env-unused',
      'The manifest gives env but does not request the "env" capability.'
    );
  }
  const manifest: Manifest = {
    name,
    version,
    module,
    publisher,
    description,
    created: created?.text ?? null,
    createdMs: created?.ms ?? null,
    expires: expires?.text ?? null,
    expiresMs: expires?.ms ?? null,
    entry: entry === 'reactor' ? 'reactor' : 'command',
    args,
    env,
    limits,
    capabilities
  };
  return { ok: true, manifest, unknownKeys: r.unknownKeys, reasons: [], notes: r.notes };
}

/** Reads fields, collecting every problem: wrong types, missing fields, bad values. */
class Reader {
  readonly reasons: Reason[] = [];
  readonly notes: Reason[] = [];
  readonly unknownKeys: string[] = [];
  readonly missing: string[] = [];

  bad(code: ReasonCode, message: string): void {
    this.reasons.push(reason(code, message));
  }

  note(code: ReasonCode, message: string): void {
    this.notes.push(reason(code, message));
  }

  wrongType(field: string, want: string, value: JsonValue): void {
    this.bad(
      'manifest.type',
      `The manifest field "${field.slice(0, 100)}" must be ${want}, not ${jsonKindOf(value)}.`
    );
  }

  /** The value of `key` when it has the wanted type; null when absent or mistyped (reported). */
  typed<T extends JsonValue>(
    object: JsonObject,
    key: string,
    required: boolean,
    want: string,
    is: (value: JsonValue) => value is T,
    prefix = ''
  ): T | null {
    if (!Object.hasOwn(object, key)) {
      if (required) this.missing.push(prefix + key);
      return null;
    }
    const value = object[key]!;
    if (is(value)) return value;
    this.wrongType(prefix + key, want, value);
    return null;
  }

  string(object: JsonObject, key: string, required: boolean, prefix = ''): string | null {
    return this.typed(object, key, required, 'a string', isJsonString, prefix);
  }

  module(root: JsonObject): Manifest['module'] | null {
    const object = this.typed(root, 'module', true, 'an object {sha256, size}', isJsonObject);
    if (object === null) return null;
    for (const key of Object.keys(object)) {
      if (key !== 'sha256' && key !== 'size') this.unknownKeys.push(`module.${key}`);
    }
    let sha256 = this.string(object, 'sha256', true, 'module.');
    if (sha256 !== null && !SHA256_RE.test(sha256)) {
      this.bad(
        'manifest.module',
        `module.sha256 must be 64 lowercase hex digits; found ${quote(sha256)}.`
      );
      sha256 = null;
    }
    let size = this.typed(object, 'size', true, 'a number', isNumber, 'module.');
    if (size !== null && !(Number.isSafeInteger(size) && size >= 0)) {
      this.bad('manifest.module', `module.size must be a whole number of bytes; found ${size}.`);
      size = null;
    }
    return sha256 === null || size === null ? null : { sha256, size };
  }

  text(root: JsonObject, key: string, max: number, forbidden: RegExp): string | null {
    const text = this.string(root, key, false);
    if (text === null) return null;
    if (text.length > max) {
      this.bad('manifest.text', `The ${key} is ${text.length} characters, over ${max}.`);
    } else if (forbidden.test(text)) {
      this.bad(
        'manifest.text',
        `The ${key} contains control or bidirectional-override characters.`
      );
    }
    return text;
  }

  time(root: JsonObject, key: string): { text: string; ms: number } | null {
    const text = this.string(root, key, false);
    if (text === null) return null;
    const ms = parseRfc3339(text);
    if (ms !== null) return { text, ms };
    this.bad(
      'manifest.time',
      `The ${key} time must be RFC 3339 (e.g. 2025-01-31T12:00:00Z); found ${quote(text)}.`
    );
    return null;
  }

  args(root: JsonObject): string[] {
    const args = this.typed(root, 'args', false, 'an array of strings', isJsonArray);
    if (args === null) return [];
    if (!args.every(isJsonString)) {
      this.wrongType('args', 'an array of strings', args);
      return [];
    }
    if (args.length > MAX_ARGS) {
      this.bad('manifest.args', `The manifest gives ${args.length} args, over ${MAX_ARGS}.`);
    } else if (args.some((a) => a.length > MAX_ARG_LENGTH || a.includes('\0'))) {
      this.bad(
        'manifest.args',
        `Each arg must be at most ${MAX_ARG_LENGTH} characters, with no NUL.`
      );
    }
    return args;
  }

  env(root: JsonObject): Record<string, string> {
    const env = Object.create(null) as Record<string, string>;
    const object = this.typed(root, 'env', false, 'an object of strings', isJsonObject);
    if (object === null) return env;
    const entries = Object.entries(object);
    if (entries.length > MAX_ENV) {
      this.bad(
        'manifest.env',
        `The manifest gives ${entries.length} env entries, over ${MAX_ENV}.`
      );
      return env;
    }
    for (const [key, value] of entries) {
      if (typeof value !== 'string') {
        this.wrongType(`env.${key}`, 'a string', value);
      } else if (key === '' || key.includes('=') || key.includes('\0') || value.includes('\0')) {
        this.bad(
          'manifest.env',
          `The env entry ${quote(key)} is not allowed: names are non-empty, without "=" or NUL, and values have no NUL.`
        );
      } else if (key.length > MAX_ARG_LENGTH || value.length > MAX_ARG_LENGTH) {
        this.bad('manifest.env', `The env entry ${quote(key)} is longer than ${MAX_ARG_LENGTH}.`);
      } else {
        env[key] = value;
      }
    }
    return env;
  }

  limits(root: JsonObject): ManifestLimits {
    const limits: ManifestLimits = {};
    const object = this.typed(root, 'limits', false, 'an object', isJsonObject);
    if (object === null) return limits;
    for (const key of Object.keys(object)) {
      if (!(LIMIT_NAMES as readonly string[]).includes(key)) this.unknownKeys.push(`limits.${key}`);
    }
    for (const name of LIMIT_NAMES) {
      const value = this.typed(object, name, false, 'a number', isNumber, 'limits.');
      if (value === null) continue;
      if (Number.isSafeInteger(value) && value > 0) limits[name] = value;
      else
        this.bad(
          'manifest.limits',
          `limits.${name} must be a positive whole number; found ${value}.`
        );
    }
    return limits;
  }

  capabilities(root: JsonObject): Capability[] {
    const list = this.typed(root, 'capabilities', false, 'an array of strings', isJsonArray);
    if (list === null) return [];
    if (!list.every(isJsonString)) {
      this.wrongType('capabilities', 'an array of strings', list);
      return [];
    }
    const out: Capability[] = [];
    for (const item of list) {
      if (!isCapability(item)) {
        this.bad(
          'manifest.capability',
          `Unknown capability ${quote(item)}; known: ${CAPABILITIES.join(', ')}.`
        );
      } else if (out.includes(item)) {
        this.bad('manifest.capability', `The capability ${quote(item)} is listed twice.`);
      } else {
        out.push(item);
      }
    }
    return out;
  }
}

function isCapability(text: string): text is Capability {
  return (CAPABILITIES as readonly string[]).includes(text);
}

// ---------------------------------------------------------------------------------------------

function isNumber(value: JsonValue): value is number {
  return typeof value === 'number';
}

/** A value quoted for a message, cut short so a hostile manifest cannot flood the report. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
