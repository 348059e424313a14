#!/usr/bin/env node
import { runCli } from './main';
import { terminalSafe } from './terminal';

process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(terminalSafe(text)),
  err: (text) => process.stderr.write(terminalSafe(text))
});
