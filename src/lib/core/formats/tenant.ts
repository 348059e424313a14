/**
 * The old Rust console's tenant folder (or a zip of it):
 *   module.wasm     the module
 *   module.sig      raw Ed25519 signature over module.wasm (binary, base64 or hex; see raw.ts)
 *   manifest.json   the old console's own manifest format: carried as text, never trusted
 *   pubkey.b64      base64 of a 32-byte public key: a CLAIMED key. Being in the folder proves
 *                   nothing (whoever changed module.wasm could change it too); it is shown so the
 *                   user can pin it by hand after checking it out of band.
 * Files may sit under one top-level folder (tenant-x/module.wasm); other files are listed only.
 */
import { Inflate } from 'fflate';
import { bytesEqual, DecodeError, fromBase64, fromUtf8 } from '../bytes';
import { sha256Hex } from '../digest';
import { publicKeyProblem } from '../ed25519';
import {
  reason,
  type DetachedOptions,
  type DetachedVerification,
  type Reason,
  type TrustedKey
} from '../verdict';
import { verifyRaw } from './raw';
import { detachedResult } from './common';

const MiB = 1024 * 1024;

/** Zip bomb limits: checked against what the zip declares before inflating, then enforced. */
export interface ZipLimits {
  /** Largest uncompressed entry, bytes. Default 64 MiB. */
  maxEntryBytes?: number;
  /** Largest sum of uncompressed entries, bytes. Default 256 MiB. */
  maxTotalBytes?: number;
  /** Most entries (files and folders). Default 1000. */
  maxEntries?: number;
}

export const DEFAULT_ZIP_LIMITS: Readonly<Required<ZipLimits>> = {
  maxEntryBytes: 64 * MiB,
  maxTotalBytes: 256 * MiB,
  maxEntries: 1000
};

export type UnzipResult =
  | {
      ok: true;
      files: Map<string, Uint8Array>;
      /** The one top-level folder every entry sat under (removed from `files`), or null. */
      folder: string | null;
    }
  | { ok: false; reason: Reason };

export interface TenantLayout {
  module: Uint8Array;
  signature: Uint8Array;
  manifestText: string | null;
  /** Why manifest.json could not be shown as text (it is not UTF-8), or null. */
  manifestProblem: string | null;
  claimedPublicKey: Uint8Array | null;
  claimedKeyProblem: string | null;
  /** Every file name, after the common top-level folder is removed, sorted. */
  files: string[];
}

export type TenantFilesResult = { ok: true; layout: TenantLayout } | { ok: false; reason: Reason };

export type TenantVerification = DetachedVerification & {
  claimedKeyId: string | null;
  claimedKeyTrusted: boolean;
};

/**
 * Not fflate's unzipSync: it inflates each entry into a buffer of the DECLARED size and keeps
 * decoding past its end, so an entry declaring 10 bytes that inflates to gigabytes is silently
 * truncated after costing CPU for every byte (4 s for a 300 KiB zip, measured). So the central
 * directory (what unzip, Finder and Python list) is read here, every limit is checked on it before
 * anything is inflated, and each entry is inflated in small pushes of fflate's streaming Inflate
 * that stop as soon as it produces more than it declared.
 */
const INFLATE_PUSH_BYTES = 16 * 1024; // deflate expands at most 1032:1: ~16.5 MiB per push

interface ZipEntry {
  name: string;
  method: number;
  size: number;
  data: Uint8Array;
}

class Refused {
  constructor(readonly reason: Reason) {}
}
const refuse = (code: `tenant.${string}`, message: string): never => {
  throw new Refused(reason(code, message));
};
const invalid = (why: string): never => refuse('tenant.zip-invalid', `Not a readable zip: ${why}.`);
const bomb = (code: `tenant.${string}`, what: string): never =>
  refuse(code, `${what}; refused (zip bomb?).`);

