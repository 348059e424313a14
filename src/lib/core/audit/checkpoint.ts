/**
 * Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with Ed25519 signatures.
 *
 * Body (https://c2sp.org/tlog-checkpoint), exactly three lines, each ending in "\n":
 *   <origin>\n<tree size, decimal>\n<base64 of the 32-byte root hash>\n
 * Night Core writes no extension lines and refuses a body that has any.
 *
 * Signed note (https://c2sp.org/signed-note): the body, a blank line, then one line per signature:
 *   "\u2014 " <key name> " " base64(key hash (4 bytes) || signature (64 bytes)) "\n"
 * The signature is Ed25519 over the body bytes (UTF-8, the blank line excluded). The key hash is
 * the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key), 0x01 being the Ed25519
 * signature type; a verifier key is written `<name>+<key hash, 8 hex>+<base64(0x01 || key)>`.
 * Key names and origins are non-empty and contain no whitespace, no `+` and no control characters.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, concatBytes, fromBase64, toBase64, toHex, utf8 } from '../bytes';
import { isUsablePublicKey, verifyStrict } from '../ed25519';
import { reason } from '../verdict';
import type { Reason } from '../verdict';
import { isCount } from './digest';

/** What a checkpoint says: the log's name, how many records, and the Merkle root over them. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** MTH over the first `size` records (32 bytes). */
  root: Uint8Array;
}

/** Signs checkpoints; the browser's device key is a non-extractable WebCrypto key, hence sign(). */
export interface NoteSigner {
  name: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** One signature line of a note, undecoded beyond its framing. */
export interface NoteSignatureLine {
  name: string;
  /** The 4-byte key hash as 8 lowercase hex digits. */
  keyHash: string;
  /** The signature bytes after the key hash (64 for Ed25519). */
  signature: Uint8Array;
}

export type ParsedCheckpointResult =
  | { ok: true; body: string; checkpoint: Checkpoint; signatures: NoteSignatureLine[] }
  | { ok: false; reason: Reason };

export type CheckpointVerification =
  { ok: true; checkpoint: Checkpoint; signer: string } | { ok: false; reason: Reason };

export interface CheckpointVerifier {
  /** The trusted key. */
  publicKey: Uint8Array;
  /** When given, only signature lines under this key name count. */
  name?: string;
  /** When given, the checkpoint's origin must be exactly this. */
  origin?: string;
}

const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_TYPE = 0x01;
const MAX_SIGNATURES = 100;
/** The longest note read (a checkpoint with 100 signatures is about 12 KiB). */
export const MAX_NOTE_LENGTH = 64 * 1024;

/** Whether a key name or origin is acceptable: non-empty, no whitespace, `+` or control chars. */
export function isNoteName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    !/[\s+\u0000-\u001f\u007f-\u009f\uD800-\uDFFF]/u.test(value)
  );
}

/** The body of a checkpoint note. Throws TypeError for an invalid origin, size or root. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root } = checkpoint;
  if (!isNoteName(origin)) throw new TypeError('origin: non-empty, no whitespace, + or controls');
  if (!isCount(size)) throw new TypeError('size must be a non-negative safe integer');
  if (!(root instanceof Uint8Array) || root.length !== 32) {
    throw new TypeError('root must be 32 bytes');
  }
  return `${origin}\n${size}\n${toBase64(root)}\n`;
}

/** The 4-byte key hash of an Ed25519 note key: SHA-256(name || 0x0A || 0x01 || key)[0:4]. */
export function noteKeyHash(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, ED25519_TYPE), publicKey)).slice(0, 4);
}

/** The standard verifier key text: `<name>+<key hash hex>+<base64(0x01 || publicKey)>`. */
export function noteVerifierKey(name: string, publicKey: Uint8Array): string {
  assertSignerKey(name, publicKey);
  const keyBytes = concatBytes(Uint8Array.of(ED25519_TYPE), publicKey);
  return `${name}+${toHex(noteKeyHash(name, publicKey))}+${toBase64(keyBytes)}`;
}

