/**
 * Checking an export against checkpoints exported earlier (docs/audit-log.md, "Keeping old
 * checkpoints"). A profile rewritten by someone who can also sign with the device key yields an
 * export that verifies on its own; what it cannot do is change a root already kept off the device.
 * A checkpoint of size n vouches for records 0..n-1, so the export must hold those records: the
 * root over the first n leaves is recomputed and compared with the signed one.
 */
import { reason } from '../verdict';
import { verifySignedCheckpoint } from './checkpoint';
import { hexOf } from './digest';
import type { ConsistentCheckpoint, ExportFailure } from './export';
import { failure } from './export-header';
import type { Header } from './export-header';
import { MerkleTree } from './merkle';

/**
 * Checks each earlier checkpoint note: its signature (the header's key, already matched to the
 * trusted one when given; origin and key name from the header), then its root against the root of
 * the first `size` leaves. `prefix` holds the leaf hashes of records 0..prefixSize-1 end to end
 * (null when the export does not start at record 0). Returns the first problem, with the size and
 * both roots when they differ.
 */
export function checkEarlier(
  notes: readonly string[],
  header: Header,
  prefix: Uint8Array | null,
  prefixSize: number
): ConsistentCheckpoint[] | ExportFailure {
  const consistent: ConsistentCheckpoint[] = [];
  for (const [index, note] of notes.entries()) {
    const which = notes.length > 1 ? `earlier checkpoint ${index + 1}` : 'the earlier checkpoint';
    if (typeof note !== 'string') {
      return failure(null, 0, 'audit.earlier-malformed', `${which}: not text`);
    }
    const checked = verifySignedCheckpoint(note, {
      publicKey: header.deviceKey.publicKey,
      name: header.deviceKey.name,
      origin: header.origin
    });
    if (!checked.ok) {
      const { code, message } = checked.reason;
      return { ok: false, seq: null, line: 0, reason: reason(code, `${which}: ${message}`) };
    }
    const { size, root } = checked.checkpoint;
    const signed = hexOf(root);
    if (size > header.treeSize) {
      const why =
        `${which} covers ${size} records but this export's log has only ${header.treeSize}: ` +
        'records were removed since that checkpoint, or it belongs to a later export ' +
        `(its root ${signed})`;
      return failure(null, 0, 'audit.earlier-ahead', why);
    }
    if (prefix === null || size > prefixSize) {
      return failure(null, 0, 'audit.earlier-partial', partialWhy(which, size, header));
    }
    const computed = hexOf(MerkleTree.fromFlatLeafHashes(prefix.subarray(0, size * 32)).root());
    if (computed !== signed) {
      const why =
        `${which} (size ${size}) signed root ${signed}, but the first ${size} records of this ` +
        `export lead to root ${computed}: records among 0..${size - 1} were rewritten after that ` +
        'checkpoint was made (or the checkpoint is for another log)';
      return failure(null, 0, 'audit.earlier-inconsistent', why);
    }
    consistent.push({ size, root: signed });
  }
  return consistent.sort((a, b) => a.size - b.size);
}

/** What a partial export can and cannot show about a checkpoint of `size` records. */
function partialWhy(which: string, size: number, header: Header): string {
  const holds =
    header.kind === 'filtered'
      ? `a filtered export holds chosen records (${header.seqs!.length} of ${header.treeSize})`
      : `this range export holds records ${header.from}..${header.to} of ${header.treeSize}`;
  return (
    `${which} (size ${size}) vouches for records 0..${size - 1}; ${holds}, so the root over ` +
    `the first ${size} cannot be recomputed and consistency cannot be checked. Its signature ` +
    'verified. Check it against a full export (Export, whole log), or a range from record 0 ' +
    `to at least ${size - 1}`
  );
}