/** Why a zip entry name is unsafe, or null. Names use "/"; folders end with it. */
function unsafeName(name: string): string | null {
  if (name === '') return 'an empty name';
  if (/[\\\0]/.test(name)) return 'a backslash or NUL character';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  const parts = (name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (parts.some((part) => part === '..')) return 'a ".." segment (path traversal)';
  if (parts.some((part) => part === '' || part === '.')) return 'an empty or "." segment';
  return null;
}

function limitOf(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Reads and checks the central directory. Throws Refused; nothing is inflated yet. */
function zipEntries(zip: Uint8Array, limits: Required<ZipLimits>): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const u16 = (at: number) =>
    at + 2 <= zip.length ? view.getUint16(at, true) : invalid('cut off');
  const u32 = (at: number) =>
    at + 4 <= zip.length ? view.getUint32(at, true) : invalid('cut off');
  const lowest = Math.max(0, zip.length - 22 - 0xffff); // the EOCD comment is at most 64 KiB
  let end = zip.length - 22;
  while (end >= lowest && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < lowest) invalid('no end-of-central-directory record');
  const count = u16(end + 10);
  if (count > limits.maxEntries)
    bomb('tenant.zip-too-many-entries', `The zip has ${count} entries, over ${limits.maxEntries}`);
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0 || u16(end + 8) !== count) invalid('multi-disk zip');
  const zip64 = () =>
    refuse('tenant.zip-unsupported', 'ZIP64 is not supported (a tenant zip is far below 4 GiB).');
  let at = u32(end + 16);
  if (at === 0xffffffff || count === 0xffff) zip64();
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (u32(at) !== 0x02014b50) invalid(`central directory entry ${i} is damaged`);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const [compressed, size, local] = [u32(at + 20), u32(at + 24), u32(at + 42)];
    const nameLength = u16(at + 28);
    const nameBytes = zip.subarray(at + 46, at + 46 + nameLength);
    if (nameBytes.length !== nameLength) invalid('cut off');
    let name = '';
    try {
      name = flags & 0x800 ? fromUtf8(nameBytes) : String.fromCharCode(...nameBytes);
    } catch {
      refuse('tenant.zip-path', `Zip entry ${i} has a name that is not UTF-8; refused.`);
    }
    at += 46 + nameLength + u16(at + 30) + u16(at + 32);
    const quoted = JSON.stringify(name);
    const unsafe = unsafeName(name);
    if (unsafe) refuse('tenant.zip-path', `The zip entry ${quoted} has ${unsafe}; refused.`);
    if (seen.has(name))
      refuse('tenant.zip-duplicate', `Two zip entries are named ${quoted}; refused.`);
    seen.add(name);
    if (name.endsWith('/') || name.startsWith('__MACOSX/')) continue;
    if ([compressed, size, local].includes(0xffffffff)) zip64();
    if (flags & 1) refuse('tenant.zip-encrypted', `The zip entry ${quoted} is encrypted; refused.`);
    if (method !== 0 && method !== 8) {
      refuse(
        'tenant.zip-compression',
        `The zip entry ${quoted} uses compression method ${method}; only stored (0) and deflate (8) are read.`
      );
    }
    if (size > limits.maxEntryBytes)
      bomb(
        'tenant.zip-entry-too-large',
        `The zip entry ${quoted} declares ${size} bytes, over the ${limits.maxEntryBytes}-byte limit per entry`
      );
    total += size;
    if (total > limits.maxTotalBytes)
      bomb(
        'tenant.zip-too-large',
        `The zip's entries declare over ${limits.maxTotalBytes} bytes in total`
      );
    if (method === 0 && compressed !== size) mismatch(name, size, `${compressed}`);
    if (u32(local) !== 0x04034b50) invalid(`the local header of ${quoted} is missing`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + compressed > zip.length) invalid(`the data of ${quoted} is cut off`);
    entries.push({ name, method, size, data: zip.subarray(start, start + compressed) });
  }
  return entries;
}

function mismatch(name: string, size: number, actual: string): never {
  return refuse(
    'tenant.zip-size-mismatch',
    `The zip entry ${JSON.stringify(name)} declares ${size} bytes but holds ${actual}; refused.`
  );
}

