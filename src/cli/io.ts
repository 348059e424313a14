/** File access for the CLI (Node only; core never touches the file system). */
import { constants } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    /** 1: the input was rejected or an operation failed; 2: the command line itself is wrong. */
    readonly exitCode: 1 | 2 = 1
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Largest file the CLI reads (a bundle carries a module of at most 64 MiB in base64). */
const MAX_INPUT_BYTES = 128 * 1024 * 1024;

export async function readInput(path: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new CliError(`cannot read ${path}: no such file`);
  }
  if (info.isDirectory()) throw new CliError(`${path} is a directory, expected a file`);
  if (info.size > MAX_INPUT_BYTES) {
    throw new CliError(`${path} is ${info.size} bytes; the limit is ${MAX_INPUT_BYTES}`);
  }
  return new Uint8Array(await readFile(path));
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads the regular files directly inside a folder (the old console's tenant layout is flat). */
export async function readFolder(path: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isFile()) files.set(entry.name, await readInput(join(path, entry.name)));
  }
  return files;
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a file, refusing to replace an existing one unless `overwrite`. `mode` applies on
 * creation (0o600 for private keys: created with it, never widened then narrowed).
 */
export async function writeOutput(
  path: string,
  data: Uint8Array | string,
  { mode = 0o644, overwrite = false }: { mode?: number; overwrite?: boolean } = {}
): Promise<void> {
  const flags =
    constants.O_WRONLY | constants.O_CREAT | (overwrite ? constants.O_TRUNC : constants.O_EXCL);
  let handle;
  try {
    handle = await open(path, flags, mode);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') {
      throw new CliError(`${path} exists; pass --force to replace it`);
    }
    throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
  }
  try {
    await handle.writeFile(data);
    if (overwrite) await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

export function baseName(path: string): string {
  return basename(path).replace(/\.(wasm|ncb)$/i, '');
}
