/**
 * minisign detached signatures (.minisig), both algorithms:
 *   `ED` Ed25519 over BLAKE2b-512(message) (the default since minisign 0.8, "prehashed")
 *   `Ed` Ed25519 over the message itself (legacy, `minisign -S -l`)
 *
 * The file is four lines (text rules as in common.ts, signatureLines):
 *   untrusted comment: <text>                      covered by nothing; shown as untrusted
 *   base64(alg(2) || keynum(8) || sig(64))
 *   trusted comment: <text>
 *   base64(global_sig(64))                         Ed25519 over sig(64) || trusted comment bytes
 * Both signatures must verify under the same pinned key; an altered trusted comment is refused.
 */
import { concatBytes, toBase64, utf8 } from '../bytes';
import { blake2b512, blake2bReady } from '../digest';
import { sign, verifyStrict } from '../ed25519';
import { reason, type DetachedVerification, type Reason, type TrustedKey } from '../verdict';
import {
  base64Field,
  checkComment,
  checkSeed,
  detachedResult,
  inputProblem,
  KEY_NUMBER_LENGTH,
  keyNumberBytes,
  signatureLines,
  UNTRUSTED_COMMENT_PREFIX,
  untrustedCommentNote,
  verifyByKeyNumber
} from './common';

export const TRUSTED_COMMENT_PREFIX = 'trusted comment: ';
/** minisign's COMMENTMAXBYTES and TRUSTEDCOMMENTMAXBYTES (whole line, prefix and newline in). */
export const MINISIGN_COMMENT_MAX_BYTES = 1024;
export const MINISIGN_TRUSTED_COMMENT_MAX_BYTES = 8192;

const SIG_LENGTH = 2 + KEY_NUMBER_LENGTH + 64;

export type MinisignAlgorithm = 'ED' | 'Ed';

export interface MinisignSignature {
  algorithm: MinisignAlgorithm;
  keyNumber: Uint8Array;
  signature: Uint8Array;
  untrustedComment: string;
  trustedComment: string;
  /** The trusted comment exactly as the global signature covers it. */
  trustedCommentBytes: Uint8Array;
  globalSignature: Uint8Array;
}

export type MinisignParse =
  { ok: true; value: MinisignSignature } | { ok: false; reasons: Reason[] };

/** Parses a .minisig file strictly. Never throws. */
export function parseMinisign(bytes: Uint8Array): MinisignParse {
  const fail = (code: `minisign.${string}`, message: string): MinisignParse => ({
    ok: false,
    reasons: [reason(code, message)]
  });
  const split = signatureLines(bytes);
  if (!split.ok) return fail('minisign.lines', `Not a minisign signature file: ${split.problem}.`);
  const [untrusted, sigLine, trusted, globalLine, ...extra] = split.lines;
  if (
    untrusted === undefined ||
    sigLine === undefined ||
    trusted === undefined ||
    globalLine === undefined ||
    extra.length > 0
  ) {
    return fail(
      'minisign.lines',
      'A minisign signature file has exactly 4 lines (untrusted comment, signature, trusted ' +
        `comment, global signature); this one has ${split.lines.length}.`
    );
  }
  if (!untrusted.startsWith(UNTRUSTED_COMMENT_PREFIX)) {
    return fail(
      'minisign.untrusted-comment-prefix',
      `The first line must start with "${UNTRUSTED_COMMENT_PREFIX}".`
    );
  }
  if (!trusted.startsWith(TRUSTED_COMMENT_PREFIX)) {
    return fail(
      'minisign.trusted-comment-prefix',
      `The third line must start with "${TRUSTED_COMMENT_PREFIX}".`
    );
  }
  const sig = base64Field(sigLine, SIG_LENGTH, 'minisign signature line');
  if (!sig.ok) {
    return fail(`minisign.${sig.code}`, `The signature line is unusable: ${sig.problem}.`);
  }
  const global = base64Field(globalLine, 64, 'minisign global signature line');
  if (!global.ok) {
    return fail(
      `minisign.${global.code}`,
      `The global signature line is unusable: ${global.problem}.`
    );
  }
  const algorithm = String.fromCharCode(sig.bytes[0]!, sig.bytes[1]!);
  if (algorithm !== 'ED' && algorithm !== 'Ed') {
    return fail(
      'minisign.algorithm',
      `The signature algorithm is ${JSON.stringify(algorithm)}; minisign uses "ED" ` +
        '(BLAKE2b-512 prehash) or the legacy "Ed".'
    );
  }
  const trustedComment = trusted.slice(TRUSTED_COMMENT_PREFIX.length);
  return {
    ok: true,
    value: {
      algorithm,
      keyNumber: sig.bytes.slice(2, 2 + KEY_NUMBER_LENGTH),
      signature: sig.bytes.slice(2 + KEY_NUMBER_LENGTH),
      untrustedComment: untrusted.slice(UNTRUSTED_COMMENT_PREFIX.length),
      trustedComment,
      trustedCommentBytes: utf8(trustedComment),
      globalSignature: global.bytes
    }
  };
}

