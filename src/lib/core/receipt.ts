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
import { DecodeError, fromBase64, toBase64, toHex, utf8 } from './bytes';
import { isUsablePublicKey, verifyStrict } from './ed25519';
import { parseJson, type JsonValue } from './json';
import { isCapabilityGroup } from './wasm/capabilities';
import { encodeCanonicalJson } from './audit/record';
import { isCount, isHashHex } from './audit/digest';
import { reason, type Reason } from './verdict';

export const RECEIPT_TYPE = 'nightcore.receipt/v1';
/** What the signature covers comes after this tag (the domain separator). */
export const RECEIPT_DOMAIN = `${RECEIPT_TYPE}\n`;
/** The longest receipt file read (UTF-16 code units). */
export const MAX_RECEIPT_LENGTH = 256 * 1024;
/** The longest outcome message kept in a receipt (longer ones are cut by buildReceipt). */
export const MAX_RECEIPT_MESSAGE = 8 * 1024;
const MAX_TEXT = 4 * 1024;
const MAX_ID = 256;
const MAX_LIMITS = 32;
const MAX_CAPABILITIES = 32;

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

// ---------------------------------------------------------------------------------------------
// Strict reading of the receipt object (also validates what buildReceipt makes).

class Bad extends Error {}

function bad(code: `receipt.${string}`, message: string): { ok: false; reason: Reason } {
  return { ok: false, reason: reason(code, message) };
}

