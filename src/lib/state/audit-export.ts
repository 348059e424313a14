/**
 * Exports the audit log, whole or a filtered selection, as two downloads: the JSONL records and the
 * signed checkpoint they verify against. Nothing leaves the browser except as a file the user
 * saves. The export itself is then recorded, and the checkpoint marked as exported.
 */
import { exportSteps, type ExportStep } from '$lib/core/audit/export';
import { activeFilters, localDate, type AuditFilters } from '$lib/core/audit/present';
import { pause, readAll } from '$lib/storage/audit-query';
import { auditLog } from './audit-log.svelte';
import { downloadBlob, downloadText } from './download';

export type ExportScope = 'all' | 'filtered';

/** Reading records from IndexedDB, then the stages of core/audit/export.ts. */
export type ExportProgress = {
  stage: 'reading' | ExportStep['stage'];
  done: number;
  total: number;
};

/** The sentence for a progress value (also the progress bar's accessible text). */
export function progressText(progress: ExportProgress): string {
  const { done, total } = progress;
  switch (progress.stage) {
    case 'reading':
      return `Reading records… ${done} of ${total}`;
    case 'hashing':
      return `Hashing records… ${done} of ${total}`;
    case 'tree':
      return `Building the Merkle tree… ${done} of ${total} nodes`;
    case 'writing':
      return `Writing the export… ${done} of ${total} lines`;
  }
}

/** Thrown when the user stops an export: no file saved, no export recorded (reported as is). */
export class ExportCancelled extends Error {
  constructor() {
    super('Export cancelled: nothing was saved.');
    this.name = 'ExportCancelled';
  }
}

export interface ExportOptions {
  /** The filters of a filtered export (recorded with it). */
  filters: AuditFilters;
  /** Every matching seq below `size`, ascending (for a filtered export). */
  matches: (size: number) => Promise<number[]>;
  progress: (progress: ExportProgress) => void;
  /** Aborting stops the export before anything is downloaded or recorded. */
  signal?: AbortSignal;
}

/** What an export reports to: the Audit page's view. */
export interface ExportTarget {
  exporting: boolean;
  exportMessage: string | null;
  exportProgress: ExportProgress | null;
  readonly filters: AuditFilters;
}

const controllers = new WeakMap<ExportTarget, AbortController>();

/**
 * Runs one export at a time for `target`, reporting progress, the result or the failure in its
 * `exportMessage`. `matches` gives every matching seq below a size, ascending.
 */
export async function runExport(
  target: ExportTarget,
  scope: ExportScope,
  matches: (size: number) => Promise<number[]>
): Promise<void> {
  if (target.exporting) return;
  const controller = new AbortController();
  controllers.set(target, controller);
  target.exporting = true;
  target.exportMessage = null;
  target.exportProgress = null;
  try {
    target.exportMessage = await exportAuditLog(scope, {
      filters: target.filters,
      matches,
      progress: (progress) => (target.exportProgress = progress),
      signal: controller.signal
    });
  } catch (error) {
    target.exportMessage =
      error instanceof ExportCancelled
        ? error.message
        : `Export failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    controllers.delete(target);
    target.exporting = false;
    target.exportProgress = null;
  }
}

/** Stops `target`'s running export, if any (before its files are saved). */
export function cancelExport(target: ExportTarget): void {
  controllers.get(target)?.abort();
}

/** Runs the export; resolves to the sentence that says what was exported, or throws. */
export async function exportAuditLog(scope: ExportScope, options: ExportOptions): Promise<string> {
  const { signal } = options;
  const stopIfCancelled = () => {
    if (signal?.aborted) throw new ExportCancelled();
  };
  const store = await auditLog.store();
  const checkpoint = await auditLog.makeCheckpoint();
  if (!checkpoint) throw new Error('the log is empty');
  stopIfCancelled();
  const records = await readAll(store.db, checkpoint.size, (done) => {
    stopIfCancelled();
    options.progress({ stage: 'reading', done, total: checkpoint.size });
  });
  const seqs = scope === 'filtered' ? await options.matches(checkpoint.size) : null;
  if (seqs && seqs.length === 0) throw new Error('no records match the filters');
  const steps = exportSteps(records, {
    origin: store.origin,
    deviceKey: { name: store.device.name, publicKey: store.device.publicKey },
    checkpointNote: checkpoint.note,
    selection: seqs ? { seqs } : 'all'
  });
  // Build in slices, yielding to the page every ~30 ms so it stays responsive and Cancel works.
  // Each piece of text becomes a Blob as it comes: no one large string, no long task at the end.
  const pieces: Blob[] = [];
  let sliceStart = performance.now();
  for (const step of steps) {
    if (step.stage === 'writing') pieces.push(new Blob([step.text]));
    if (performance.now() - sliceStart > 30) {
      options.progress({ stage: step.stage, done: step.done, total: step.total });
      await pause();
      stopIfCancelled();
      sliceStart = performance.now();
    }
  }
  stopIfCancelled();
  const base = `nightcore-audit-${localDate(new Date())}`;
  downloadBlob(`${base}.jsonl`, new Blob(pieces, { type: 'application/x-ndjson' }));
  downloadText(`${base}.checkpoint`, checkpoint.note, 'text/plain');
  const exported = seqs?.length ?? records.length;
  await auditLog.record({
    event: 'audit.export',
    subject: {},
    details: {
      scope,
      records: exported,
      size: checkpoint.size,
      root: checkpoint.rootHash,
      ...(scope === 'filtered' ? { filters: activeFilters(options.filters) } : {})
    }
  });
  await store.markExported(checkpoint.size);
  return `Exported ${exported} record${exported === 1 ? '' : 's'} with a checkpoint of size ${checkpoint.size}.`;
}
