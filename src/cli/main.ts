/**
 * The `nightcore` command line: Node over src/lib/core, the same code the browser runs.
 * Each command is a function from arguments to an exit code; output goes to the given streams so
 * tests can run commands in-process.
 */
import { VERSION } from './version';
import { CliError } from './io';
import { auditCommand } from './commands/audit';
import { inspectCommand } from './commands/inspect';
import { keygen } from './commands/keygen';
import { receiptCommand } from './commands/receipt';
import { signCommand } from './commands/sign';
import { verifyCommand } from './commands/verify';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

export type CommandHandler = (args: string[], io: CliIO) => Promise<number> | number;

interface Command {
  summary: string;
  run: CommandHandler;
}

const COMMANDS: Record<string, Command> = {
  help: { summary: 'Show the commands and what they do.', run: (_args, io) => help(io) },
  keygen: {
    summary: 'Write a new Ed25519 key pair (private PEM, public in every format).',
    run: keygen
  },
  sign: {
    summary: 'Sign a module into a bundle, add a signature, or write a detached one.',
    run: signCommand
  },
  verify: {
    summary: 'Verify a bundle, a module + detached signature, or a tenant folder/zip.',
    run: verifyCommand
  },
  inspect: {
    summary: "Show a module's imports, exports, memories and manifest, unverified.",
    run: inspectCommand
  },
  audit: {
    summary: 'Verify an exported audit log, or prove one record is in it.',
    run: auditCommand
  },
  receipt: {
    summary: 'Verify a run receipt against the device key, or show what it says.',
    run: receiptCommand
  },
  version: {
    summary: 'Print the version.',
    run: (_args, io) => {
      io.out(`nightcore ${VERSION}\n`);
      return 0;
    }
  }
};

function help(io: CliIO): number {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`
  );
  io.out(`Night Core ${VERSION}: verify, inspect and audit WebAssembly modules offline.\n\n`);
  io.out(`Usage: nightcore <command> [arguments]\n\nCommands:\n${lines.join('\n')}\n`);
  io.out(`\nRun "nightcore <command> --help" for a command's options. Docs: docs/cli.md\n`);
  return 0;
}

/** Runs one command line and returns its exit code (0 ok, 1 failure, 2 usage error). */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name = 'help', ...rest] = argv;
  const alias: Record<string, string> = { '--help': 'help', '-h': 'help', '--version': 'version' };
  const command = COMMANDS[alias[name] ?? name];
  if (!command) {
    io.err(`nightcore: unknown command "${name}". Run "nightcore help" for the list.\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`nightcore ${name}: ${message}\n`);
    if (error instanceof CliError) return error.exitCode;
    // node:util parseArgs rejects unknown or malformed options: a usage error.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return 2;
    return 1;
  }
}