function fail(path: string, what: string): never {
  throw new Bad(`${path}: ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(
  value: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = []
): Record<string, unknown> {
  if (!isObject(value)) fail(path || 'the receipt file', 'not an object');
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) {
      fail(join(path, key.slice(0, 60)), 'unknown field (format v1 has no such field)');
    }
  }
  for (const key of required) {
    if (!Object.hasOwn(value, key)) fail(join(path, key), 'missing');
  }
  return value;
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

function text(value: unknown, path: string, max = MAX_TEXT, empty = false): string {
  if (typeof value !== 'string') fail(path, 'not a string');
  if (!empty && value === '') fail(path, 'empty');
  if (value.length > max) fail(path, `longer than ${max} characters`);
  if (/[\uD800-\uDFFF]/u.test(value)) fail(path, 'a lone surrogate');
  return value;
}

function nullable<T>(value: unknown, read: (v: unknown) => T): T | null {
  return value === null ? null : read(value);
}

function hash(value: unknown, path: string): string {
  if (!isHashHex(value)) fail(path, 'not 64 lowercase hex digits');
  return value;
}

function count(value: unknown, path: string): number {
  if (!isCount(value)) fail(path, 'not a non-negative whole number');
  return value;
}

function base64Signature(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length !== 88)
    fail(path, 'not a 64-byte base64 signature');
  try {
    fromBase64(value, path);
  } catch (error) {
    fail(path, error instanceof DecodeError ? error.message : 'not base64');
  }
  return value;
}

function readApproval(value: unknown): ReceiptApproval {
  if (isObject(value) && value.by === 'policy') {
    const policy = object(value, 'receipt.approval', ['by'], ['policyVersion']);
    return Object.hasOwn(policy, 'policyVersion')
      ? {
          by: 'policy',
          policyVersion: count(policy.policyVersion, 'receipt.approval.policyVersion')
        }
      : { by: 'policy' };
  }
  if (!isObject(value) || value.by !== 'human') {
    fail('receipt.approval.by', 'not "human" or "policy"');
  }
  const human = object(value, 'receipt.approval', [
    'by',
    'action',
    'decidedAt',
    'deviceKeyId',
    'signature',
    'statement'
  ]);
  if (human.action !== 'approve' && human.action !== 'pin') {
    fail('receipt.approval.action', 'not "approve" or "pin"');
  }
  return {
    by: 'human',
    action: human.action,
    decidedAt: count(human.decidedAt, 'receipt.approval.decidedAt'),
    deviceKeyId: hash(human.deviceKeyId, 'receipt.approval.deviceKeyId'),
    signature: base64Signature(human.signature, 'receipt.approval.signature'),
    statement: text(human.statement, 'receipt.approval.statement')
  };
}

function readLimits(value: unknown): Record<string, number> {
  if (!isObject(value)) fail('receipt.limits', 'not an object');
  const keys = Object.keys(value);
  if (keys.length > MAX_LIMITS) fail('receipt.limits', `more than ${MAX_LIMITS} limits`);
  const limits: Record<string, number> = {};
  for (const key of keys) {
    if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(key)) {
      fail(`receipt.limits.${key.slice(0, 60)}`, 'not a limit name');
    }
    limits[key] = count(value[key], `receipt.limits.${key}`);
  }
  return limits;
}

function readCapabilities(value: unknown): string[] {
  if (!Array.isArray(value)) fail('receipt.capabilities', 'not an array');
  if (value.length > MAX_CAPABILITIES) {
    fail('receipt.capabilities', `more than ${MAX_CAPABILITIES} entries`);
  }
  const seen = new Set<string>();
  value.forEach((entry: unknown, i) => {
    if (!isCapabilityGroup(entry)) fail(`receipt.capabilities[${i}]`, 'not a capability');
    if (seen.has(entry)) fail(`receipt.capabilities[${i}]`, 'repeated');
    seen.add(entry);
  });
  return [...seen];
}

function readOutcome(value: unknown): Receipt['outcome'] {
  const path = 'receipt.outcome';
  const o = object(value, path, [
    'status',
    'exitCode',
    'message',
    'durationMs',
    'peakMemoryBytes',
    'stdoutBytes',
    'stderrBytes',
    'truncated'
  ]);
  if (!(RECEIPT_STATUSES as readonly unknown[]).includes(o.status)) {
    fail(`${path}.status`, `not one of ${RECEIPT_STATUSES.join(', ')}`);
  }
  if (o.exitCode !== null && !Number.isSafeInteger(o.exitCode)) {
    fail(`${path}.exitCode`, 'not a whole number or null');
  }
  if (Object.is(o.exitCode, -0)) fail(`${path}.exitCode`, '-0');
  if (typeof o.truncated !== 'boolean') fail(`${path}.truncated`, 'not true or false');
  return {
    status: o.status as ReceiptStatus,
    exitCode: o.exitCode as number | null,
    message: nullable(o.message, (v) => text(v, `${path}.message`, MAX_RECEIPT_MESSAGE, true)),
    durationMs: nullable(o.durationMs, (v) => count(v, `${path}.durationMs`)),
    peakMemoryBytes: nullable(o.peakMemoryBytes, (v) => count(v, `${path}.peakMemoryBytes`)),
    stdoutBytes: count(o.stdoutBytes, `${path}.stdoutBytes`),
    stderrBytes: count(o.stderrBytes, `${path}.stderrBytes`),
    truncated: o.truncated
  };
}

/** Validates a receipt object and returns a fresh copy (throws Bad). */
function readReceipt(value: JsonValue): Receipt {
  const r = object(value, 'receipt', [
    'type',
    'runId',
    'requestId',
    'name',
    'version',
    'module',
    'manifestSha256',
    'approval',
    'limits',
    'capabilities',
    'outcome',
    'output',
    'startedAt',
    'endedAt',
    'device'
  ]);
  if (r.type !== RECEIPT_TYPE) fail('receipt.type', `not ${RECEIPT_TYPE}`);
  const module = object(r.module, 'receipt.module', ['sha256', 'size', 'runSha256']);
  const output = object(r.output, 'receipt.output', ['stdoutSha256', 'stderrSha256']);
  const device = object(r.device, 'receipt.device', ['keyId']);
  return {
    type: RECEIPT_TYPE,
    runId: text(r.runId, 'receipt.runId', MAX_ID),
    requestId: text(r.requestId, 'receipt.requestId', MAX_ID),
    name: nullable(r.name, (v) => text(v, 'receipt.name')),
    version: nullable(r.version, (v) => text(v, 'receipt.version')),
    module: {
      sha256: hash(module.sha256, 'receipt.module.sha256'),
      size: nullable(module.size, (v) => count(v, 'receipt.module.size')),
      runSha256: nullable(module.runSha256, (v) => hash(v, 'receipt.module.runSha256'))
    },
    manifestSha256: nullable(r.manifestSha256, (v) => hash(v, 'receipt.manifestSha256')),
    approval: readApproval(r.approval),
    limits: readLimits(r.limits),
    capabilities: readCapabilities(r.capabilities),
    outcome: readOutcome(r.outcome),
    output: {
      stdoutSha256: hash(output.stdoutSha256, 'receipt.output.stdoutSha256'),
      stderrSha256: hash(output.stderrSha256, 'receipt.output.stderrSha256')
    },
    startedAt: count(r.startedAt, 'receipt.startedAt'),
    endedAt: count(r.endedAt, 'receipt.endedAt'),
    device: { keyId: hash(device.keyId, 'receipt.device.keyId') }
  };
}

/** Lone surrogates (no UTF-8 encoding) replaced by U+FFFD. */
function wellFormed(value: string): string {
  return value.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD'
  );
}

/** The first `max` UTF-16 units of a string, without splitting a surrogate pair. */
function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
