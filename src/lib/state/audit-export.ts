/**
 * Exports the audit log, whole or a filtered selection, as two downloads: the JSONL records and the
 * signed checkpoint they verify against. Nothing leaves the browser except as a file the user
 * saves. The export itself is then recorded, and the checkpoint marked as exported.
 */
import { buildExport } from '$lib/core/audit/export';
import { activeFilters, localDate, type AuditFilters } from '$lib/core/audit/present';
import { pause, readAll } from '$lib/storage/audit-query';
import { auditLog } from './audit-log.svelte';
import { downloadText } from './download';

export type ExportScope = 'all' | 'filtered';

export interface ExportOptions {
  /** The filters of a filtered export (recorded with it). */
  filters: AuditFilters;
  /** Every matching seq below `size`, ascending (for a filtered export). */
  matches: (size: number) => Promise<number[]>;
  /** Progress, as a sentence for the page. */
  progress: (message: string) => void;
}

/** What an export reports to: the Audit page's view. */
export interface ExportTarget {
  exporting: boolean;
  exportMessage: string | null;
  readonly filters: AuditFilters;
}

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
  target.exporting = true;
  target.exportMessage = null;
  try {
    target.exportMessage = await exportAuditLog(scope, {
      filters: target.filters,
      matches,
      progress: (text) => (target.exportMessage = text)
    });
  } catch (error) {
    target.exportMessage = `Export failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    target.exporting = false;
  }
}

/** Runs the export; resolves to the sentence that says what was exported, or throws. */
export async function exportAuditLog(scope: ExportScope, options: ExportOptions): Promise<string> {
  const store = await auditLog.store();
  const checkpoint = await auditLog.makeCheckpoint();
  if (!checkpoint) throw new Error('the log is empty');
  const records = await readAll(store.db, checkpoint.size, (done) => {
    options.progress(`Reading records… ${done} of ${checkpoint.size}`);
  });
  options.progress('Writing the export…');
  await pause();
  const seqs = scope === 'filtered' ? await options.matches(checkpoint.size) : null;
  if (seqs && seqs.length === 0) throw new Error('no records match the filters');
  const { jsonl, checkpoint: note } = buildExport(records, {
    origin: store.origin,
    deviceKey: { name: store.device.name, publicKey: store.device.publicKey },
    checkpointNote: checkpoint.note,
    selection: seqs ? { seqs } : 'all'
  });
  const base = `nightcore-audit-${localDate(new Date())}`;
  downloadText(`${base}.jsonl`, jsonl, 'application/x-ndjson');
  downloadText(`${base}.checkpoint`, note, 'text/plain');
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