/** Inflates one deflate entry, stopping as soon as it produces more than it declared. */
function inflateExactly({ name, size, data }: ZipEntry): Uint8Array {
  const out = new Uint8Array(size);
  let produced = 0;
  const inflater = new Inflate((chunk) => {
    if (produced + chunk.length > size) mismatch(name, size, 'more');
    out.set(chunk, produced);
    produced += chunk.length;
  });
  try {
    for (let at = 0; at === 0 || at < data.length; at += INFLATE_PUSH_BYTES) {
      inflater.push(
        data.subarray(at, at + INFLATE_PUSH_BYTES),
        at + INFLATE_PUSH_BYTES >= data.length
      );
    }
  } catch (error) {
    if (error instanceof Refused) throw error;
    invalid(`${JSON.stringify(name)} is not valid deflate data`);
  }
  if (produced !== size) mismatch(name, size, `${produced}`);
  return out;
}

/**
 * Unpacks a tenant zip. Refuses zip bombs (more entries, or larger declared sizes, than the
 * limits, before inflating; an entry inflating past its declared size is stopped at once), unsafe
 * names (absolute, "..", backslash), duplicate names, ZIP64, encryption, and methods other than
 * stored and deflate. Folder entries and macOS "__MACOSX/" metadata are skipped. Never throws.
 */
export function unzipTenant(zip: Uint8Array, limits: ZipLimits = {}): UnzipResult {
  if (!(zip instanceof Uint8Array)) {
    return { ok: false, reason: reason('input.type', 'The zip is not bytes.') };
  }
  try {
    const entries = zipEntries(zip, {
      maxEntryBytes: limitOf(limits.maxEntryBytes, DEFAULT_ZIP_LIMITS.maxEntryBytes),
      maxTotalBytes: limitOf(limits.maxTotalBytes, DEFAULT_ZIP_LIMITS.maxTotalBytes),
      maxEntries: limitOf(limits.maxEntries, DEFAULT_ZIP_LIMITS.maxEntries)
    });
    const files = new Map<string, Uint8Array>();
    for (const entry of entries) {
      files.set(entry.name, entry.method === 0 ? entry.data.slice() : inflateExactly(entry));
    }
    return { ok: true, files: stripCommonFolder(files), folder: commonFolder([...files.keys()]) };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, reason: error.reason };
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: reason('tenant.zip-invalid', `Not a readable zip (${detail}).`) };
  }
}

/** The single top-level folder every file sits under (`tenant-x` of tenant-x/module.wasm), or null. */
export function commonFolder(names: readonly string[]): string | null {
  const first = names[0]?.split('/')[0];
  const shared =
    first !== undefined &&
    names.every((name) => name.includes('/') && name.split('/')[0] === first);
  return shared ? first : null;
}

/** Removes a single top-level folder that every file sits under (tenant-x/module.wasm). */
function stripCommonFolder(files: ReadonlyMap<string, Uint8Array>): Map<string, Uint8Array> {
  const first = commonFolder([...files.keys()]);
  if (first === null) return new Map(files);
  return new Map([...files].map(([name, data]) => [name.slice(first.length + 1), data]));
}

function claimedKey(bytes: Uint8Array): { key: Uint8Array | null; problem: string | null } {
  let text: string;
  try {
    text = fromUtf8(bytes, 'pubkey.b64').replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  } catch {
    return { key: null, problem: 'pubkey.b64 is not text (expected base64 of a 32-byte key).' };
  }
  let key: Uint8Array;
  try {
    key = fromBase64(text, 'pubkey.b64');
  } catch (error) {
    const detail = error instanceof DecodeError ? error.message : 'not base64';
    return { key: null, problem: `pubkey.b64 is unusable: ${detail}.` };
  }
  const problem = publicKeyProblem(key);
  return problem ? { key: null, problem: `pubkey.b64: ${problem}.` } : { key, problem: null };
}

