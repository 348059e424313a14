/**
 * Turning what a user hands over (pasted text, picked files) into verify() inputs. Pure: the
 * browser reads the files, this decides what they are and which belong together.
 */
import { fromBase64, fromBase64Url } from './bytes';
import { detectInput } from './detect-input';
import type { Verdict, VerifyInput } from './verify';

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export interface IntakeItem {
  /** What to show as the request's file name. */
  fileName: string;
  input: VerifyInput;
}

export type PasteResult = { ok: true; item: IntakeItem } | { ok: false; message: string };

const SIGNATURE_SUFFIXES = ['.minisig', '.sig', '.sshsig', '.ed25519'];

/** Pasted text: bundle JSON as is, or the base64 of a bundle or of a raw module. */
export function decodePaste(text: string): PasteResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, message: 'Nothing to import: the text is empty.' };
  const encoder = new TextEncoder();
  if (trimmed.startsWith('{')) {
    return {
      ok: true,
      item: { fileName: 'pasted bundle', input: { kind: 'bundle', bytes: encoder.encode(trimmed) } }
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(trimmed.replace(/\s+/g, ''), 'pasted text');
  } catch {
    return {
      ok: false,
      message: 'The pasted text is neither bundle JSON (starting with "{") nor standard base64.'
    };
  }
  const kind = detectInput(bytes);
  if (kind === 'bundle')
    return { ok: true, item: { fileName: 'pasted bundle', input: { kind: 'bundle', bytes } } };
  if (kind === 'wasm') {
    return {
      ok: true,
      item: {
        fileName: 'pasted module',
        input: { kind: 'unsigned', module: bytes, name: 'pasted module' }
      }
    };
  }
  return {
    ok: false,
    message: 'The pasted base64 decodes to neither a bundle nor a WebAssembly module.'
  };
}

/** The longest `#import=` fragment taken (64 KiB): links are for small bundles. */
export const MAX_IMPORT_FRAGMENT = 64 * 1024;

/** Why the share-target service worker refused a share (it redirects with one of these). */
export const SHARE_REFUSALS = {
  empty: 'Nothing was shared: no files arrived.',
  'too-many': 'Too many files were shared at once (at most 20).',
  'too-large': 'The shared files are too large together (at most 64 MiB).',
  unreadable: 'The shared files could not be read.'
} as const;
export type ShareRefusal = keyof typeof SHARE_REFUSALS;

/**
 * What the Inbox's URL fragment asks for: a bundle carried in the link (`#import=<base64url>`),
 * files the share target stored (`#shared=<id>`), a share the service worker refused
 * (`#share-refused=<reason>`), or nothing of ours (any other fragment is left alone).
 */
export type InboxFragment =
  | { kind: 'none' }
  | { kind: 'import'; data: string }
  | { kind: 'shared'; id: string }
  | { kind: 'refused'; channel: 'url' | 'share-target'; message: string };

const SHARE_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Parses a location hash ("#…" or without the "#"). */
export function parseInboxFragment(hash: string): InboxFragment {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const eq = fragment.indexOf('=');
  if (eq < 0) return { kind: 'none' };
  const key = fragment.slice(0, eq);
  const value = fragment.slice(eq + 1);
  if (key === 'import') {
    if (fragment.length > MAX_IMPORT_FRAGMENT) {
      return {
        kind: 'refused',
        channel: 'url',
        message: `The link carries too much to import (${fragment.length} characters; at most ${MAX_IMPORT_FRAGMENT}). Pick the bundle as a file instead.`
      };
    }
    return { kind: 'import', data: value };
  }
  if (key === 'shared') {
    if (!SHARE_ID_RE.test(value)) {
      return { kind: 'refused', channel: 'share-target', message: 'The share link is not valid.' };
    }
    return { kind: 'shared', id: value };
  }
  if (key === 'share-refused') {
    const message = Object.hasOwn(SHARE_REFUSALS, value)
      ? SHARE_REFUSALS[value as ShareRefusal]
      : 'The share was refused.';
    return { kind: 'refused', channel: 'share-target', message };
  }
  return { kind: 'none' };
}

/** The bundle a link carries (`#import=` value): strict unpadded base64url of a bundle's bytes. */
export function decodeUrlImport(data: string): PasteResult {
  if (data === '') return { ok: false, message: 'The import link is empty: nothing to import.' };
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(data, 'import link');
  } catch (error) {
    return {
      ok: false,
      message: `The import link is not valid base64url (${error instanceof Error ? error.message : String(error)}).`
    };
  }
  if (detectInput(bytes) !== 'bundle') {
    return { ok: false, message: 'The import link does not carry a Night Core bundle.' };
  }
  return { ok: true, item: { fileName: 'linked bundle', input: { kind: 'bundle', bytes } } };
}

/**
 * Picked files, grouped: each .wasm with its detached signature (same name plus .minisig, .sig,
 * .sshsig or .ed25519); bundles and zips on their own. Anything else is returned as not understood.
 */
export function groupFiles(files: readonly NamedBytes[]): {
  items: IntakeItem[];
  unknown: NamedBytes[];
} {
  const items: IntakeItem[] = [];
  const unknown: NamedBytes[] = [];
  const used = new Set<NamedBytes>();
  const byName = new Map(files.map((file) => [file.name, file]));
  for (const file of files) {
    const kind = detectInput(file.bytes, file.name);
    if (kind === 'bundle')
      items.push({ fileName: file.name, input: { kind: 'bundle', bytes: file.bytes } });
    else if (kind === 'zip')
      items.push({ fileName: file.name, input: { kind: 'tenant-zip', bytes: file.bytes } });
    else if (kind === 'wasm') {
      // hello.wasm.minisig (minisign, ssh-keygen) or module.sig (the old console's layout).
      const stem = file.name.replace(/\.wasm$/i, '');
      const signature = [file.name, stem]
        .flatMap((base) => SIGNATURE_SUFFIXES.map((suffix) => byName.get(`${base}${suffix}`)))
        .find((candidate) => candidate !== undefined && candidate !== file);
      if (signature) used.add(signature);
      items.push({
        fileName: file.name,
        input: signature
          ? { kind: 'detached', module: file.bytes, signature: signature.bytes, name: file.name }
          : { kind: 'unsigned', module: file.bytes, name: file.name }
      });
    } else continue;
    used.add(file);
  }
  for (const file of files) if (!used.has(file)) unknown.push(file);
  return { items, unknown };
}

/** The one-word verdict the queue shows: verified, or why not at a glance. */
export function verdictKind(verdict: Verdict): 'verified' | 'rejected' | 'unsigned' | 'untrusted' {
  if (verdict.ok) return 'verified';
  const codes = verdict.reasons.map((r) => r.code);
  if (verdict.format === 'unsigned' || codes.includes('signature.missing')) return 'unsigned';
  // Only "no pinned key signed it" is untrusted; a revoked signer or any other reason rejects.
  if (codes.length > 0 && codes.every((c) => c === 'signature.untrusted')) return 'untrusted';
  return 'rejected';
}
