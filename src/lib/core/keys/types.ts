/**
 * Types shared by the public-key parsers. The entry point is ../keys.ts; the files beside this one
 * each own one family of formats (ssh.ts, minisign.ts, pem.ts) and return FoundKey values, which
 * keys.ts checks (publicKeyProblem) and gives ids.
 */
import type { Reason } from '../verdict';

/** Where a public key came from. */
export type KeyFormat = 'raw' | 'minisign' | 'signify' | 'ssh' | 'allowed-signers' | 'pem-spki';

/** One Ed25519 public key, parsed, checked (canonical, not small-order) and identified. */
export interface ParsedPublicKey {
  /** Canonical key id: lowercase hex SHA-256 of the raw 32-byte key. */
  id: string;
  /** The raw 32-byte key (a copy; it never aliases the input). */
  publicKey: Uint8Array;
  format: KeyFormat;
  /**
   * The id the key's own tool shows. minisign and signify: the key number as minisign prints it
   * (uppercase hex of the little-endian u64, without leading zeros, e.g. `EE1161EEAA5C677`).
   * Every other format: the SSH fingerprint as `ssh-keygen -l` prints it (`SHA256:…`).
   */
  nativeId: string;
  /** minisign and signify: the 8-byte key number in file order, lowercase hex. */
  keyNumber?: string;
  /** The key's comment (untrusted text: show it, never act on it). */
  comment?: string;
  /** allowed_signers: the principals (identities) on the key's line. */
  principals?: string[];
  /** allowed_signers: the `namespaces="…"` option, split on commas (patterns, as written). */
  namespaces?: string[];
  /** allowed_signers: the `valid-after="…"` option, as written (YYYYMMDD[HHMM[SS]][Z]). */
  validAfter?: string;
  /** allowed_signers: the `valid-before="…"` option, as written. */
  validBefore?: string;
}

export type ParsedKeysResult =
  { ok: true; keys: ParsedPublicKey[] } | { ok: false; reason: Reason };

/** A key a format parser found, before keys.ts checks it and computes its ids. */
export interface FoundKey {
  publicKey: Uint8Array;
  format: KeyFormat;
  keyNumber?: Uint8Array;
  comment?: string;
  principals?: string[];
  namespaces?: string[];
  validAfter?: string;
  validBefore?: string;
  /** Where in the input the key was (`line 3`), for reasons about a file with several keys. */
  where?: string;
}

export type FoundKeys = { ok: true; keys: FoundKey[] } | { ok: false; reason: Reason };

/** Quotes untrusted text for a reason's sentence: JSON-escaped and cut to a readable length. */
export function quote(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Prefixes a reason's sentence with where it happened (`line 3: …`), when that is known. */
export function at(where: string | undefined, message: string): string {
  return where ? `${where}: ${message}` : message;
}

/** Throws TypeError unless `value` is a Uint8Array of `length` bytes (programmer misuse). */
export function assertBytes(value: unknown, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new TypeError(`${name} must be a Uint8Array of ${length} bytes`);
  }
  return value;
}

/** Throws TypeError unless `comment` is one line of text (a newline would forge file lines). */
export function assertOneLine(comment: unknown, name: string): string {
  if (typeof comment !== 'string' || /[\r\n]/.test(comment)) {
    throw new TypeError(`${name} must be a string without line breaks`);
  }
  return comment;
}
