/**
 * Reading what the user hands over as files: picked files, a picked folder, or files and folders
 * dropped on the Inbox. Folders are walked (their files keep their relative paths, so a .wasm
 * still pairs with the signature beside it); bytes are read as streams so large files report
 * progress. Limits keep a stray drop of a home directory from freezing the tab.
 */
import type { NamedBytes } from '$lib/core/intake';
import { formatBytes } from '$lib/core/units';

export interface PickedFile {
  file: File;
  /** The name shown and used for pairing: the relative path inside a dropped or picked folder. */
  path: string;
}

export const MAX_FILES = 1000;
export const MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024;
/** Files and folders walked in one drop, whatever they hold. */
export const MAX_ENTRIES = 10_000;

export type Collected = { ok: true; files: PickedFile[] } | { ok: false; message: string };

/** Files from an <input type=file> (with `webkitdirectory`, each has its relative path). */
export function fromFileList(list: FileList | null): Collected {
  const files = [...(list ?? [])].map((file) => ({
    file,
    path: file.webkitRelativePath || file.name
  }));
  return checkLimits(files);
}

/**
 * Files and folders dropped on the page. The entries must be taken from the DataTransfer during
 * the drop event itself (it is emptied when the handler returns), so this is called synchronously
 * and walks the folders afterwards.
 */
export function fromDrop(data: DataTransfer | null): () => Promise<Collected> {
  const entries: FileSystemEntry[] = [];
  const plain: File[] = [];
  for (const item of [...(data?.items ?? [])]) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() ?? null;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) plain.push(file);
    }
  }
  return async () => {
    const files: PickedFile[] = plain.map((file) => ({ file, path: file.name }));
    seen = 0;
    try {
      for (const entry of entries) {
        await walk(entry, files);
        if (files.length > MAX_FILES) break;
      }
    } catch (error) {
      return {
        ok: false,
        message: `The dropped folder could not be read: ${error instanceof Error ? error.message : String(error)}`
      };
    }
    if (seen > MAX_ENTRIES) {
      return {
        ok: false,
        message: `Too many files and folders: at most ${MAX_ENTRIES} entries are walked in one drop (nothing was taken in).`
      };
    }
    return checkLimits(files);
  };
}

/** Entries seen while walking (folders too), so a tree of empty folders is bounded as well. */
let seen = 0;

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (out.length > MAX_FILES || ++seen > MAX_ENTRIES) return;
  if (isFile(entry)) {
    const file = await new Promise<File>((resolve, reject) => entry.file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\//, '') });
    return;
  }
  if (!isDirectory(entry)) return;
  const reader = entry.createReader();
  // readEntries hands out a directory in batches; an empty batch means the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject)
    );
    if (batch.length === 0) return;
    for (const child of batch) await walk(child, out);
    if (out.length > MAX_FILES || seen > MAX_ENTRIES) return;
  }
}

function isFile(entry: FileSystemEntry): entry is FileSystemFileEntry {
  return entry.isFile;
}
function isDirectory(entry: FileSystemEntry): entry is FileSystemDirectoryEntry {
  return entry.isDirectory;
}

function checkLimits(files: PickedFile[]): Collected {
  if (files.length === 0) return { ok: false, message: 'Nothing to import: no files were given.' };
  if (files.length > MAX_FILES) {
    return {
      ok: false,
      message: `Too many files: at most ${MAX_FILES} at once (a folder with more was refused whole; pick its inbox folder instead).`
    };
  }
  const total = files.reduce((sum, f) => sum + f.file.size, 0);
  if (total > MAX_TOTAL_BYTES) {
    return {
      ok: false,
      message: `Too much at once: ${formatBytes(total)} given, at most ${formatBytes(MAX_TOTAL_BYTES)}.`
    };
  }
  return { ok: true, files };
}

/**
 * What a launch hands over (the installed app opened with files): file handles, structurally, so
 * this part runs in Node tests too. A `FileSystemFileHandle` fits.
 */
export interface LaunchedHandle {
  readonly kind: 'file' | 'directory';
  readonly name: string;
  getFile?: () => Promise<File>;
}

/**
 * The files of a launch (`launchQueue` consumer), under the same limits as picked files. A folder
 * handle is refused (file handlers open files); a file that cannot be read refuses the launch.
 */
export async function fromLaunchHandles(handles: readonly LaunchedHandle[]): Promise<Collected> {
  const files: PickedFile[] = [];
  for (const handle of handles) {
    if (handle.kind !== 'file' || !handle.getFile) {
      return { ok: false, message: `Only files can be opened with Night Core (${handle.name}).` };
    }
    try {
      const file = await handle.getFile();
      files.push({ file, path: file.name || handle.name });
    } catch (error) {
      return {
        ok: false,
        message: `${handle.name} could not be read: ${error instanceof Error ? error.message : String(error)}`
      };
    }
  }
  return checkLimits(files);
}

/**
 * Reads every file's bytes, reporting bytes read so far out of the total. Streams, so a large file
 * shows progress instead of one long silent wait.
 */
export async function readAll(
  files: readonly PickedFile[],
  onProgress: (done: number, total: number, path: string) => void
): Promise<NamedBytes[]> {
  const total = files.reduce((sum, f) => sum + f.file.size, 0);
  let done = 0;
  const out: NamedBytes[] = [];
  for (const { file, path } of files) {
    const bytes = new Uint8Array(file.size);
    let offset = 0;
    const reader = file.stream().getReader();
    for (;;) {
      const { done: finished, value } = await reader.read();
      if (finished) break;
      // A file that grew while being read is cut at the size it had when it was picked.
      const chunk = value.subarray(0, Math.max(0, bytes.length - offset));
      bytes.set(chunk, offset);
      offset += chunk.length;
      done += chunk.length;
      onProgress(done, total, path);
    }
    out.push({ name: path, bytes: offset === bytes.length ? bytes : bytes.subarray(0, offset) });
  }
  return out;
}
