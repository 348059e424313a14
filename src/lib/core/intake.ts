/**
 * Turning what a user hands over (pasted text, picked files) into verify() inputs. Pure: the
 * browser reads the files, this decides what they are and which belong together.
 */
import { fromBase64 } from './bytes';
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
