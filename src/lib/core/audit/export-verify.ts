/**
 * Verifying an audit export (the format is in export.ts): every line strictly parsed, re-encoded
 * and re-hashed, the chain links, the Merkle root or inclusion proofs, and the signed checkpoint.
 * A forged or broken export yields a failure with its seq, line and reason, never a throw.
 */
import { bytesEqual } from '../bytes';
import { parseJson } from '../json';
import type { JsonObject, JsonValue } from '../json';
import { reason } from '../verdict';
import type { Reason } from '../verdict';
import { TimeNotes, hashMismatch, linkProblem, misplacedReason } from './chain';
import { verifySignedCheckpoint } from './checkpoint';
import { digestRecordText, hashFromHex, hexOf, isCount, isHashHex } from './digest';
import { recordLine } from './export';
import type {
  ExportFailure,
  ExportVerification,
  InclusionResult,
  VerifyExportOptions
} from './export';
import { failure, readHeader, truncated } from './export-header';
import type { Header } from './export-header';
import { MerkleTree, leafHashInto, rootFromInclusionProof } from './merkle';
import { GENESIS_HASH, readRecord } from './record';
import { checkEarlier } from './earlier';

const RECORD_KEYS = ['seq', 'time', 'event', 'subject', 'details', 'prevHash', 'hash'];
const MAX_PROOF_LENGTH = 64;

/**
 * Verifies an export: the header, the checkpoint signature (with the trusted key, or the header's
 * with a note), every line strictly parsed, re-encoded and re-hashed, the chain links, and the
 * Merkle root (full export) or each inclusion proof (range: the last record; filtered: every
 * record) against the checkpoint's root. Returns the first failure with its seq and line.
 */
export function verifyExport(jsonl: string, options: VerifyExportOptions = {}): ExportVerification {
  const scanned = scan(jsonl, options, null);
  return scanned.ok ? scanned.result : scanned;
}

/** The inclusion proof of record `seq` from a verified export (for `nightcore audit prove`). */
export function proveInclusion(
  jsonl: string,
  seq: number,
  options: VerifyExportOptions = {}
): InclusionResult {
  if (!isCount(seq)) throw new TypeError('seq must be a non-negative integer');
  const scanned = scan(jsonl, options, seq);
  if (!scanned.ok) return scanned;
  const { result, target } = scanned;
  if (target === null) {
    return failure(seq, 0, 'audit.prove-absent', `record ${seq} is not in this export`);
  }
  let proof = target.proof;
  if (proof === null) {
    if (scanned.flat === null) {
      return failure(
        seq,
        target.line,
        'audit.prove-unavailable',
        'a range export carries a proof for its last record only: prove from a full export'
      );
    }
    proof = MerkleTree.fromFlatLeafHashes(scanned.flat).inclusionProof(seq).map(hexOf);
  }
  return {
    ok: true,
    seq,
    treeSize: result.treeSize,
    recordHash: target.recordHash,
    leafHash: target.leafHash,
    proof,
    root: result.root,
    checkpointVerified: result.checkpointVerified
  };
}

interface Target {
  line: number;
  recordHash: string;
  leafHash: string;
  proof: string[] | null;
}

type Scan =
  | {
      ok: true;
      result: Extract<ExportVerification, { ok: true }>;
      flat: Uint8Array | null;
      target: Target | null;
    }
  | ExportFailure;

