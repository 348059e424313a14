import { parseSignedReceipt, verifyReceipt, type Receipt } from '$lib/core/receipt';
import { parseArgs } from 'node:util';
import type { CliIO } from '../main';
import { UsageError, readInput } from '../io';
import { terminalSafe } from '../terminal';
import { readDeviceKey, readText } from './audit';

export const RECEIPT_USAGE = `Usage:
  nightcore receipt verify RECEIPT.json --key DEVICE.vkey [--stdout FILE] [--stderr FILE]
  nightcore receipt show RECEIPT.json

verify  checks a run receipt downloaded from the Runs page: the exact file Night Core wrote, and
        its Ed25519 signature by the device key (over "nightcore.receipt/v1\\n" + the receipt).
  --key FILE     the device's public key, as downloaded from Settings: the signed-note verifier
                 key (name+hash+key) or raw base64/hex. Required: a receipt proves nothing about
                 its origin without the key you trust.
  --stdout FILE  also check that FILE is the run's standard output (size and SHA-256)
  --stderr FILE  also check that FILE is the run's standard error
show    prints what a receipt says, without verifying it.
Exit status: 0 verified (show: readable), 1 rejected (every reason on stderr), 2 usage error.`;

export async function receiptCommand(argv: string[], io: CliIO): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(`${RECEIPT_USAGE}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'verify' && action !== 'show') {
    throw new UsageError(`unknown receipt action "${action}": use verify or show`);
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options:
      action === 'verify'
        ? { key: { type: 'string' }, stdout: { type: 'string' }, stderr: { type: 'string' } }
        : {},
    strict: true,
    allowPositionals: true
  });
  const [path, ...extra] = positionals;
  if (!path || extra.length > 0) {
    throw new UsageError(`receipt ${action} takes exactly one RECEIPT.json`);
  }
  if (action === 'show') {
    const text = await readText(path);
    const parsed = parseSignedReceipt(text);
    if (!parsed.ok) {
      io.err(`unreadable: ${parsed.reason.code}: ${terminalSafe(parsed.reason.message)}\n`);
      return 1;
    }
    io.out(summary(parsed.signed.receipt, parsed.signed.keyId));
    io.out('(not verified: run "nightcore receipt verify … --key DEVICE.vkey")\n');
    return 0;
  }
  const opts = values as { key?: string; stdout?: string; stderr?: string };
  if (opts.key === undefined) {
    throw new UsageError('receipt verify needs --key DEVICE.vkey (the device public key)');
  }
  const publicKey = await readDeviceKey(opts.key);
  const text = await readText(path);
  const outputs: { stdout?: Uint8Array; stderr?: Uint8Array } = {};
  if (opts.stdout !== undefined) outputs.stdout = await readInput(opts.stdout);
  if (opts.stderr !== undefined) outputs.stderr = await readInput(opts.stderr);
  const result = verifyReceipt(text, publicKey, outputs);
  if (!result.ok) {
    io.err(`rejected: ${result.reasons.length} problem${result.reasons.length === 1 ? '' : 's'}\n`);
    for (const r of result.reasons) io.err(`  ${r.code}: ${terminalSafe(r.message)}\n`);
    return 1;
  }
  const receipt = result.receipt!;
  io.out(
    `verified: run ${terminalSafe(receipt.runId)} of ${label(receipt)} ` +
      `${receipt.outcome.status}${receipt.outcome.exitCode === null ? '' : ` (exit ${receipt.outcome.exitCode})`}, ` +
      `signed by device key ${receipt.device.keyId.slice(0, 16)}…\n`
  );
  if (outputs.stdout) io.out('  stdout matches the receipt\n');
  if (outputs.stderr) io.out('  stderr matches the receipt\n');
  return 0;
}

function label(r: Receipt): string {
  const name = r.name === null ? '(unnamed)' : terminalSafe(r.name);
  return r.version === null ? name : `${name} ${terminalSafe(r.version)}`;
}

function summary(r: Receipt, keyId: string): string {
  const o = r.outcome;
  const approval =
    r.approval.by === 'human'
      ? `human (${r.approval.action}, ${iso(r.approval.decidedAt)}, device key ${r.approval.deviceKeyId.slice(0, 16)}…)`
      : `policy${r.approval.policyVersion === undefined ? '' : ` v${r.approval.policyVersion}`} (auto-approved)`;
  const limits = Object.entries(r.limits)
    .map(([k, v]) => `${terminalSafe(k)}=${v}`)
    .join(', ');
  const lines = [
    `run ${terminalSafe(r.runId)} (request ${terminalSafe(r.requestId)})`,
    `  module        ${label(r)}`,
    `  sha256        ${r.module.sha256}${r.module.size === null ? '' : ` (${r.module.size} bytes)`}`,
    `  ran as        ${r.module.runSha256 ?? 'the same bytes (no memory rewrite)'}`,
    `  manifest      ${r.manifestSha256 ?? '(none)'}`,
    `  approval      ${approval}`,
    `  limits        ${limits || '(none)'}`,
    `  capabilities  ${r.capabilities.length ? r.capabilities.join(', ') : '(none)'}`,
    `  outcome       ${o.status}${o.exitCode === null ? '' : `, exit ${o.exitCode}`}` +
      `${o.truncated ? ', output truncated' : ''}`,
    ...(o.message === null ? [] : [`  message       ${terminalSafe(o.message)}`]),
    `  duration      ${o.durationMs === null ? '-' : `${o.durationMs} ms`}` +
      `${o.peakMemoryBytes === null ? '' : `, peak memory ${o.peakMemoryBytes} bytes`}`,
    `  stdout        ${o.stdoutBytes} bytes, sha256 ${r.output.stdoutSha256}`,
    `  stderr        ${o.stderrBytes} bytes, sha256 ${r.output.stderrSha256}`,
    `  started       ${iso(r.startedAt)}`,
    `  ended         ${iso(r.endedAt)}`,
    `  device key    ${keyId}`
  ];
  return `${lines.join('\n')}\n`;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
