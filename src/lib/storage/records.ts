import type { AuditRecord } from '$lib/core/audit/record';
import type { CompactRange } from '$lib/core/audit/merkle';
import type { Reason } from '$lib/core/verdict';
import type { RunStatus } from '$lib/core/run-status';
import type { PolicyDecision } from '$lib/core/policy/evaluate';
import type { CapabilityGroup } from '$lib/core/wasm/capabilities';
import type { Manifest } from '$lib/core/manifest';

/**
 * The shapes stored in IndexedDB (schema v1). Fields are plain data (structured-cloneable);
 * later issues add fields through new schema versions, never by reinterpreting old ones.
 */

export type KeyTrust = 'auto' | 'review' | 'revoked';

export interface KeyRow {
  /** Canonical key id: lowercase hex SHA-256 of the raw 32-byte Ed25519 public key. */
  id: string;
  publicKey: Uint8Array;
  label: string;
  trust: KeyTrust;
  /** The format it was imported from and that format's own id (minisign key id, SSH fingerprint). */
  format: string;
  nativeId: string;
  /** Name patterns this key may sign for (core/policy/scope.ts); empty means any name. */
  scope: string[];
  /** Capabilities its modules may request; absent or null means whatever the policy allows. */
  capabilities?: CapabilityGroup[] | null;
  addedAt: number;
}

export interface PolicyRow {
  version: number;
  createdAt: number;
  /** The policy JSON document exactly as saved. */
  document: string;
}

export type RequestState =
  'pending' | 'auto-approved' | 'rejected' | 'approved' | 'denied' | 'running' | 'done';

export interface RequestRow {
  id: string;
  state: RequestState;
  createdAt: number;
  /** How it arrived: paste, file, drop, folder, zip, file-handler, share-target, url, inbox. */
  channel: string;
  /** Empty when the input never yielded module bytes (e.g. a bundle that does not parse). */
  moduleSha256: string;
  manifestSha256: string | null;
  /** What the reviewer sees; all of it came from the input, so it is shown as text only. */
  fileName: string;
  name: string | null;
  version: string | null;
  format: string;
  size: number | null;
  verdict: RequestVerdict;
  /**
   * The manifest as verified (unverified when the verdict failed), for the Review page. Optional:
   * requests stored before it was kept have none, and inputs without a manifest have null.
   */
  manifest?: Manifest | null;
  /** What the policy in force said (core/policy/evaluate.ts), at intake. */
  policy?: PolicyDecision;
  /** The tenant a tenant folder or zip named (its folder), whose policy override applies. */
  tenant?: string;
  /** The human decision, bound to the module and manifest digests and signed by the device key. */
  decision?: RequestDecision;
}

export type DecisionAction = 'approve' | 'pin' | 'deny' | 'block';

export interface RequestDecision {
  action: DecisionAction;
  decidedAt: number;
  moduleSha256: string;
  manifestSha256: string | null;
  limits: Record<string, number>;
  capabilities: string[];
  /** Canonical JSON of the fields above, and the device key's Ed25519 signature over it (base64). */
  statement: string;
  signature: string;
  deviceKeyId: string;
}

/** The verification outcome kept with a request (core/verify Verdict minus the bytes). */
export interface RequestVerdict {
  ok: boolean;
  kind: 'verified' | 'rejected' | 'unsigned' | 'untrusted';
  reasons: Reason[];
  notes: Reason[];
  signers: string[];
  /**
   * From detached signatures (requests stored before these were kept have neither): minisign's
   * trusted comment, present only when the signature verified, so it is covered by the global
   * signature; and the untrusted comment of minisign or signify, which anyone could have changed.
   * Both are shown, each as what it is.
   */
  trustedComment?: string;
  untrustedComment?: string;
}

export interface ModuleRow {
  sha256: string;
  size: number;
  /**
   * The verified bytes. The app stores a Blob: reading the row then costs the page almost nothing,
   * and a run worker reads the bytes itself (a 50 MiB Uint8Array took ~0.3-0.5 s of the page's
   * thread to read). Rows written before hold a Uint8Array; `moduleBytes` reads either.
   */
  bytes: Uint8Array | Blob;
  addedAt: number;
}

/**
 * One run of an approved request: what it was given, how it ended, how much it printed.
 *
 * Since schema v3 the output itself (`stdout`, `stderr`, `files`) lives in its own store
 * (`runOutputs`, one RunOutput per run id), so listing thousands of runs reads no output. A row read
 * from the `runs` store has none of the three; a row being written (runs-store splits it) or a row
 * of a backup file (which carries its output, as before v3) may have them.
 */
export interface RunRow {
  id: string;
  requestId: string;
  moduleSha256: string;
  startedAt: number;
  endedAt: number | null;
  /** Legacy free-text outcome (schema v1); `status` is the outcome now. */
  outcome: string | null;
  status?: RunStatus;
  name?: string | null;
  version?: string | null;
  exitCode?: number | null;
  message?: string | null;
  /** SHA-256 of the bytes compiled (after the memory rewrite), when they differ. */
  runSha256?: string | null;
  limits?: Record<string, number>;
  capabilities?: string[];
  durationMs?: number | null;
  peakMemoryBytes?: number | null;
  /** Bytes of output kept (set from v3 on; older rows had only the output itself). */
  stdoutBytes?: number;
  stderrBytes?: number;
  /** Scratch files kept (v3): lets a card say files exist without reading them. */
  filesCount?: number;
  truncated?: boolean;
  /** Absent on rows read from the store (v3): see RunOutput. */
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  refusedCalls?: Record<string, number>;
  files?: RunFile[];
  /** The run receipt (core/receipt.ts): signed JSON text, as downloaded. */
  receipt?: string;
}

export interface RunFile {
  path: string;
  bytes: Uint8Array;
}

/**
 * A run's output, in the `runOutputs` store (v3) under the run's id. Absent when the run printed
 * nothing it kept: it never ended, or storage was full at its end (its row's message says so).
 */
export interface RunOutput {
  id: string;
  stdout: Uint8Array;
  stderr: Uint8Array;
  files: RunFile[];
}

/**
 * One audit record as stored: the hash-chained record itself (core/audit/record.ts) plus the
 * Merkle compact range after appending it, so the tree root at any size is one read away.
 */
export interface AuditRow extends AuditRecord {
  range: CompactRange;
}

/** A signed checkpoint (C2SP signed note) of the audit log at one tree size. */
export interface CheckpointRow {
  size: number;
  rootHash: string;
  note: string;
  createdAt: number;
  /** When it was last exported (downloaded), or null. */
  exportedAt: number | null;
}

export interface MetaRow {
  name: string;
  value: unknown;
}