/** Finds the tenant files in a folder's or zip's files. module.wasm and module.sig are required. */
export function readTenantFiles(files: ReadonlyMap<string, Uint8Array>): TenantFilesResult {
  if (!(files instanceof Map)) {
    return { ok: false, reason: reason('input.type', 'The tenant files are not a Map.') };
  }
  const root = stripCommonFolder(files);
  const names = [...root.keys()].sort();
  const listed = names.length ? names.slice(0, 20).join(', ') : 'no files';
  const module = root.get('module.wasm');
  const signature = root.get('module.sig');
  if (!(module instanceof Uint8Array)) {
    return {
      ok: false,
      reason: reason(
        'tenant.module-missing',
        `Not a tenant folder: there is no module.wasm${signature ? '' : ' (nor module.sig)'} at ` +
          `its top level (found: ${listed}).`
      )
    };
  }
  if (!(signature instanceof Uint8Array)) {
    return {
      ok: false,
      reason: reason(
        'tenant.signature-missing',
        `The tenant folder has module.wasm but no module.sig, so it is unsigned (found: ${listed}).`
      )
    };
  }
  let manifestText: string | null = null;
  let manifestProblem: string | null = null;
  const manifest = root.get('manifest.json');
  if (manifest instanceof Uint8Array) {
    try {
      manifestText = fromUtf8(manifest, 'manifest.json');
    } catch {
      manifestProblem = 'manifest.json is not UTF-8 text, so it cannot be shown.';
    }
  }
  const pub = root.get('pubkey.b64');
  const claimed = pub instanceof Uint8Array ? claimedKey(pub) : { key: null, problem: null };
  return {
    ok: true,
    layout: {
      module,
      signature,
      manifestText,
      manifestProblem,
      claimedPublicKey: claimed.key,
      claimedKeyProblem: claimed.problem,
      files: names
    }
  };
}

/**
 * Verifies module.sig over module.wasm against the PINNED keys only. The claimed key (pubkey.b64)
 * is reported, never trusted: a signature that verifies only under it is still refused.
 */
export async function verifyTenant(
  layout: TenantLayout,
  keys: readonly TrustedKey[],
  options: DetachedOptions = {}
): Promise<TenantVerification> {
  void options; // raw signatures have no options; the parameter keeps the verifiers uniform
  if (typeof layout !== 'object' || layout === null) {
    const bad = reason('input.type', 'The tenant layout is not an object.');
    return {
      ...detachedResult('tenant', [], [bad], []),
      claimedKeyId: null,
      claimedKeyTrusted: false
    };
  }
  const claimed = layout.claimedPublicKey;
  const claimedKeyId = claimed instanceof Uint8Array ? await sha256Hex(claimed) : null;
  const claimedKeyTrusted =
    claimed instanceof Uint8Array &&
    Array.isArray(keys) &&
    keys.some((key) => key.publicKey instanceof Uint8Array && bytesEqual(key.publicKey, claimed));
  const raw = await verifyRaw(layout.signature, layout.module, keys);
  const notes: Reason[] = [...raw.notes];
  let reasons = raw.reasons;
  if (claimed && claimedKeyId && !claimedKeyTrusted) {
    notes.push(
      reason(
        'tenant.claimed-key-untrusted',
        `pubkey.b64 claims key ${claimedKeyId}. It is not pinned, and shipping it next to the ` +
          'module proves nothing. If you can confirm with the publisher (out of band) that it is ' +
          'theirs, pin it by hand.'
      )
    );
    const underClaimed = await verifyRaw(layout.signature, layout.module, [
      { id: claimedKeyId, publicKey: claimed }
    ]);
    if (!raw.ok && underClaimed.ok) {
      reasons = [
        reason(
          'tenant.signed-by-claimed-key-only',
          `module.sig verifies only under the key in pubkey.b64 (${claimedKeyId}), which is ` +
            'not pinned. Anyone who altered module.wasm could have replaced both; pin the key ' +
            'by hand only after checking it with the publisher.'
        ),
        ...reasons.filter((r) => r.code !== 'signature.untrusted')
      ];
    }
  }
  if (layout.claimedKeyProblem) {
    notes.push(reason('tenant.claimed-key-invalid', layout.claimedKeyProblem));
  }
  if (typeof layout.manifestText === 'string') {
    notes.push(
      reason(
        'tenant.manifest-unsigned',
        "manifest.json (the old console's format) is covered by no signature: it is shown for " +
          'reference and sets no limits.'
      )
    );
  }
  if (layout.manifestProblem)
    notes.push(reason('tenant.manifest-unreadable', layout.manifestProblem));
  return {
    ...raw,
    format: 'tenant',
    ok: raw.ok && reasons.length === 0,
    reasons,
    notes,
    claimedKeyId,
    claimedKeyTrusted
  };
}
