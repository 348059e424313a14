/**
 * The few file-system moves the watched agent folder needs, written against
 * FileSystemDirectoryHandle so that a folder the user picked and an Origin Private File System
 * directory (what the browser tests drive) behave the same.
 */
import { freeName, type FolderEntry } from '$lib/core/agent-folder';

/** The entries of a directory, with each file's size and time (to see writers finish). */
export async function listEntries(dir: FileSystemDirectoryHandle): Promise<FolderEntry[]> {
  const entries: FolderEntry[] = [];
  for await (const [name, handle] of dir.entries()) {
    if (handle.kind === 'directory') {
      entries.push({ name, kind: 'directory', size: 0, lastModified: 0 });
      continue;
    }
    try {
      const file = await handle.getFile();
      entries.push({ name, kind: 'file', size: file.size, lastModified: file.lastModified });
    } catch {
      // Removed between listing and reading, or locked by its writer: seen at the next poll.
    }
  }
  return entries;
}

export async function readFile(dir: FileSystemDirectoryHandle, name: string): Promise<File> {
  return (await dir.getFileHandle(name)).getFile();
}

/**
 * Writes a whole file. The writable stream commits on close (Chromium writes a swap file and
 * renames it), so a reader never sees half a result.
 */
export async function writeFile(
  dir: FileSystemDirectoryHandle,
  name: string,
  data: string | Uint8Array<ArrayBuffer> | Blob
): Promise<void> {
  const writable = await (await dir.getFileHandle(name, { create: true })).createWritable();
  try {
    await writable.write(data);
    await writable.close();
  } catch (error) {
    await writable.abort().catch(() => {});
    throw error;
  }
}

async function names(dir: FileSystemDirectoryHandle): Promise<Set<string>> {
  const taken = new Set<string>();
  for await (const name of dir.keys()) taken.add(name);
  return taken;
}

/**
 * Moves an entry (file or directory) into `to` under a name not taken there; returns that name.
 * Uses the browser's move where it has one, else copies and then removes (never the reverse, so
 * a failure leaves a copy rather than nothing).
 */
export async function moveEntry(
  from: FileSystemDirectoryHandle,
  name: string,
  to: FileSystemDirectoryHandle
): Promise<string> {
  const target = freeName(name, await names(to));
  const handle = await entry(from, name);
  if (typeof handle.move === 'function') {
    try {
      await handle.move(to, target);
      return target;
    } catch {
      // Some file systems refuse a move across directories: copy instead.
    }
  }
  await copyEntry(handle, to, target);
  await from.removeEntry(name, { recursive: true });
  return target;
}

async function entry(
  dir: FileSystemDirectoryHandle,
  name: string
): Promise<FileSystemFileHandle | FileSystemDirectoryHandle> {
  try {
    return await dir.getFileHandle(name);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TypeMismatchError')
      return dir.getDirectoryHandle(name);
    throw error;
  }
}

async function copyEntry(
  handle: FileSystemFileHandle | FileSystemDirectoryHandle,
  to: FileSystemDirectoryHandle,
  name: string
): Promise<void> {
  if (handle.kind === 'file') return writeFile(to, name, await handle.getFile());
  const dir = await to.getDirectoryHandle(name, { create: true });
  for await (const [child, childHandle] of handle.entries())
    await copyEntry(childHandle, dir, child);
}

/** The files of a directory, one level deep (an input folder's files). */
export async function filesIn(dir: FileSystemDirectoryHandle): Promise<File[]> {
  const files: File[] = [];
  for await (const handle of dir.values())
    if (handle.kind === 'file') files.push(await handle.getFile());
  return files;
}
