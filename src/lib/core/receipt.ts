/**
 * Run receipts (format v1; docs/runtime.md, "Run receipts", is the contract): a statement of what
 * ran and how it ended, signed by the device key, that anyone holding the device's verifier key
 * can check offline (`nightcore receipt verify`).
 *
 * The receipt is a JSON object (type "nightcore.receipt/v1") with the module and manifest hashes,
 * the approval (the human decision's signature, or "policy"), the limits and capabilities
 * granted, the outcome, SHA-256 digests of the output kept, and the run's start and end times.
 * It is encoded with the audit log's canonical JSON rules (keys sorted at every depth, safe
 * integers only, one spelling per value: core/audit/record.ts, encodeCanonicalJson).
 *
 * Signature: Ed25519 by the device key over UTF-8("nightcore.receipt/v1\n" + canonical receipt).
 * The prefix is a domain tag: a device signature over anything else (an audit checkpoint, a
 * decision statement, the same JSON without the prefix) never verifies as a receipt.
 *
 * File: the canonical JSON of {keyId, receipt, signature} followed by one newline, where keyId is
 * the device key id (lowercase hex SHA-256 of the public key) and signature is standard base64 of
 * the 64 signature bytes. The reader insists on exactly that text (anything else is
 * `receipt.noncanonical`), so one receipt has one file and every byte of it matters.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, toBase64, toHex, utf8 } from './bytes';
import { isUsablePublicKey, verifyStrict } from './ed25519';
import { parseJson, type JsonValue } from './json';
import { encodeCanonicalJson } from './audit/record';
import { reason, type Reason } from './verdict';
import {
  MAX_RECEIPT_LENGTH,
  MAX_RECEIPT_MESSAGE,
  RECEIPT_DOMAIN,
  RECEIPT_TYPE,
  type Receipt,
  type ReceiptApproval,
  type ReceiptStatus,
  type ReceiptInput,
  type SignedReceipt,
  type OutputDigest
} from './receipt-format';
import {
  Bad,
  bad,
  base64Signature,
  cut,
  hash,
  isObject,
  object,
  readReceipt,
  wellFormed
} from './receipt-read';

export * from './receipt-format';

export type ParsedReceipt = { ok: true; signed: SignedReceipt } | { ok: false; reason: Reason };

export interface ReceiptVerification {
  ok: boolean;
  /** Every reason it was rejected (empty when ok). */
  reasons: Reason[];
  /** The receipt, when the file could be read (even if rejected). */
  receipt: Receipt | null;
}

/** The run's output files, to check against the receipt's digests. */
export interface ReceiptOutputs {
  stdout?: Uint8Array;
  stderr?: Uint8Array;
}

/** Lowercase hex SHA-256. */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

/** The OutputDigest of some bytes (synchronous; fine for tests and the CLI). */
export function digestOutput(bytes: Uint8Array): OutputDigest {
  return { size: bytes.length, sha256: sha256Hex(bytes) };
}

/**
 * Builds the receipt of an ended run (pure: the same input gives the same receipt). The duration
 * is rounded, the message cut to MAX_RECEIPT_MESSAGE, limits and capabilities copied. Throws
 * TypeError when the result would not be a valid receipt (e.g. a run still running).
 */
export function buildReceipt(input: ReceiptInput): Receipt {
  const decision = input.decision;
  const approval: ReceiptApproval =
    decision === null
      ? { by: 'policy' }
      : {
          by: 'human',
          action: decision.action as 'approve',
          decidedAt: decision.decidedAt,
          deviceKeyId: decision.deviceKeyId,
          signature: decision.signature,
          statement: decision.statement
        };
  const receipt: Receipt = {
    type: RECEIPT_TYPE,
    runId: input.runId,
    requestId: input.requestId,
    name: input.name,
    version: input.version,
    module: { sha256: input.moduleSha256, size: input.moduleSize, runSha256: input.runSha256 },
    manifestSha256: input.manifestSha256,
    approval,
    limits: { ...input.limits },
    capabilities: [...input.capabilities],
    outcome: {
      status: input.status as ReceiptStatus,
      exitCode: input.exitCode,
      message: input.message === null ? null : cut(wellFormed(input.message), MAX_RECEIPT_MESSAGE),
      durationMs: input.durationMs == null ? null : Math.max(0, Math.round(input.durationMs)),
      peakMemoryBytes: input.peakMemoryBytes,
      stdoutBytes: input.stdout.size,
      stderrBytes: input.stderr.size,
      truncated: input.truncated
    },
    output: { stdoutSha256: input.stdout.sha256, stderrSha256: input.stderr.sha256 },
    startedAt: input.startedAt,
    endedAt: input.endedAt,
    device: { keyId: input.deviceKeyId }
  };
  try {
    return readReceipt(receipt as unknown as JsonValue);
  } catch (error) {
    if (error instanceof Bad) throw new TypeError(`receipt: ${error.message}`);
    throw error;
  }
}