/**
 * Verifies a .minisig against the pinned keys: the signature over the module (prehashed or
 * legacy) and the global signature over the trusted comment, both under the same key.
 */
export async function verifyMinisign(
  signature: Uint8Array,
  message: Uint8Array,
  keys: readonly TrustedKey[]
): Promise<DetachedVerification> {
  const problem = inputProblem(signature, message, keys);
  if (problem) return detachedResult('minisign', [], [problem], []);
  const parsed = parseMinisign(signature);
  if (!parsed.ok) return detachedResult('minisign', [], parsed.reasons, []);
  const sig = parsed.value;
  if (sig.algorithm === 'ED') await blake2bReady();
  const signed = sig.algorithm === 'ED' ? blake2b512(message) : message;
  const globalMessage = concatBytes(sig.signature, sig.trustedCommentBytes);
  const outcome = verifyByKeyNumber('minisign', sig.keyNumber, keys, (key) => {
    if (!verifyStrict(sig.signature, signed, key.publicKey)) return false;
    if (verifyStrict(sig.globalSignature, globalMessage, key.publicKey)) return true;
    return reason(
      'minisign.trusted-comment',
      'The module signature verifies, but the global signature over the trusted comment does ' +
        'not: the trusted comment (or the global signature) was changed after signing.'
    );
  });
  const notes = [...outcome.notes];
  if (sig.algorithm === 'Ed') {
    notes.push(
      reason(
        'minisign.legacy',
        'Legacy minisign signature ("Ed": the module itself is signed, not its BLAKE2b-512 hash).'
      )
    );
  }
  notes.push(untrustedCommentNote('minisign', sig.untrustedComment));
  const comments: { trustedComment?: string; untrustedComment: string } = {
    untrustedComment: sig.untrustedComment
  };
  // The trusted comment is only "trusted" once a pinned key's global signature covers it.
  if (outcome.signers.length > 0) comments.trustedComment = sig.trustedComment;
  return detachedResult('minisign', outcome.signers, outcome.reasons, notes, comments);
}

export interface MinisignSignOptions {
  /** Default: `timestamp:<unix seconds>`. One line, at most 8173 UTF-8 bytes. */
  trustedComment?: string;
  /** Default: `signature from nightcore secret key`. One line, at most 1003 UTF-8 bytes. */
  untrustedComment?: string;
  /** Sign the message itself (`Ed`) instead of its BLAKE2b-512 hash (`ED`). */
  legacy?: boolean;
}

/** Signs like `minisign -S`: the returned text is a .minisig file `minisign -V` accepts. */
export async function signMinisign(
  message: Uint8Array,
  seed: Uint8Array,
  keyNumber: Uint8Array | string,
  options: MinisignSignOptions = {}
): Promise<string> {
  if (!(message instanceof Uint8Array)) throw new TypeError('message: expected Uint8Array');
  checkSeed(seed);
  const number = keyNumberBytes(keyNumber);
  const legacy = options.legacy === true;
  const trusted = checkComment(
    options.trustedComment ?? `timestamp:${Math.floor(Date.now() / 1000)}`,
    MINISIGN_TRUSTED_COMMENT_MAX_BYTES - TRUSTED_COMMENT_PREFIX.length - 2,
    'trustedComment'
  );
  const untrusted = checkComment(
    options.untrustedComment ?? 'signature from nightcore secret key',
    MINISIGN_COMMENT_MAX_BYTES - UNTRUSTED_COMMENT_PREFIX.length - 2,
    'untrustedComment'
  );
  if (!legacy) await blake2bReady();
  const sig = sign(legacy ? message : blake2b512(message), seed);
  const global = sign(concatBytes(sig, utf8(trusted)), seed);
  const alg = utf8(legacy ? 'Ed' : 'ED');
  return (
    `${UNTRUSTED_COMMENT_PREFIX}${untrusted}\n${toBase64(concatBytes(alg, number, sig))}\n` +
    `${TRUSTED_COMMENT_PREFIX}${trusted}\n${toBase64(global)}\n`
  );
}

/** Whether bytes are probably a minisign file (used by detection; parsing decides). */
export function looksLikeMinisign(lines: readonly string[]): boolean {
  if (lines[2]?.startsWith(TRUSTED_COMMENT_PREFIX)) return true;
  const sig = lines[1] === undefined ? null : base64Field(lines[1], SIG_LENGTH, 'line');
  return sig !== null && sig.ok && sig.bytes[0] === 0x45 && sig.bytes[1] === 0x44;
}
