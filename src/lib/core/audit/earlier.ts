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
import { emptyRoot, nodeHash } from './merkle';

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
  const checked: { which: string; size: number; signed: string }[] = [];
  for (const [index, note] of notes.entries()) {
    const which = notes.length > 1 ? `earlier checkpoint ${index + 1}` : 'the earlier checkpoint';
    if (typeof note !== 'string') {
      return failure(null, 0, 'audit.earlier-malformed', `${which}: not text`);
    }
    const verified = verifySignedCheckpoint(note, {
      publicKey: header.deviceKey.publicKey,
      name: header.deviceKey.name,
      origin: header.origin
    });
    if (!verified.ok) {
      const { code, message } = verified.reason;
      return { ok: false, seq: null, line: 0, reason: reason(code, `${which}: ${message}`) };
    }
    const { size } = verified.checkpoint;
    const signed = hexOf(verified.checkpoint.root);
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
    checked.push({ which, size, signed });
  }
  if (prefix === null || checked.length === 0) return [];
  const roots = prefixRoots(
    prefix,
    checked.map((c) => c.size)
  );
  for (const { which, size, signed } of checked) {
    const computed = hexOf(roots.get(size)!);
    if (computed !== signed) {
      const why =
        `${which} (size ${size}) signed root ${signed}, but the first ${size} records of this ` +
        `export lead to root ${computed}: records among 0..${size - 1} were rewritten after that ` +
        'checkpoint was made (or the checkpoint is for another log)';
      return failure(null, 0, 'audit.earlier-inconsistent', why);
    }
  }
  return checked
    .map(({ size, signed }) => ({ size, root: signed }))
    .sort((a, b) => a.size - b.size);
}

/**
 * The RFC 6962 root over the first n leaves for each n in `sizes`, in one pass over the leaves:
 * a stack of perfect-subtree roots (largest first) grows like a binary counter, and the root at n
 * folds it right to left. Cost O(leaves + sizes x log n), however many checkpoints are kept.
 */
export function prefixRoots(prefix: Uint8Array, sizes: readonly number[]): Map<number, Uint8Array> {
  const wanted = [...new Set(sizes)].sort((a, b) => a - b);
  if (wanted.at(-1)! * 32 > prefix.length) throw new RangeError('a size is beyond the leaves');
  const roots = new Map<number, Uint8Array>();
  const stack: Uint8Array[] = [];
  let next = 0;
  if (wanted[0] === 0) roots.set(wanted[next++]!, emptyRoot());
  for (let i = 0; next < wanted.length; i++) {
    let node = prefix.subarray(i * 32, i * 32 + 32);
    // Adding leaf i closes one perfect subtree per trailing 1 bit of i.
    for (let bits = i; bits % 2 === 1; bits = Math.floor(bits / 2))
      node = nodeHash(stack.pop()!, node);
    stack.push(node);
    if (wanted[next] === i + 1) {
      let root = stack.at(-1)!;
      for (let j = stack.length - 2; j >= 0; j--) root = nodeHash(stack[j]!, root);
      roots.set(wanted[next++]!, root);
    }
  }
  return roots;
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
