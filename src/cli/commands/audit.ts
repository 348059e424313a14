import { parseNoteVerifierKey } from '$lib/core/audit/checkpoint';
import type { ExportFailure, VerifyExportOptions } from '$lib/core/audit/export';
import { proveInclusion, verifyExport } from '$lib/core/audit/export-verify';
import { fromUtf8 } from '$lib/core/bytes';
import { parsePublicKeys } from '$lib/core/keys';
import { parseArgs } from 'node:util';
import type { CliIO } from '../main';
import { CliError, UsageError, readInput } from '../io';

export const AUDIT_USAGE = `Usage:
  nightcore audit verify EXPORT.jsonl [--checkpoint FILE] [--earlier FILE]... [--key FILE] [--json]
  nightcore audit prove EXPORT.jsonl --seq N [--checkpoint FILE] [--key FILE] [--json]

verify  checks an audit log exported from Night Core (Audit page, Export): every record's hash,
        every link of the chain, the Merkle root (or each record's inclusion proof for a filtered
        export) against the signed checkpoint, and the checkpoint's signature.
        With --earlier, also that the log is consistent with checkpoints kept from earlier
        exports: the root over its first n records must be the one each signed.
prove   prints record N's Merkle inclusion proof against the export's tree.
  --checkpoint FILE  the .checkpoint file exported with the log (signed note)
  --earlier FILE     a .checkpoint kept from an earlier export (repeatable); needs a full
                     export, or a range from record 0 that holds the records it covers
  --key FILE         the device's public key, as exported from Settings: the signed-note
                     verifier key (name+hash+key) or raw base64/hex; without it the key named in
                     the export is used and reported as self-asserted
Exit status: 0 intact, 1 broken (the first bad seq and why on stderr), 2 usage error.`;

export async function auditCommand(argv: string[], io: CliIO): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(`${AUDIT_USAGE}\n`);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'verify' && action !== 'prove') {
    throw new UsageError(`unknown audit action "${action}": use verify or prove`);
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      checkpoint: { type: 'string' },
      earlier: { type: 'string', multiple: true },
      key: { type: 'string' },
      seq: { type: 'string' },
      json: { type: 'boolean', default: false }
    },
    strict: true,
    allowPositionals: true
  });
  const [path, ...extra] = positionals;
  if (!path || extra.length > 0)
    throw new UsageError(`audit ${action} takes exactly one EXPORT.jsonl`);
  const jsonl = await readText(path);
  const options: VerifyExportOptions = {};
  if (values.checkpoint !== undefined) options.checkpoint = await readText(values.checkpoint);
  if (values.earlier !== undefined) {
    if (action === 'prove') throw new UsageError('--earlier is for audit verify');
    options.earlier = await Promise.all(values.earlier.map(readText));
  }
  if (values.key !== undefined) options.publicKey = await readDeviceKey(values.key);

  if (action === 'verify') {
    const result = verifyExport(jsonl, options);
    if (!result.ok) return reportFailure(result, io, values.json);
    if (values.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
    else {
      io.out(
        `intact: ${result.records} records (${result.kind} export), head seq ${result.head.seq}\n`
      );
      io.out(`  tree size ${result.treeSize}, root ${result.root}\n`);
      io.out(
        result.checkpointVerified
          ? '  checkpoint signature verified\n'
          : '  checkpoint not checked (pass --checkpoint to anchor the records to a signed root)\n'
      );
      for (const kept of result.earlier) {
        io.out(`  consistent with the checkpoint of size ${kept.size}, root ${kept.root}\n`);
      }
    }
    for (const note of result.notes) io.err(`  note ${note.code}: ${note.message}\n`);
    return 0;
  }

  if (values.seq === undefined || !/^\d+$/.test(values.seq)) {
    throw new UsageError('audit prove needs --seq N (a record number)');
  }
  const proof = proveInclusion(jsonl, Number(values.seq), options);
  if (!proof.ok) return reportFailure(proof, io, values.json);
  if (values.json) io.out(`${JSON.stringify(proof, null, 2)}\n`);
  else {
    io.out(`record ${proof.seq} is in the tree of size ${proof.treeSize}, root ${proof.root}\n`);
    io.out(`  leaf hash ${proof.leafHash}\n  inclusion proof (${proof.proof.length} hashes):\n`);
    for (const hash of proof.proof) io.out(`    ${hash}\n`);
    if (proof.checkpointVerified) io.out('  the root is the one the signed checkpoint names\n');
  }
  return 0;
}

function reportFailure(failure: ExportFailure, io: CliIO, json: boolean): number {
  if (json) io.out(`${JSON.stringify(failure, null, 2)}\n`);
  const where =
    failure.seq !== null
      ? `record ${failure.seq} (line ${failure.line})`
      : failure.line === 0
        ? /^(the )?earlier checkpoint/.test(failure.reason.message)
          ? 'an earlier checkpoint (--earlier, numbered in the order given)'
          : 'the checkpoint'
        : `line ${failure.line}`;
  io.err(`broken at ${where}: ${failure.reason.code}: ${failure.reason.message}\n`);
  return 1;
}

export async function readText(path: string): Promise<string> {
  try {
    return fromUtf8(await readInput(path), path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${path}: not UTF-8 text`);
  }
}

/** The device key: a signed-note verifier key, or any public key format the keys parser reads. */
export async function readDeviceKey(path: string): Promise<Uint8Array> {
  const text = await readText(path);
  const vkey = parseNoteVerifierKey(text.trim());
  if (vkey.ok) return vkey.publicKey;
  const parsed = await parsePublicKeys(text);
  if (parsed.ok && parsed.keys.length === 1) return parsed.keys[0]!.publicKey;
  throw new UsageError(
    `${path}: not a device public key (${parsed.ok ? 'several keys' : parsed.reason.message})`
  );
}