/** The bytes the device key signs: UTF-8(RECEIPT_DOMAIN + canonical JSON of the receipt). */
export function receiptSigningBytes(receipt: Receipt): Uint8Array {
  return utf8(RECEIPT_DOMAIN + encodeCanonicalJson(receipt));
}

/** The file text of a signed receipt: its canonical JSON and a newline. */
export function formatSignedReceipt(signed: SignedReceipt): string {
  return `${encodeCanonicalJson(signed)}\n`;
}

/**
 * Signs a receipt with a device key and returns the file text. The key id must be the receipt's
 * device.keyId, and the signature is checked before it is returned (Error if it does not verify).
 */
export async function signReceipt(
  receipt: Receipt,
  signer: { publicKey: Uint8Array; sign(message: Uint8Array): Promise<Uint8Array> },
  options: {
    /**
     * Checks the signature before returning it; default: with the strict JS Ed25519 verifier.
     * The browser passes WebCrypto's verify instead (the JS verifier's first use builds tables
     * for hundreds of milliseconds on the main thread).
     */
    verify?: (
      signature: Uint8Array,
      message: Uint8Array,
      publicKey: Uint8Array
    ) => Promise<boolean>;
  } = {}
): Promise<string> {
  if (!isUsablePublicKey(signer.publicKey)) throw new TypeError('not a usable Ed25519 key');
  const keyId = sha256Hex(signer.publicKey);
  if (receipt.device.keyId !== keyId) {
    throw new TypeError(`receipt: device.keyId is not the signing key's id (${keyId})`);
  }
  const message = receiptSigningBytes(receipt);
  const signature = await signer.sign(message);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new TypeError('receipt: sign() must resolve to a 64-byte Ed25519 signature');
  }
  const verified = options.verify
    ? await options.verify(signature, message, signer.publicKey)
    : verifyStrict(signature, message, signer.publicKey);
  if (!verified) {
    throw new Error('receipt: the signature does not verify under the signing key');
  }
  const text = formatSignedReceipt({ keyId, receipt, signature: toBase64(signature) });
  const back = parseSignedReceipt(text);
  if (!back.ok) throw new TypeError(`receipt: ${back.reason.message}`);
  return text;
}

/**
 * Reads a receipt file strictly: JSON without duplicate keys, exactly the fields of format v1
 * (unknown fields refused), every value of its kind and size, and the exact canonical text.
 * Verifies nothing. Never throws.
 */
export function parseSignedReceipt(text: string): ParsedReceipt {
  if (typeof text !== 'string') return bad('receipt.malformed', 'the receipt is not text');
  if (text.length > MAX_RECEIPT_LENGTH) {
    return bad('receipt.malformed', `the receipt is over ${MAX_RECEIPT_LENGTH} characters`);
  }
  const json = parseJson(text, { maxDepth: 8 });
  if (!json.ok) {
    return bad('receipt.malformed', `not JSON: ${json.message} (at ${json.offset})`);
  }
  let signed: SignedReceipt;
  try {
    const top = object(json.value, '', ['keyId', 'receipt', 'signature']);
    if (isObject(top.receipt) && top.receipt.type !== RECEIPT_TYPE) {
      const type = top.receipt.type;
      return bad(
        'receipt.type',
        typeof type === 'string'
          ? `receipt type ${JSON.stringify(type.slice(0, 60))} is not ${RECEIPT_TYPE}`
          : `receipt.type: not ${RECEIPT_TYPE}`
      );
    }
    signed = {
      keyId: hash(top.keyId, 'keyId'),
      receipt: readReceipt(top.receipt as JsonValue),
      signature: base64Signature(top.signature, 'signature')
    };
  } catch (error) {
    if (error instanceof Bad) return bad('receipt.malformed', error.message);
    return bad('receipt.malformed', `unreadable: ${String(error)}`);
  }
  let canonical: string;
  try {
    canonical = formatSignedReceipt(signed);
  } catch (error) {
    return bad('receipt.malformed', error instanceof Error ? error.message : String(error));
  }
  if (canonical !== text) {
    return bad(
      'receipt.noncanonical',
      'the file is not the canonical text Night Core writes (one line of sorted-key JSON and a ' +
        'newline): it was reformatted or edited'
    );
  }
  return { ok: true, signed };
}

