/**
 * A manifest from form fields (the Publish page): the text a person typed becomes manifest JSON
 * bytes, which parseManifest then checks with exactly the rules a verifier applies. Every problem
 * is tied to the form field it belongs to, so the page can show it beside that field.
 */
import { utf8 } from './bytes';
import {
  LIMIT_NAMES,
  parseManifest,
  type Capability,
  type Entry,
  type LimitName,
  type Manifest
} from './manifest';
import type { Reason } from './verdict';

export interface ManifestForm {
  name: string;
  version: string;
  publisher: string;
  description: string;
  /** RFC 3339; empty = omitted. */
  created: string;
  expires: string;
  /** '' = from the module's exports. */
  entry: '' | Entry;
  /** One argument per line; blank lines are ignored. */
  args: string;
  /** One NAME=VALUE per line; blank lines are ignored. */
  env: string;
  /** Whole numbers as typed; empty = the policy default. */
  limits: Record<LimitName, string>;
  capabilities: Capability[];
}

export type FormField =
  | 'name'
  | 'version'
  | 'module'
  | 'publisher'
  | 'description'
  | 'created'
  | 'expires'
  | 'entry'
  | 'args'
  | 'env'
  | `limits.${LimitName}`
  | 'capabilities';

export interface FieldError {
  /** The field the problem belongs to; null for the manifest as a whole. */
  field: FormField | null;
  code: string;
  message: string;
}

export type ManifestFormResult =
  | { ok: true; bytes: Uint8Array; manifest: Manifest; notes: Reason[] }
  | { ok: false; errors: FieldError[] };

const TEXT_FIELDS = [
  'name',
  'version',
  'publisher',
  'description',
  'created',
  'expires',
  'args',
  'env'
] as const satisfies readonly (keyof ManifestForm & FormField)[];
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export function emptyManifestForm(): ManifestForm {
  return {
    name: '',
    version: '',
    publisher: '',
    description: '',
    created: '',
    expires: '',
    entry: '',
    args: '',
    env: '',
    limits: { timeoutMs: '', memoryMiB: '', outputBytes: '', fsBytes: '' },
    capabilities: []
  };
}

/**
 * Builds and checks the manifest. `module` is the digest and size of the bytes being signed;
 * `entry` is used when the form leaves the entry to the module (null: the module has none).
 */
export function buildManifest(
  form: ManifestForm,
  module: { sha256: string; size: number },
  defaultEntry: Entry | null
): ManifestFormResult {
  const errors: FieldError[] = [];
  const draft: Record<string, unknown> = { name: form.name.trim(), version: form.version.trim() };
  draft.module = { sha256: module.sha256, size: module.size };
  // Text fields are signed as typed (a trailing space is the publisher's business), but an
  // all-blank field is left out rather than signed as "".
  if (form.publisher.trim() !== '') draft.publisher = form.publisher;
  if (form.description.trim() !== '') draft.description = form.description;
  if (form.created.trim() !== '') draft.created = form.created.trim();
  if (form.expires.trim() !== '') draft.expires = form.expires.trim();
  const entry = form.entry || defaultEntry;
  if (entry === null) {
    errors.push({
      field: 'entry',
      code: 'manifest.entry',
      message: 'The module exports neither _start nor _initialize: choose the entry.'
    });
  } else {
    draft.entry = entry;
  }
  const args = lines(form.args);
  if (args.length > 0) draft.args = args;
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of lines(form.env)) {
    const at = line.indexOf('=');
    if (at <= 0) {
      errors.push({
        field: 'env',
        code: 'manifest.env',
        message: `Each env line is NAME=VALUE; found ${JSON.stringify(line.slice(0, 80))}.`
      });
    } else {
      env[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  if (Object.keys(env).length > 0) draft.env = { ...env };
  const limits: Record<string, number> = {};
  for (const name of LIMIT_NAMES) {
    const raw = form.limits[name].trim();
    if (raw === '') continue;
    const value = Number(raw);
    if (!/^[+-]?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value)) {
      errors.push({
        field: `limits.${name}`,
        code: 'manifest.limits',
        message: `limits.${name} must be a positive whole number; found ${JSON.stringify(raw.slice(0, 40))}.`
      });
    } else {
      limits[name] = value; // fractions and negatives: the core validator says why
    }
  }
  if (Object.keys(limits).length > 0) draft.limits = limits;
  draft.capabilities = [...form.capabilities];
  // JSON.stringify writes a lone UTF-16 surrogate as a \u escape, which the strict parser then
  // refuses for the whole document ("not valid JSON"): name the field that has it instead.
  for (const field of TEXT_FIELDS) {
    if (LONE_SURROGATE.test(form[field])) {
      errors.push({
        field,
        code: 'manifest.text',
        message: `The ${field} contains a broken character (a lone UTF-16 surrogate): retype it.`
      });
    }
  }
  if (errors.some((e) => e.code === 'manifest.text')) return { ok: false, errors };
  const bytes = utf8(`${JSON.stringify(draft, null, 2)}\n`);
  const checked = parseManifest(bytes);
  if (!checked.ok) {
    for (const reason of checked.reasons) errors.push(...toFieldErrors(reason));
  }
  if (errors.length > 0 || !checked.ok) return { ok: false, errors };
  return { ok: true, bytes, manifest: checked.manifest, notes: checked.notes };
}

/** The form field(s) a core manifest reason is about, read from its code and sentence. */
export function toFieldErrors(reason: Reason): FieldError[] {
  const { code, message } = reason;
  const one = (field: FormField | null): FieldError[] => [{ field, code, message }];
  switch (code) {
    case 'manifest.name':
    case 'manifest.version':
    case 'manifest.module':
    case 'manifest.entry':
    case 'manifest.args':
    case 'manifest.env':
      return one(code.slice('manifest.'.length) as FormField);
    case 'manifest.capability':
      return one('capabilities');
    case 'manifest.text':
      return one(/\bpublisher\b/.test(message) ? 'publisher' : 'description');
    case 'manifest.time':
      return one(/\bcreated\b/.test(message) ? 'created' : 'expires');
    case 'manifest.limits':
      return one(limitField(message));
    case 'manifest.type': {
      const field = /field "([^"]+)"/.exec(message)?.[1] ?? '';
      if (field.startsWith('limits.')) return one(limitField(field));
      if (field.startsWith('env.')) return one('env');
      return one(isFormField(field) ? field : null);
    }
    case 'manifest.missing': {
      const fields = (/fields?: (.*)\.$/.exec(message)?.[1] ?? '').split(', ').filter(isFormField);
      return fields.length > 0 ? fields.map((field) => ({ field, code, message })) : one(null);
    }
    default:
      return one(null);
  }
}

const FORM_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'version',
  'module',
  'publisher',
  'description',
  'created',
  'expires',
  'entry',
  'args',
  'env',
  'capabilities',
  ...LIMIT_NAMES.map((name) => `limits.${name}`)
]);

function isFormField(text: string): text is FormField {
  return FORM_FIELDS.has(text);
}

function limitField(text: string): FormField | null {
  const name = /limits\.(\w+)/.exec(text)?.[1] ?? '';
  const field = `limits.${name}`;
  return isFormField(field) ? field : null;
}

function lines(text: string): string[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => line.trim() !== '');
}
