// The File System Access API's parts Chromium ships that TypeScript's DOM library lacks yet:
// the directory picker, permission queries on handles, and moving an entry.
// https://wicg.github.io/file-system-access/

declare global {
  type FileSystemPermissionMode = 'read' | 'readwrite';

  interface FileSystemHandlePermissionDescriptor {
    mode?: FileSystemPermissionMode;
  }

  interface FileSystemHandle {
    /** Chromium: 'granted' for OPFS handles; a picked folder may fall back to 'prompt'. */
    queryPermission?(descriptor?: FileSystemHandlePermissionDescriptor): Promise<PermissionState>;
    /** Needs a user gesture unless already granted. */
    requestPermission?(descriptor?: FileSystemHandlePermissionDescriptor): Promise<PermissionState>;
    /** Chromium: moves (and renames) the entry within the same file system. */
    move?(destination: FileSystemDirectoryHandle, newName?: string): Promise<void>;
  }

  interface DirectoryPickerOptions {
    id?: string;
    mode?: FileSystemPermissionMode;
  }

  interface Window {
    /** Chromium-based desktop browsers only. */
    showDirectoryPicker?(options?: DirectoryPickerOptions): Promise<FileSystemDirectoryHandle>;
  }
}

export {};