/** Reads a verifier key (one trailing newline allowed): its name and 32-byte Ed25519 key. */
export function parseNoteVerifierKey(
  text: string
): { ok: true; name: string; publicKey: Uint8Array } | { ok: false; reason: Reason } {
  const bad = (why: string) => ({
    ok: false as const,
    reason: reason('audit.vkey-malformed', why)
  });
  if (typeof text !== 'string') return bad('the verifier key is not text');
  // The key is base64, which may itself contain '+': split on the first two only.
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  const first = line.indexOf('+');
  const second = first < 0 ? -1 : line.indexOf('+', first + 1);
  if (first < 0 || second < 0) return bad('a verifier key is <name>+<key hash>+<key>');
  const [name, hash, key] = [
    line.slice(0, first),
    line.slice(first + 1, second),
    line.slice(second + 1)
  ];
  if (!isNoteName(name)) return bad('the key name is empty or has whitespace or controls');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(key, 'verifier key');
  } catch {
    return bad('the key is not standard base64');
  }
  if (bytes.length !== 33 || bytes[0] !== ED25519_TYPE) {
    return bad('the key is not an Ed25519 key (0x01 followed by 32 bytes)');
  }
  const publicKey = bytes.slice(1);
  if (!isUsablePublicKey(publicKey)) return bad('the key is not a usable Ed25519 public key');
  if (hash !== toHex(noteKeyHash(name, publicKey))) {
    return bad('the key hash does not match the name and key');
  }
  return { ok: true, name, publicKey };
}

/**
 * Formats and signs a checkpoint, returning the signed note. The signature is checked against
 * signer.publicKey before it is returned (Error if the signer used another key).
 */
export async function signCheckpoint(checkpoint: Checkpoint, signer: NoteSigner): Promise<string> {
  if (typeof signer !== 'object' || signer === null || typeof signer.sign !== 'function') {
    throw new TypeError('signer must be {name, publicKey, sign}');
  }
  assertSignerKey(signer.name, signer.publicKey);
  const body = formatCheckpoint(checkpoint);
  const message = utf8(body);
  const signature = await signer.sign(message);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new TypeError('signer.sign must resolve to a 64-byte Ed25519 signature');
  }
  if (!verifyStrict(signature, message, signer.publicKey)) {
    throw new Error('the signature does not verify under signer.publicKey (a different key?)');
  }
  const line = toBase64(concatBytes(noteKeyHash(signer.name, signer.publicKey), signature));
  return `${body}\n${SIGNATURE_PREFIX}${signer.name} ${line}\n`;
}

/** Splits a signed note into body, checkpoint and signature lines. Verifies nothing. */
export function parseSignedCheckpoint(text: string): ParsedCheckpointResult {
  const note = parseNote(text);
  if (!note.ok) return note;
  const checkpoint = parseCheckpointBody(note.body);
  if (!checkpoint.ok) return checkpoint;
  return { ok: true, body: note.body, checkpoint: checkpoint.checkpoint, signatures: note.lines };
}

/**
 * Verifies a signed checkpoint against a trusted key. Reasons: `audit.note-key` (the given key is
 * unusable), `audit.note-malformed`, `audit.note-unknown-key` (no signature line for this key and
 * name), `audit.note-signature` (a line for this key whose signature does not verify),
 * `audit.checkpoint-malformed` (the body), `audit.checkpoint-origin` (not the expected origin).
 */
export function verifySignedCheckpoint(
  text: string,
  verifier: CheckpointVerifier
): CheckpointVerification {
  const { publicKey, name, origin } = verifier;
  if (!isUsablePublicKey(publicKey)) {
    return fail('audit.note-key', 'the verifier key is not a usable Ed25519 public key');
  }
  const note = parseNote(text);
  if (!note.ok) return note;
  const message = utf8(note.body);
  let signer: string | null = null;
  for (const line of note.lines) {
    if (name !== undefined && line.name !== name) continue;
    if (line.keyHash !== toHex(noteKeyHash(line.name, publicKey))) continue;
    if (!verifyStrict(line.signature, message, publicKey)) {
      return fail(
        'audit.note-signature',
        `the signature by "${line.name}" does not verify: the checkpoint was altered or forged`
      );
    }
    signer = line.name;
  }
  if (signer === null) {
    const names = note.lines.map((line) => `"${line.name}"`).join(', ');
    return fail(
      'audit.note-unknown-key',
      `no signature by the trusted key${name === undefined ? '' : ` named "${name}"`}` +
        ` (the note is signed by ${names})`
    );
  }
  const body = parseCheckpointBody(note.body);
  if (!body.ok) return body;
  if (origin !== undefined && body.checkpoint.origin !== origin) {
    return fail(
      'audit.checkpoint-origin',
      `the checkpoint is for "${body.checkpoint.origin}", not "${origin}"`
    );
  }
  return { ok: true, checkpoint: body.checkpoint, signer };
}