function scan(jsonl: string, options: VerifyExportOptions, targetSeq: number | null): Scan {
  if (typeof jsonl !== 'string') return failure(null, 1, 'audit.export-header', 'not text');
  if (options.earlier !== undefined && !Array.isArray(options.earlier)) {
    throw new TypeError('options.earlier must be an array of checkpoint notes');
  }
  const notes: Reason[] = [];
  const times = new TimeNotes();
  const firstBreak = jsonl.indexOf('\n');
  const header = readHeader(firstBreak < 0 ? jsonl : jsonl.slice(0, firstBreak), firstBreak < 0);
  if (!header.ok) return header;
  const { kind, treeSize, from, seqs } = header;
  const count = seqs === null ? header.to - from + 1 : seqs.length;
  const seqAt = (i: number) => (seqs === null ? from + i : seqs[i]!);

  // The checkpoint first: its root is what every proof below must lead to.
  const checked = checkpointRoot(header, options, notes);
  if (checked !== null && !(checked instanceof Uint8Array)) return checked;
  let root = checked;
  let rootLine = 0;

  // Leaf hashes of an export from record 0 (full, or a range from 0: earlier checkpoints need the
  // first leaves); a hostile treeSize cannot make this huge (a record line is over 128
  // characters, so the file bounds how many records can pass).
  const capacity = Math.min(header.to + 1, Math.floor(jsonl.length / 128) + 1);
  const prefix = kind !== 'filtered' && from === 0 ? new Uint8Array(capacity * 32) : null;
  const flat = kind === 'full' ? prefix : null;
  const leaf = new Uint8Array(32);
  let prev: { seq: number; hash: string; time: number } | null = null;
  let target: Target | null = null;
  let index = 0;
  let pos = firstBreak + 1;
  while (pos < jsonl.length) {
    const lineNo = index + 2;
    const newline = jsonl.indexOf('\n', pos);
    const cut = newline < 0;
    const end = cut ? jsonl.length : newline;
    const line = jsonl.slice(pos, end);
    pos = end + 1;
    if (index >= count) {
      const why = `the header promises ${count} records; line ${lineNo} is one more`;
      return failure(null, lineNo, 'audit.export-extra', why);
    }
    const expected = seqAt(index);
    const withProof = kind === 'filtered' || (kind === 'range' && index === count - 1);
    const parsed = parseJson(line);
    if (!parsed.ok) {
      if (cut) return truncated(expected, lineNo);
      return failure(expected, lineNo, 'audit.record-malformed', `not JSON: ${parsed.message}`);
    }
    const fields = recordFields(parsed.value, withProof);
    if (typeof fields === 'string')
      return failure(expected, lineNo, 'audit.record-malformed', fields);
    const read = readRecord(fields.record);
    if (!read.ok) return { ok: false, seq: expected, line: lineNo, reason: read.reason };
    const { record, text } = read;
    const digest = digestRecordText(text);
    const problem =
      hashMismatch(record, hexOf(digest), expected) ??
      (record.seq === expected
        ? null
        : misplacedReason(expected, record.seq, jsonl.includes(`\n{"seq":${expected},`, pos - 1)));
    if (problem !== null) return { ok: false, seq: expected, line: lineNo, reason: problem };
    if (line !== recordLine(text, record.hash, fields.proof)) {
      const why = `line ${lineNo} is not in canonical form (same record, different text)`;
      return failure(expected, lineNo, 'audit.export-noncanonical', why);
    }
    const linked = prev !== null && prev.seq === record.seq - 1;
    const before = linked ? prev!.hash : index === 0 ? header.anchor?.hash : undefined;
    const link =
      record.seq === 0
        ? linkProblem(record, GENESIS_HASH, true)
        : before === undefined
          ? null
          : linkProblem(record, before, false);
    if (link !== null) return { ok: false, seq: expected, line: lineNo, reason: link };
    if (linked && record.time < prev!.time) times.add(record.seq, prev!.time, record.time);

    leafHashInto(digest, prefix ?? leaf, prefix === null ? 0 : record.seq * 32);
    const leafBytes =
      prefix === null ? leaf : prefix.subarray(record.seq * 32, record.seq * 32 + 32);
    if (fields.proof !== null) {
      const reached = rootFromInclusionProof(
        leafBytes,
        record.seq,
        treeSize,
        fields.proof.map(hashFromHex)
      );
      const why =
        reached === null
          ? `the inclusion proof does not fit record ${record.seq} of a ${treeSize}-record tree`
          : root === null || bytesEqual(reached, root)
            ? null
            : rootLine === 0
              ? "the inclusion proof does not lead to the checkpoint's root"
              : `the inclusion proof leads to another tree than line ${rootLine}'s`;
      if (why !== null) return failure(expected, lineNo, 'audit.proof-invalid', why);
      if (root === null) {
        root = reached;
        rootLine = lineNo;
      }
    }
    if (record.seq === targetSeq) {
      target = {
        line: lineNo,
        recordHash: record.hash,
        leafHash: hexOf(leafBytes),
        proof: fields.proof
      };
    }
    prev = { seq: record.seq, hash: record.hash, time: record.time };
    index++;
    if (cut) return truncated(expected, lineNo);
  }
  if (index < count) {
    const why = `the file ends after ${index} records; the header promises ${count}`;
    return failure(seqAt(index), index + 2, 'audit.record-missing', why);
  }
  if (flat !== null) {
    const computed = MerkleTree.fromFlatLeafHashes(flat).root();
    if (root !== null && !bytesEqual(computed, root)) {
      const why =
        "the records do not lead to the checkpoint's root: the last record, or a run of records " +
        'with every later hash recomputed, was rewritten (or the checkpoint is for another log)';
      return failure(null, 0, 'audit.root-mismatch', why);
    }
    root = computed;
  }
  const earlier = checkEarlier(options.earlier ?? [], header, prefix, count);
  if (!Array.isArray(earlier)) return earlier;
  if (earlier.length > 0) {
    if (
      options.publicKey === undefined &&
      !notes.some((n) => n.code === 'audit.key-self-asserted')
    ) {
      const why =
        'the earlier checkpoints were checked with the key the export names itself; pass the ' +
        'trusted device key to know who signed them';
      notes.push(reason('audit.key-self-asserted', why));
    }
    const largest = earlier.at(-1)!.size;
    if (options.checkpoint === undefined && largest < treeSize) {
      const why =
        `records ${largest}..${treeSize - 1} come after the largest earlier checkpoint ` +
        `(size ${largest}): only the chain vouches for them`;
      notes.push(reason('audit.earlier-tail', why));
    }
  }
  const result = {
    ok: true as const,
    kind,
    records: count,
    head: { seq: prev!.seq, hash: prev!.hash },
    treeSize,
    root: hexOf(root!),
    checkpointVerified: options.checkpoint !== undefined,
    earlier,
    notes: [...notes, ...times.list()]
  };
  return { ok: true, result, flat, target };
}

