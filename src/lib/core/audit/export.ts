/**
 * The audit export: JSONL anyone can verify offline (docs/audit-log.md, "Export"), plus the
 * signed checkpoint as a second file. This module defines the format and writes it;
 * export-verify.ts checks one (export-header.ts reads its first line).
 *
 * Line 1, the header (keys in this order):
 *   {"nightcoreAudit":1,"origin":O,"deviceKey":{"name":N,"publicKey":B64},"treeSize":T,
 *    "range":{"from":F,"to":L},"anchor":{"seq":F-1,"hash":H}|null}         (full or range)
 *   {"nightcoreAudit":1,…,"treeSize":T,"filtered":true,"seqs":[…],"anchor":null}      (filtered)
 * Then one record per line: its canonical encoding (record.ts) with `,"hash":"<hex>"` inserted
 * before the final `}`, and after that `,"inclusionProof":["<hex>",…]` (against the checkpoint's
 * tree of T records) on every line of a filtered export and on the last line of a range that is
 * not the whole log. Every line ends with "\n". A line must be exactly this text: anything else,
 * even equivalent JSON, is `audit.export-noncanonical`.
 */
import { bytesEqual, toBase64 } from '../bytes';
import { isUsablePublicKey } from '../ed25519';
import type { JsonObject } from '../json';
import type { Reason } from '../verdict';
import { isNoteName, verifySignedCheckpoint } from './checkpoint';
import { hashFromHex, hexOf, isCount, isHashHex } from './digest';
import { MerkleTree, leafHashInto } from './merkle';
import { readRecord } from './record';
import type { AuditRecord, ChainLink } from './record';

export interface DeviceKeyInfo {
  name: string;
  publicKey: Uint8Array;
}

/** The whole log, a seq range (inclusive), or chosen records (each with an inclusion proof). */
export type ExportSelection = 'all' | { from: number; to: number } | { seqs: readonly number[] };

export interface BuildExportOptions {
  origin: string;
  deviceKey: DeviceKeyInfo;
  /** A signed checkpoint (checkpoint.ts) over the first `size` records, by deviceKey. */
  checkpointNote: string;
  selection: ExportSelection;
}

/** The two files of an export: the JSONL and the signed checkpoint note. */
export interface AuditExport {
  jsonl: string;
  checkpoint: string;
}

export type ExportKind = 'full' | 'range' | 'filtered';

export interface VerifyExportOptions {
  /** The signed checkpoint file; without it the records are chained but not anchored. */
  checkpoint?: string;
  /** The trusted device key; without it the header's (self-asserted) key checks the signature. */
  publicKey?: Uint8Array;
  /**
   * Checkpoint notes kept from earlier exports (earlier.ts): each must be signed by the device key
   * and its root must be the root over the export's first `size` records.
   */
  earlier?: readonly string[];
}

/** An earlier checkpoint the export was found consistent with. */
export interface ConsistentCheckpoint {
  size: number;
  /** Its signed root, lowercase hex: the root over the export's first `size` records. */
  root: string;
}

export type ExportVerification =
  | {
      ok: true;
      kind: ExportKind;
      records: number;
      head: ChainLink;
      treeSize: number;
      /** The tree root the records lead to (lowercase hex). */
      root: string;
      checkpointVerified: boolean;
      /** The earlier checkpoints given, smallest first, each consistent with this export. */
      earlier: ConsistentCheckpoint[];
      notes: Reason[];
    }
  | ExportFailure;

/** `line` is 1-based (1 = header); 0 means the checkpoint, not a line. */
export interface ExportFailure {
  ok: false;
  seq: number | null;
  line: number;
  reason: Reason;
}

export type InclusionResult =
  | {
      ok: true;
      seq: number;
      treeSize: number;
      recordHash: string;
      leafHash: string;
      proof: string[];
      root: string;
      checkpointVerified: boolean;
    }
  | ExportFailure;

/**
 * Where an export being built has got to: `done` of `total` in the current stage (records hashed,
 * tree nodes made, lines written). A writing step carries the text written since the step before,
 * so the JSONL is the writing steps' texts in order, and a page can hand each piece to a Blob as it
 * comes instead of building one large string at the end.
 */
export type ExportStep =
  | { stage: 'hashing' | 'tree'; done: number; total: number }
  | { stage: 'writing'; done: number; total: number; text: string };

/** Leaf hashes of the checkpoint's records, then the tree, then one line per exported record. */
export type ExportStage = ExportStep['stage'];

/** Records handled between two progress steps (a few milliseconds of work each). */
export const EXPORT_SLICE = 256;

/**
 * Writes an export. `records` is the whole log in order (records[i].seq === i); the checkpoint
 * decides how many of them are exported (its size) and must be signed by deviceKey over exactly
 * those records. Records are written as stored, not re-verified: a broken log exports broken (and
 * fails verification where it is broken). Throws TypeError/RangeError for misuse.
 */
export function buildExport(
  records: readonly AuditRecord[],
  options: BuildExportOptions
): AuditExport {
  const texts: string[] = [];
  for (const step of exportSteps(records, options))
    if (step.stage === 'writing') texts.push(step.text);
  return { jsonl: texts.join(''), checkpoint: options.checkpointNote };
}

