/**
 * Run receipt format v1: its constants and types (the contract is docs/runtime.md, "Run
 * receipts"). Building, signing and verifying are in receipt.ts; strict reading in receipt-read.ts.
 */
export const RECEIPT_TYPE = 'nightcore.receipt/v1';
/** What the signature covers comes after this tag (the domain separator). */
export const RECEIPT_DOMAIN = `${RECEIPT_TYPE}\n`;
/** The longest receipt file read (UTF-16 code units). */
export const MAX_RECEIPT_LENGTH = 256 * 1024;
/** The longest outcome message kept in a receipt (longer ones are cut by buildReceipt). */
export const MAX_RECEIPT_MESSAGE = 8 * 1024;

/** How a run ended (the statuses a receipt can carry: never queued or running). */
export const RECEIPT_STATUSES = [
  'exited',
  'trapped',
  'timeout',
  'memory-cap',
  'output-cap',
  'killed',
  'interrupted',
  'refused'
] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** A human approved (signed decision) or the policy auto-approved. */
export type ReceiptApproval =
  | {
      by: 'human';
      action: 'approve' | 'pin';
      decidedAt: number;
      /** The key that signed the decision (lowercase hex SHA-256 of its public key). */
      deviceKeyId: string;
      /** The decision's Ed25519 signature (base64), as stored with the request. */
      signature: string;
      /**
       * The signed decision statement (canonical JSON, `nightcore.decision/v1`), so the approval
       * itself can be checked: same device key, same module and manifest digests as the receipt.
       */
      statement: string;
    }
  | { by: 'policy'; policyVersion?: number };

export interface Receipt {
  type: typeof RECEIPT_TYPE;
  runId: string;
  requestId: string;
  name: string | null;
  version: string | null;
  module: {
    sha256: string;
    size: number | null;
    /** SHA-256 of the bytes compiled after the memory rewrite, or null when they are the same. */
    runSha256: string | null;
  };
  manifestSha256: string | null;
  approval: ReceiptApproval;
  limits: Record<string, number>;
  capabilities: string[];
  outcome: {
    status: ReceiptStatus;
    exitCode: number | null;
    message: string | null;
    durationMs: number | null;
    peakMemoryBytes: number | null;
    stdoutBytes: number;
    stderrBytes: number;
    truncated: boolean;
  };
  /** SHA-256 of the stdout and stderr bytes kept with the run (up to the output cap). */
  output: { stdoutSha256: string; stderrSha256: string };
  startedAt: number;
  endedAt: number;
  device: { keyId: string };
}

/** The file: a receipt, the device key id and its signature (base64). */
export interface SignedReceipt {
  keyId: string;
  receipt: Receipt;
  signature: string;
}

/** What buildReceipt needs: plain values the app has when a run ends. */
export interface ReceiptInput {
  runId: string;
  requestId: string;
  name: string | null;
  version: string | null;
  moduleSha256: string;
  moduleSize: number | null;
  runSha256: string | null;
  manifestSha256: string | null;
  /** The human decision (signed), or null when the policy auto-approved. */
  decision: {
    action: string;
    decidedAt: number;
    deviceKeyId: string;
    signature: string;
    statement: string;
  } | null;
  limits: Record<string, number>;
  capabilities: readonly string[];
  status: string;
  exitCode: number | null;
  message: string | null;
  /** Milliseconds, rounded to a whole number in the receipt. */
  durationMs: number | null;
  peakMemoryBytes: number | null;
  truncated: boolean;
  /** The output kept with the run: its size and SHA-256 (hashed by the caller, e.g. WebCrypto). */
  stdout: OutputDigest;
  stderr: OutputDigest;
  startedAt: number;
  endedAt: number;
  deviceKeyId: string;
}

/** The size and lowercase hex SHA-256 of one output stream. */
export interface OutputDigest {
  size: number;
  sha256: string;
}
