/**
 * Strict reading of a run receipt object (format v1): exactly the fields of the format, every
 * value of its kind and size. Also validates what buildReceipt makes. Throws ReceiptFieldError
 * (caught by receipt.ts, which never throws to its callers).
 */
import { fromBase64, DecodeError } from './bytes';
import type { JsonValue } from './json';
import { isCapabilityGroup } from './wasm/capabilities';
import { isCount, isHashHex } from './audit/digest';
import { reason, type Reason } from './verdict';
import {
  MAX_RECEIPT_MESSAGE,
  RECEIPT_STATUSES,
  RECEIPT_TYPE,
  type Receipt,
  type ReceiptApproval,
  type ReceiptStatus
} from './receipt-format';

const MAX_TEXT = 4 * 1024;
const MAX_ID = 256;
const MAX_LIMITS = 32;
const MAX_CAPABILITIES = 32;

export class Bad extends Error {}

export function bad(code: `receipt.${string}`, message: string): { ok: false; reason: Reason } {
  return { ok: false, reason: reason(code, message) };
}

function fail(path: string, what: string): never {
  throw new Bad(`${path}: ${what}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(
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

export function hash(value: unknown, path: string): string {
  if (!isHashHex(value)) fail(path, 'not 64 lowercase hex digits');
  return value;
}

function count(value: unknown, path: string): number {
  if (!isCount(value)) fail(path, 'not a non-negative whole number');
  return value;
}

export function base64Signature(value: unknown, path: string): string {
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
export function readReceipt(value: JsonValue): Receipt {
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
export function wellFormed(value: string): string {
  return value.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD'
  );
}

/** The first `max` UTF-16 units of a string, without splitting a surrogate pair. */
export function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