/**
 * buildExport in slices: yields an ExportStep every `slice` records or tree nodes, and a last
 * writing step with the rest of the text. A page can pause between steps to stay responsive, show
 * progress, or stop (by not calling next() again: nothing is half-written anywhere).
 */
export function* exportSteps(
  records: readonly AuditRecord[],
  options: BuildExportOptions,
  slice = EXPORT_SLICE
): Generator<ExportStep, void, void> {
  const { origin, deviceKey, checkpointNote, selection } = options;
  if (!isNoteName(origin)) throw new TypeError('origin: non-empty, no whitespace, + or controls');
  if (!isNoteName(deviceKey.name) || !isUsablePublicKey(deviceKey.publicKey)) {
    throw new TypeError('deviceKey must be {name, publicKey: a usable Ed25519 key}');
  }
  const verified = verifySignedCheckpoint(checkpointNote, { ...deviceKey, origin });
  if (!verified.ok) throw new TypeError(`checkpointNote: ${verified.reason.message}`);
  const treeSize = verified.checkpoint.size;
  if (!Array.isArray(records) || records.length < treeSize) {
    throw new RangeError(`the checkpoint covers ${treeSize} records, more than were given`);
  }
  if (!Number.isSafeInteger(slice) || slice < 1) throw new RangeError('slice must be >= 1');
  const { seqs, range } = selectSeqs(selection, treeSize);
  const flat = new Uint8Array(treeSize * 32);
  for (let i = 0; i < treeSize; i++) {
    const record = records[i];
    if (record?.seq !== i || !isHashHex(record.hash)) {
      throw new TypeError(`records[${i}] is not record ${i} with a hash`);
    }
    leafHashInto(hashFromHex(record.hash), flat, i * 32);
    if ((i + 1) % slice === 0) yield { stage: 'hashing', done: i + 1, total: treeSize };
  }
  // The tree makes treeSize - 1 node hashes: counted as they are made.
  const nodes = Math.max(0, treeSize - 1);
  const build = MerkleTree.buildSteps(flat, slice);
  let tree: MerkleTree;
  for (;;) {
    const step = build.next();
    if (step.done) {
      tree = step.value;
      break;
    }
    yield { stage: 'tree', done: step.value, total: nodes };
  }
  if (!bytesEqual(tree.root(), verified.checkpoint.root)) {
    throw new TypeError('the checkpoint root does not match the records (a stale checkpoint?)');
  }
  const header: JsonObject = {
    nightcoreAudit: 1,
    origin,
    deviceKey: { name: deviceKey.name, publicKey: toBase64(deviceKey.publicKey) },
    treeSize
  };
  if (range === null) {
    header.filtered = true;
    header.seqs = seqs;
    header.anchor = null;
  } else {
    header.range = range;
    const before = range.from === 0 ? null : records[range.from - 1]!;
    header.anchor = before === null ? null : { seq: before.seq, hash: before.hash };
  }
  let lines = [JSON.stringify(header)];
  const full = range !== null && range.from === 0 && range.to === treeSize - 1;
  for (const [index, seq] of seqs.entries()) {
    const withProof = range === null || (!full && seq === range.to);
    const proof = withProof ? tree.inclusionProof(seq).map(hexOf) : null;
    const read = readRecord(records[seq]);
    if (!read.ok) throw new TypeError(`records[${seq}]: ${read.reason.message}`);
    lines.push(recordLine(read.text, read.record.hash, proof));
    const done = index + 1;
    if (done % slice === 0 || done === seqs.length) {
      yield { stage: 'writing', done, total: seqs.length, text: lines.join('\n') + '\n' };
      lines = [];
    }
  }
}

function selectSeqs(selection: ExportSelection, treeSize: number) {
  if (treeSize === 0) throw new RangeError('the checkpoint covers no records: nothing to export');
  let from = 0;
  let to = treeSize - 1;
  if (typeof selection === 'object' && selection !== null && 'seqs' in selection) {
    const seqs = [...new Set(selection.seqs)].sort((a, b) => a - b);
    if (seqs.length === 0) throw new RangeError('selection.seqs is empty');
    if (!seqs.every((seq) => isCount(seq) && seq < treeSize)) {
      throw new RangeError(`selection.seqs must be integers in 0..${treeSize - 1}`);
    }
    return { seqs, range: null };
  }
  if (selection !== 'all') {
    ({ from, to } = selection);
    if (!isCount(from) || !isCount(to) || from > to || to >= treeSize) {
      throw new RangeError(`selection must satisfy 0 <= from <= to < ${treeSize}`);
    }
  }
  return { seqs: Array.from({ length: to - from + 1 }, (_, i) => from + i), range: { from, to } };
}

/** A record's export line: its canonical text with the hash (and any proof) before the `}`. */
export function recordLine(text: string, hash: string, proof: readonly string[] | null): string {
  const proofPart = proof === null ? '' : `,"inclusionProof":[${proof.map(quote).join(',')}]`;
  return `${text.slice(0, -1)},"hash":"${hash}"${proofPart}}`;
}

const quote = (hex: string) => `"${hex}"`;
