/**
 * The Publish page's state: a module, a manifest form, a signing key, and the bundle made from
 * them. Private key material lives in private fields of this object only; it is never written to
 * IndexedDB or the audit log, and `forget` (Forget button, leaving the page) overwrites it.
 */
import { sha256Hex } from '$lib/core/digest';
import { publicKeyFromSecret } from '$lib/core/ed25519';
import { parsePrivateKey, canonicalKeyId, type PrivateKeyFormat } from '$lib/core/keys';
import type { Capability, Entry } from '$lib/core/manifest';
import {
  buildManifest,
  emptyManifestForm,
  type FieldError,
  type FormField,
  type ManifestForm
} from '$lib/core/manifest-form';
import { bundleInWorker, inspectInWorker } from '$lib/runtime/publish-host';
import { auditLog } from './audit-log.svelte';
import { downloadBytes } from './download';
import { keygenState } from './keygen.svelte';

export type KeySource = 'session' | 'provided';

export interface PickedModule {
  fileName: string;
  size: number;
  sha256: string;
  /** From the module's exports; null when it has neither _start nor _initialize. */
  entry: Entry | null;
  /** The capability groups its WASI imports need. */
  needs: Capability[];
  foreignImports: string[];
}

export interface SignedBundle {
  fileName: string;
  bytes: Uint8Array;
  keyId: string;
  moduleSha256: string;
  manifestSha256: string;
}

/** Bigger than any module policy lets run; the page would hold two copies plus base64. */
export const MAX_PUBLISH_MODULE_BYTES = 256 * 1024 * 1024;
const BUNDLE_TYPE = 'application/vnd.nightcore.bundle+json';

export class PublisherState {
  form = $state<ManifestForm>(emptyManifestForm());
  module = $state.raw<PickedModule | null>(null);
  moduleError = $state<string | null>(null);
  keySource = $state<KeySource>('provided');
  /** The pasted private key text: bound to the textarea, cleared by forget. */
  keyText = $state('');
  keyError = $state<string | null>(null);
  /** What the provided key is, once read: never the key itself. */
  providedKey = $state.raw<{ id: string; format: PrivateKeyFormat } | null>(null);
  errors = $state.raw<FieldError[]>([]);
  busy = $state<'reading' | 'signing' | null>(null);
  result = $state.raw<SignedBundle | null>(null);
  /** The picked file: its bytes are read in the worker, never copied here. */
  #file: Blob | null = null;
  #seed: Uint8Array | null = null;

  fieldErrors(field: FormField): FieldError[] {
    return this.errors.filter((error) => error.field === field);
  }

  async pickModule(file: File): Promise<void> {
    this.#file = null;
    this.module = null;
    this.result = null;
    this.moduleError = null;
    if (file.size > MAX_PUBLISH_MODULE_BYTES) {
      this.moduleError = `${file.name} is ${file.size} bytes; the bundle tool takes modules up to ${MAX_PUBLISH_MODULE_BYTES / 1024 / 1024} MiB.`;
      return;
    }
    this.busy = 'reading';
    try {
      // Validation and hashing grow with the module: they run in a worker.
      const facts = await inspectInWorker(file);
      if (!facts.ok) {
        const why = facts.reasons.map((r) => r.message).join(' ');
        this.moduleError = `${file.name} is not a WebAssembly module Night Core can sign: ${why}`;
        return;
      }
      this.#file = file;
      const needs = facts.needs;
      this.module = {
        fileName: file.name,
        size: facts.size,
        sha256: facts.sha256,
        entry: facts.entry,
        needs,
        foreignImports: facts.foreignImports
      };
      if (this.form.name.trim() === '') this.form.name = nameFromFile(file.name);
      this.form.capabilities = [...needs];
    } catch (error) {
      this.moduleError = `${file.name} could not be read: ${messageOf(error)}`;
    } finally {
      this.busy = null;
    }
  }