/** The signed root (null without a checkpoint) after checking key, signature, origin and size. */
function checkpointRoot(
  header: Header,
  options: VerifyExportOptions,
  notes: Reason[]
): Uint8Array | null | ExportFailure {
  const { publicKey, checkpoint } = options;
  if (publicKey !== undefined && !bytesEqual(publicKey, header.deviceKey.publicKey)) {
    const why = 'the header names another device key than the trusted one';
    return failure(null, 1, 'audit.device-key-mismatch', why);
  }
  if (checkpoint === undefined) {
    const why = 'no checkpoint given: the records chain, but nothing signed vouches for them';
    notes.push(reason('audit.no-checkpoint', why));
    return null;
  }
  if (publicKey === undefined) {
    const why =
      'the checkpoint was checked with the key the export names itself; pass the trusted ' +
      'device key to know who signed it';
    notes.push(reason('audit.key-self-asserted', why));
  }
  const checked = verifySignedCheckpoint(checkpoint, {
    publicKey: header.deviceKey.publicKey,
    name: header.deviceKey.name,
    origin: header.origin
  });
  if (!checked.ok) return { ok: false, seq: null, line: 0, reason: checked.reason };
  if (checked.checkpoint.size !== header.treeSize) {
    const why =
      `the checkpoint is for ${checked.checkpoint.size} records, the header says ` +
      `${header.treeSize}: it is not this export's own checkpoint (a checkpoint kept from an ` +
      'earlier export is checked as an earlier one: --earlier FILE)';
    return failure(null, 0, 'audit.checkpoint-size', why);
  }
  return checked.checkpoint.root;
}

function recordFields(
  value: JsonValue,
  withProof: boolean
): { record: JsonObject; proof: string[] | null } | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'the line is not a JSON object';
  }
  for (const key of Object.keys(value)) {
    if (!RECORD_KEYS.includes(key) && !(withProof && key === 'inclusionProof')) {
      return `unexpected field "${key.slice(0, 40)}"`;
    }
  }
  if (!withProof) return { record: value, proof: null };
  const proof = value.inclusionProof;
  if (!Array.isArray(proof) || proof.length > MAX_PROOF_LENGTH || !proof.every(isHashHex)) {
    return 'inclusionProof: not an array of 64-digit lowercase hex hashes';
  }
  return { record: value, proof: proof as string[] };
}