/** Reads a checkpoint body (the three lines). */
export function parseCheckpointBody(
  body: string
): { ok: true; checkpoint: Checkpoint } | { ok: false; reason: Reason } {
  const bad = (why: string) => fail('audit.checkpoint-malformed', why);
  if (typeof body !== 'string' || !body.endsWith('\n')) {
    return bad('a checkpoint body ends with a newline');
  }
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) return bad('a checkpoint body has three lines: origin, size, root');
  if (lines.length > 3) return bad('the checkpoint has extension lines; Night Core writes none');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!isNoteName(origin)) return bad('the origin is empty or has whitespace, + or controls');
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(sizeText) || !isCount(Number(sizeText))) {
    return bad(`the tree size "${sizeText.slice(0, 40)}" is not a decimal integer`);
  }
  let root: Uint8Array;
  try {
    root = fromBase64(rootText, 'root hash');
  } catch (error) {
    return bad(error instanceof DecodeError ? error.message : 'the root hash is not base64');
  }
  if (root.length !== 32) return bad(`the root hash is ${root.length} bytes, not 32`);
  return { ok: true, checkpoint: { origin, size: Number(sizeText), root } };
}

type NoteResult =
  { ok: true; body: string; lines: NoteSignatureLine[] } | { ok: false; reason: Reason };

function parseNote(text: string): NoteResult {
  const bad = (why: string) => fail('audit.note-malformed', why);
  if (typeof text !== 'string') return bad('the note is not text');
  if (text.length > MAX_NOTE_LENGTH) return bad(`the note is over ${MAX_NOTE_LENGTH} characters`);
  if (/[\u0000-\u0009\u000b-\u001f\u007f\uD800-\uDFFF]/u.test(text)) {
    return bad('the note has control characters other than newline');
  }
  const split = text.lastIndexOf('\n\n');
  if (split < 0) return bad('no blank line separates the text from the signatures');
  const body = text.slice(0, split + 1);
  const signatures = text.slice(split + 2);
  if (signatures === '' || !signatures.endsWith('\n')) {
    return bad('the signature lines are missing or do not end with a newline (truncated?)');
  }
  const lines: NoteSignatureLine[] = [];
  for (const line of signatures.slice(0, -1).split('\n')) {
    if (lines.length >= MAX_SIGNATURES) return bad(`more than ${MAX_SIGNATURES} signatures`);
    if (!line.startsWith(SIGNATURE_PREFIX))
      return bad('a signature line must start with "\u2014 "');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? '' : rest.slice(0, space);
    if (!isNoteName(name)) return bad('a signature line has no valid key name');
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(rest.slice(space + 1), 'signature');
    } catch {
      return bad(`the signature by "${name}" is not standard base64`);
    }
    if (bytes.length < 5) return bad(`the signature by "${name}" is too short`);
    lines.push({ name, keyHash: toHex(bytes.subarray(0, 4)), signature: bytes.slice(4) });
  }
  return { ok: true, body, lines };
}

function assertSignerKey(name: string, publicKey: Uint8Array): void {
  if (!isNoteName(name)) throw new TypeError('key name: non-empty, no whitespace, + or controls');
  if (!isUsablePublicKey(publicKey)) {
    throw new TypeError('publicKey must be a usable 32-byte Ed25519 public key');
  }
}

function fail(code: `audit.${string}`, message: string): { ok: false; reason: Reason } {
  return { ok: false, reason: reason(code, message) };
}