  /** Reads the pasted or chosen private key; the text is dropped once it is read. */
  async readKey(text: string): Promise<boolean> {
    this.clearProvidedKey();
    const parsed = parsePrivateKey(text);
    if (!parsed.ok) {
      this.keyError = `Not a usable private key: ${parsed.reason.message}.`;
      return false;
    }
    this.#seed = parsed.seed;
    this.providedKey = { id: await canonicalKeyId(parsed.publicKey), format: parsed.format };
    this.keyText = '';
    this.keySource = 'provided';
    return true;
  }

  async sign(): Promise<void> {
    this.result = null;
    const errors: FieldError[] = [];
    const file = this.#file;
    const module = this.module;
    if (!file || !module) {
      errors.push({ field: 'module', code: 'module.missing', message: 'Choose a .wasm module.' });
    }
    if (this.keySource === 'provided' && this.#seed === null && this.keyText.trim() !== '') {
      await this.readKey(this.keyText);
    }
    const seed = this.keySource === 'session' ? keygenState.sessionSeed() : this.#seed;
    if (!seed) {
      errors.push({
        field: null,
        code: 'key.missing',
        message:
          this.keyError ??
          (this.keySource === 'session'
            ? 'No key was made in this session (or it was forgotten): make one on the Keys page, or provide a private key.'
            : 'Provide a private key: paste it or choose the key file.')
      });
    }
    if (!file || !module || !seed) {
      this.errors = errors;
      return;
    }
    const form = { ...this.form, created: this.form.created.trim() || nowRfc3339() };
    const built = buildManifest(form, module, module.entry);
    if (!built.ok) {
      this.errors = built.errors;
      return;
    }
    this.errors = [];
    this.busy = 'signing';
    try {
      // createBundle runs in the worker: base64 and the bundle text of a big module take seconds.
      const bundle = await bundleInWorker(file, module.sha256, built.bytes, seed);
      const keyId = await canonicalKeyId(publicKeyFromSecret(seed));
      const manifestSha256 = await sha256Hex(built.bytes);
      this.result = {
        fileName: `${built.manifest.name.replace(/\//g, '_')}-${built.manifest.version}.ncb`,
        bytes: bundle,
        keyId,
        moduleSha256: module.sha256,
        manifestSha256
      };
      this.form.created = form.created;
      await auditLog.record({
        event: 'bundle.signed',
        subject: { moduleSha256: module.sha256, keyIds: [keyId] },
        details: {
          manifestSha256,
          name: built.manifest.name,
          version: built.manifest.version,
          size: module.size,
          keySource: this.keySource
        }
      });
    } catch (error) {
      this.errors = [
        { field: null, code: 'bundle.write', message: `Not signed: ${messageOf(error)}` }
      ];
    } finally {
      this.busy = null;
    }
  }

  download(): void {
    if (this.result) downloadBytes(this.result.fileName, this.result.bytes, BUNDLE_TYPE);
  }

  clearProvidedKey(): void {
    this.#seed?.fill(0);
    this.#seed = null;
    this.providedKey = null;
    this.keyError = null;
  }

  /** Drops the provided private key and its text (leaving the page does this too). */
  forget(): void {
    this.clearProvidedKey();
    this.keyText = '';
  }

  /** The Forget button: every private key in memory, this session's generated one included. */
  forgetAll(): void {
    this.forget();
    keygenState.forget();
    this.keySource = 'provided';
  }

  /** Everything, for a fresh start. */
  reset(): void {
    this.forget();
    this.#file = null;
    this.module = null;
    this.moduleError = null;
    this.result = null;
    this.errors = [];
    this.form = emptyManifestForm();
  }
}

function nameFromFile(fileName: string): string {
  const base = fileName.replace(/\.wasm$/i, '').replace(/[^A-Za-z0-9._+/-]/g, '-');
  return /^[A-Za-z0-9]/.test(base) ? base : `m${base}`;
}

function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const publisherState = new PublisherState();
