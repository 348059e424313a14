/**
 * signify (OpenBSD) detached signatures. A .sig file is two lines:
 *   untrusted comment: <text>
 *   base64("Ed" || keynum(8) || Ed25519 signature over the raw message (64))
 *
 * The text rules (strict UTF-8, LF or CRLF, nothing extra) are minisign's too: see common.ts.
 */
import { concatBytes, toBase64, utf8 } from '../bytes';
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

/** signify's COMMENTMAXLEN (the comment line, prefix included, must stay under it). */
export const SIGNIFY_COMMENT_MAX_BYTES = 1024;

const SIGNIFY_ALG = 'Ed';
const SIGNIFY_SIG_LENGTH = 2 + KEY_NUMBER_LENGTH + 64;

export interface SignifySignature {
  untrustedComment: string;
  keyNumber: Uint8Array;
  signature: Uint8Array;
}

export type SignifyParse = { ok: true; value: SignifySignature } | { ok: false; reasons: Reason[] };

/** Parses a signify .sig file strictly (text rules: common.ts, signatureLines). */
export function parseSignify(bytes: Uint8Array): SignifyParse {
  const fail = (code: `signify.${string}`, message: string): SignifyParse => ({
    ok: false,
    reasons: [reason(code, message)]
  });
  const split = signatureLines(bytes);
  if (!split.ok) return fail('signify.lines', `Not a signify signature file: ${split.problem}.`);
  const [comment, sigLine, ...extra] = split.lines;
  if (comment === undefined || sigLine === undefined || extra.length > 0) {
    return fail(
      'signify.lines',
      `A signify signature file has exactly 2 lines (comment, signature); this one has ${split.lines.length}.`
    );
  }
  if (!comment.startsWith(UNTRUSTED_COMMENT_PREFIX)) {
    return fail(
      'signify.comment-prefix',
      `The first line must start with "${UNTRUSTED_COMMENT_PREFIX}".`
    );
  }
  const field = base64Field(sigLine, SIGNIFY_SIG_LENGTH, 'signify signature line');
  if (!field.ok)
    return fail(`signify.${field.code}`, `The signature line is unusable: ${field.problem}.`);
  const alg = String.fromCharCode(field.bytes[0]!, field.bytes[1]!);
  if (alg !== SIGNIFY_ALG) {
    return fail(
      'signify.algorithm',
      `The signature algorithm is ${JSON.stringify(alg)}; signify signatures use "Ed".`
    );
  }
  return {
    ok: true,
    value: {
      untrustedComment: comment.slice(UNTRUSTED_COMMENT_PREFIX.length),
      keyNumber: field.bytes.slice(2, 2 + KEY_NUMBER_LENGTH),
      signature: field.bytes.slice(2 + KEY_NUMBER_LENGTH)
    }
  };
}

/** Verifies a signify .sig over the raw message against the pinned keys. */
export async function verifySignify(
  signature: Uint8Array,
  message: Uint8Array,
  keys: readonly TrustedKey[]
): Promise<DetachedVerification> {
  const problem = inputProblem(signature, message, keys);
  if (problem) return detachedResult('signify', [], [problem], []);
  const parsed = parseSignify(signature);
  if (!parsed.ok) return detachedResult('signify', [], parsed.reasons, []);
  const { keyNumber, signature: sig, untrustedComment } = parsed.value;
  const outcome = verifyByKeyNumber('signify', keyNumber, keys, (key) =>
    verifyStrict(sig, message, key.publicKey)
  );
  return detachedResult(
    'signify',
    outcome.signers,
    outcome.reasons,
    [...outcome.notes, untrustedCommentNote('signify', untrustedComment)],
    { untrustedComment }
  );
}

/** Signs like `signify -S`: the returned text is a .sig file signify -V accepts. */
export async function signSignify(
  message: Uint8Array,
  seed: Uint8Array,
  keyNumber: Uint8Array | string,
  comment = 'verify with nightcore.pub'
): Promise<string> {
  if (!(message instanceof Uint8Array)) throw new TypeError('message: expected Uint8Array');
  checkSeed(seed);
  const number = keyNumberBytes(keyNumber);
  checkComment(comment, SIGNIFY_COMMENT_MAX_BYTES - UNTRUSTED_COMMENT_PREFIX.length - 2, 'comment');
  const sig = sign(message, seed);
  const body = toBase64(concatBytes(utf8(SIGNIFY_ALG), number, sig));
  return `${UNTRUSTED_COMMENT_PREFIX}${comment}\n${body}\n`;
}