/**
 * Verifies a receipt (file text or parsed) against the device's public key, and optionally the
 * run's stdout/stderr against its digests. Every reason found is reported. Never throws.
 */
export function verifyReceipt(
  input: SignedReceipt | string,
  publicKey: Uint8Array,
  outputs: ReceiptOutputs = {}
): ReceiptVerification {
  let signed: SignedReceipt;
  if (typeof input === 'string') {
    const parsed = parseSignedReceipt(input);
    if (!parsed.ok) return { ok: false, reasons: [parsed.reason], receipt: null };
    signed = parsed.signed;
  } else {
    // A parsed receipt from elsewhere goes through the same checks as a file.
    let text: string;
    try {
      text = formatSignedReceipt(input);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reasons: [reason('receipt.malformed', message)], receipt: null };
    }
    const parsed = parseSignedReceipt(text);
    if (!parsed.ok) return { ok: false, reasons: [parsed.reason], receipt: null };
    signed = parsed.signed;
  }
  const { receipt } = signed;
  const reasons: Reason[] = [];
  if (!(publicKey instanceof Uint8Array) || !isUsablePublicKey(publicKey)) {
    reasons.push(reason('receipt.key', 'the verifier key is not a usable Ed25519 public key'));
    return { ok: false, reasons, receipt };
  }
  const keyId = sha256Hex(publicKey);
  if (signed.keyId !== keyId) {
    reasons.push(
      reason(
        'receipt.key-mismatch',
        `signed by device key ${signed.keyId.slice(0, 16)}…, not the given key ${keyId.slice(0, 16)}…`
      )
    );
  }
  if (receipt.device.keyId !== signed.keyId) {
    reasons.push(
      reason('receipt.device-mismatch', 'device.keyId in the receipt is not the signing key id')
    );
  }
  const signature = fromBase64(signed.signature, 'signature');
  if (!verifyStrict(signature, receiptSigningBytes(receipt), publicKey)) {
    reasons.push(
      reason(
        'receipt.signature',
        'the signature does not verify under the given key: the receipt was altered or forged'
      )
    );
  }
  reasons.push(...approvalProblems(receipt, publicKey, keyId));
  const streams = [
    ['stdout', outputs.stdout, receipt.outcome.stdoutBytes, receipt.output.stdoutSha256],
    ['stderr', outputs.stderr, receipt.outcome.stderrBytes, receipt.output.stderrSha256]
  ] as const;
  for (const [stream, bytes, size, digest] of streams) {
    if (bytes === undefined) continue;
    if (!(bytes instanceof Uint8Array) || sha256Hex(bytes) !== digest) {
      const length = bytes instanceof Uint8Array ? bytes.length : 0;
      reasons.push(
        reason(
          `receipt.${stream}-digest`,
          `the ${stream} given (${length} bytes) is not the ${stream} the receipt names ` +
            `(${size} bytes, SHA-256 ${digest.slice(0, 16)}…)`
        )
      );
    }
  }
  return { ok: reasons.length === 0, reasons, receipt };
}

/**
 * A human approval names the decision it rests on: the statement must be signed by the device key
 * (when it is the key given) and bind the receipt's module and manifest digests and action.
 */
function approvalProblems(receipt: Receipt, publicKey: Uint8Array, keyId: string): Reason[] {
  const approval = receipt.approval;
  if (approval.by !== 'human') return [];
  const problems: Reason[] = [];
  let statement: Record<string, unknown> | null = null;
  try {
    const value: unknown = JSON.parse(approval.statement);
    statement = isObject(value) ? value : null;
  } catch {
    statement = null;
  }
  if (
    statement === null ||
    statement.moduleSha256 !== receipt.module.sha256 ||
    statement.manifestSha256 !== receipt.manifestSha256 ||
    statement.action !== approval.action ||
    statement.requestId !== receipt.requestId
  ) {
    problems.push(
      reason(
        'receipt.approval-mismatch',
        'the approval statement does not name this module, manifest, request and action'
      )
    );
  }
  if (approval.deviceKeyId === keyId) {
    const bytes = new TextEncoder().encode(approval.statement);
    if (!verifyStrict(fromBase64(approval.signature, 'approval signature'), bytes, publicKey)) {
      problems.push(
        reason(
          'receipt.approval-signature',
          'the approval signature does not verify under the device key'
        )
      );
    }
  }
  return problems;
}
