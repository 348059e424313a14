/**
 * Ed25519, strictly, in one place: every signature Night Core checks goes through verifyStrict.
 *
 * Strict means RFC 8032 / FIPS 186-5 encodings (@noble/ed25519 with zip215: false): S < L, public
 * key A and commitment R canonically encoded (y < p), and additionally A and R must not be of small
 * order. The identity-key "universal forgery" (A = identity, R = identity, S = 0) verifies every
 * message under the cofactored equation; rejecting small-order A and R is what stops it.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

// Synchronous SHA-512 so verification needs no WebCrypto round trip per signature.
ed.hashes.sha512 = sha512;

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const SECRET_KEY_LENGTH = 32;

/** Verifies an Ed25519 signature strictly. Returns false for every bad input; never throws. */
export function verifyStrict(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(message instanceof Uint8Array)) return false;
  if (!isUsablePublicKey(publicKey)) return false;
  try {
    const R = ed.Point.fromBytes(signature.subarray(0, 32), false);
    if (R.isSmallOrder()) return false;
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Whether 32 bytes are a public key we accept at all: a canonical encoding of a curve point that is
 * not of small order (a small-order key lets one signature verify for many messages).
 */
export function isUsablePublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  try {
    return !ed.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

/** Why a public key is unusable, as a sentence, or null when it is fine. */
export function publicKeyProblem(publicKey: Uint8Array): string | null {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    return `an Ed25519 public key is 32 bytes, this one is ${publicKey.length}`;
  }
  let point: ed.Point;
  try {
    point = ed.Point.fromBytes(publicKey, false);
  } catch {
    return 'the public key is not a canonical encoding of a point on the curve';
  }
  if (point.isSmallOrder())
    return 'the public key is a small-order point (it would accept forgeries)';
  return null;
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

export function publicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey);
}

/** A new random 32-byte Ed25519 secret key (seed), from the platform's CSPRNG. */
export function randomSecretKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SECRET_KEY_LENGTH));
}
