// The File Handling API's launch queue (Chromium, installed apps only): the files the app was
// opened with from the file manager. Not in TypeScript's DOM library yet.
// https://wicg.github.io/manifest-incubations/#launchqueue-interface

declare global {
  interface LaunchParams {
    readonly targetURL?: string;
    readonly files: readonly FileSystemHandle[];
  }

  type LaunchConsumer = (params: LaunchParams) => unknown;

  interface LaunchQueue {
    setConsumer(consumer: LaunchConsumer): void;
  }

  interface Window {
    /** Present only where the browser supports file handling (and then on every page). */
    readonly launchQueue?: LaunchQueue;
  }
}

export {};
