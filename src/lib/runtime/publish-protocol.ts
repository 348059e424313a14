/**
 * The bundle tool's worker messages (a closed set). The worker does the work that grows with the
 * module (validation, hashing, base64 and the bundle text) so a 50 MiB module does not stall the
 * page; the main thread keeps IndexedDB and the audit log. The module crosses as a Blob (the
picked File), so the page never copies or even holds its bytes.
 */
import type { Capability, Entry } from '$lib/core/manifest';
import type { Reason } from '$lib/core/verdict';

export type PublishRequest =
  | { kind: 'inspect'; module: Blob }
  | {
      kind: 'bundle';
      module: Blob;
      /** The digest the manifest names: the file is re-read, so it must still be these bytes. */
      sha256: string;
      manifest: Uint8Array;
      seed: Uint8Array;
    };

export interface ModuleFacts {
  ok: boolean;
  reasons: Reason[];
  sha256: string;
  size: number;
  entry: Entry | null;
  needs: Capability[];
  foreignImports: string[];
}

export type PublishReply =
  | { kind: 'inspected'; facts: ModuleFacts }
  | { kind: 'bundled'; bytes: Uint8Array }
  | { kind: 'error'; name: string; message: string };
