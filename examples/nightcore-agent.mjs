#!/usr/bin/env node
// An agent's side of Night Core's watched folder (docs/agents.md), in plain Node (18+, no
// dependencies): sign a module into a bundle, drop it into <folder>/inbox/ (written under a
// temporary name, then renamed, so Night Core never reads half a file), wait for
// <folder>/outbox/<name>.result.json to say it is final, print what the module printed, save the
// signed run receipt, and exit with the module's exit code.
//
//   node examples/nightcore-agent.mjs <folder> <module.wasm> --key <alice.key>
//        [--version 1.0.0] [--stdin <file>] [--timeout <seconds>] [--nightcore <path to CLI>]
//        [-- <extra nightcore sign options>]
//
// Exit codes: the module's own exit code when it ran and exited; 64 bad usage; 65 rejected,
// denied or refused by Night Core; 66 it ran but did not exit (trap, timeout, a cap, killed);
// 67 no final result before the timeout.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync
} from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function usage(message) {
  console.error(`nightcore-agent: ${message}`);
  console.error(
    'usage: nightcore-agent.mjs <folder> <module.wasm> --key <file> [--version V] [--stdin FILE] [--timeout S] [--nightcore CLI] [-- sign options]'
  );
  process.exit(64);
}

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const extra = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const args = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const options = {
  version: '1.0.0',
  timeout: '120',
  nightcore: process.env.NIGHTCORE_CLI ?? 'nightcore'
};
const positional = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg.startsWith('--')) {
    const value = args[++i];
    if (value === undefined) usage(`${arg} needs a value`);
    options[arg.slice(2)] = value;
  } else positional.push(arg);
}
const [folder, module] = positional;
if (!folder || !module || !options.key) usage('a folder, a module and --key are required');
const seconds = Number(options.timeout);
if (!Number.isFinite(seconds) || seconds <= 0) usage('--timeout must be a positive number');

// 1. Sign: the CLI is a Node script or an executable on PATH.
const name = `${basename(module).replace(/\.wasm$/i, '')}.ncb`;
const inbox = join(folder, 'inbox');
mkdirSync(inbox, { recursive: true });
const temporary = join(inbox, `.${name}.part`);
const cli = options.nightcore.endsWith('.js')
  ? [process.execPath, options.nightcore]
  : [options.nightcore];
const signed = spawnSync(
  cli[0],
  [
    ...cli.slice(1),
    'sign',
    module,
    '--key',
    options.key,
    '--version',
    options.version,
    ...extra,
    '--out',
    temporary
  ],
  { encoding: 'utf8' }
);
if (signed.status !== 0) usage(`signing failed: ${signed.stderr || signed.error?.message}`);

// 2. Drop: stdin first (a companion waits for its bundle), then the bundle by rename.
if (options.stdin) copyFileSync(options.stdin, join(inbox, `${name}.stdin`));
renameSync(temporary, join(inbox, name));
console.error(`nightcore-agent: dropped inbox/${name}`);

// 3. Wait for the final result.
const resultPath = join(folder, 'outbox', `${name}.result.json`);
const deadline = Date.now() + seconds * 1000;
let said = '';
let result = null;
while (Date.now() < deadline) {
  if (existsSync(resultPath)) {
    try {
      result = JSON.parse(readFileSync(resultPath, 'utf8'));
    } catch {
      result = null; // replaced while we read: read again
    }
    if (result && result.status !== said) {
      said = result.status;
      console.error(`nightcore-agent: ${result.status}: ${result.message}`);
    }
    if (result?.final) break;
  }
  await sleep(500);
}
if (!result?.final) {
  console.error(`nightcore-agent: no final result within ${seconds} s`);
  process.exit(67);
}

// 4. Report: the module's output, the receipt, the exit code.
if (result.run) {
  process.stdout.write(result.run.stdout);
  process.stderr.write(result.run.stderr);
  if (result.run.truncated) console.error('nightcore-agent: output was cut at the cap');
}
if (result.receiptText) {
  const receipt = join(folder, 'outbox', `${name}.receipt.json`);
  writeFileSync(receipt, result.receiptText);
  console.error(`nightcore-agent: receipt saved to ${receipt}`);
}
if (result.status !== 'done') {
  for (const reason of result.verdict?.reasons ?? [])
    console.error(`  ${reason.code}: ${reason.message}`);
  for (const rule of result.decision?.rules ?? []) console.error(`  ${rule.code}: ${rule.message}`);
  process.exit(65);
}
if (result.run.status !== 'exited') process.exit(66);
process.exit(result.run.exitCode ?? 0);
