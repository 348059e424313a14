/**
 * What verification says about an input. Every failure is a Reason with a stable code (for
 * programs, tests and the audit log) and a human sentence (for the reviewer). Parsers and verifiers
 * return reasons; they never throw on bad input.
 */

/** Areas that reason codes start with: `bundle.base64`, `signature.untrusted`, `wasm.magic`, … */
export type ReasonArea =
  | 'input'
  | 'bundle'
  | 'envelope'
  | 'manifest'
  | 'module'
  | 'signature'
  | 'key'
  | 'minisign'
  | 'sshsig'
  | 'signify'
  | 'raw'
  | 'tenant'
  | 'wasm'
  | 'audit'
  | 'receipt'
  | 'backup';

export type ReasonCode = `${ReasonArea}.${string}`;

export interface Reason {
  code: ReasonCode;
  message: string;
}

export function reason(code: ReasonCode, message: string): Reason {
  return { code, message };
}

/** The input formats verify() recognizes. */
export type InputFormat =
  'bundle' | 'minisign' | 'sshsig' | 'signify' | 'raw-ed25519' | 'tenant' | 'unknown';

/** A public key the user pinned, as verification needs it. */
export interface TrustedKey {
  /** Canonical key id: lowercase hex SHA-256 of the raw 32-byte key. */
  id: string;
  publicKey: Uint8Array;
  label?: string;
  /**
   * SSHSIG namespace this key signs under, set only by the user's own choice for this key; when
   * absent, the verifier's namespace (default `nightcore`) is required.
   */
  sshNamespace?: string;
  /**
   * An allowed_signers line's `namespaces="…"` patterns: a restriction the key's owner wrote. The
   * required namespace must match one; it never replaces the required namespace.
   */
  sshAllowedNamespaces?: string[];
  /**
   * The 8-byte key number minisign and signify put in keys and signatures (lowercase hex of the
   * bytes in file order; minisign's own display prints them reversed), when the key was
   * imported from one of those formats. A signature naming another key number is refused.
   */
  keyNumber?: string;
}

/** What checking one detached signature (or a tenant folder's module.sig) found. */
export interface DetachedVerification {
  format: InputFormat;
  ok: boolean;
  /** Canonical ids of the trusted keys whose signatures verified. */
  signers: string[];
  /** Why it failed (empty when ok). */
  reasons: Reason[];
  /** What the reviewer should see even when it passed (e.g. an untrusted comment). */
  notes: Reason[];
  /** minisign: the trusted comment (covered by the global signature) and the untrusted one. */
  trustedComment?: string;
  untrustedComment?: string;
}

export interface DetachedOptions {
  /** SSHSIG namespace required when the key does not name its own; default `nightcore`. */
  namespace?: string;
}
