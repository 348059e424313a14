/**
 * PEM (RFC 7468) and the two DER structures Night Core reads and writes: an Ed25519
 * SubjectPublicKeyInfo (RFC 8410: 302a300506032b6570032100 || key, 44 bytes) and an Ed25519 PKCS#8
 * private key (302e020100300506032b657004220420 || seed, 48 bytes). Both are matched byte for byte;
 * a small DER reader only finds the algorithm of anything else, to name it in the reason.
 */
import { DecodeError, bytesEqual, concatBytes, fromBase64, fromHex, toBase64 } from '../bytes';
import { reason } from '../verdict';
import type { Reason } from '../verdict';
import { assertBytes, quote } from './types';
import type { FoundKeys } from './types';

const SPKI_PREFIX = fromHex('302a300506032b6570032100');
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
const ED25519_OID = '1.3.101.112';

const ALGORITHM_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.10045.2.1': 'ECDSA (EC)',
  '1.2.840.10040.4.1': 'DSA',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.113': 'Ed448'
};

type Failure = { ok: false; reason: Reason };
type Armor = { ok: true; label: string; der: Uint8Array } | Failure;

const BEGIN_RE = /^-----BEGIN ([A-Z0-9 ]+)-----$/;

/** Whether text starts like a PEM block. */
export function looksLikePem(text: string): boolean {
  return text.startsWith('-----BEGIN ');
}

/**
 * Reads exactly one PEM block: BEGIN line, base64 lines (no headers), END line with the same
 * label, then nothing but blank space.
 */
export function parsePem(text: string): Armor {
  const fail = (code: `key.${string}`, message: string): Failure => ({
    ok: false,
    reason: reason(code, message)
  });
  const lines = text
    .trim()
    .split('\n')
    .map((line) => line.trim());
  const label = BEGIN_RE.exec(lines[0] ?? '')?.[1];
  if (label === undefined) return fail('key.armor', 'the PEM BEGIN line is malformed');
  const end = lines.indexOf(`-----END ${label}-----`);
  if (end < 0) return fail('key.armor', `the PEM block has no "-----END ${label}-----" line`);
  if (end !== lines.length - 1) {
    return fail('key.trailing-data', 'there is more text after the PEM END line');
  }
  const body = lines.slice(1, end);
  if (body.some((line) => line.includes(':'))) {
    return fail(
      'key.armor',
      'the PEM block has headers (encrypted or legacy PEM is not supported)'
    );
  }
  try {
    return { ok: true, label, der: fromBase64(body.join(''), 'PEM body') };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return fail('key.base64', `the PEM body is not valid base64 (${error.message})`);
  }
}

/** Wraps DER in PEM armor with 64-character lines. */
function toPem(label: string, der: Uint8Array): string {
  const body = toBase64(der).replace(/.{64}(?=.)/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** The algorithm OID of a SubjectPublicKeyInfo or a PKCS#8 PrivateKeyInfo, or null. */
export function algorithmOf(der: Uint8Array, kind: 'spki' | 'pkcs8'): string | null {
  const outer = readTlv(der, 0);
  if (!outer || outer.tag !== 0x30) return null;
  let offset = outer.start;
  if (kind === 'pkcs8') {
    const version = readTlv(der, offset);
    if (!version || version.tag !== 0x02) return null;
    offset = version.end;
  }
  const algorithm = readTlv(der, offset);
  if (!algorithm || algorithm.tag !== 0x30) return null;
  const oid = readTlv(der, algorithm.start);
  if (!oid || oid.tag !== 0x06 || oid.end > algorithm.end) return null;
  return decodeOid(der.subarray(oid.start, oid.end));
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** One DER tag-length-value at `offset` (definite lengths up to 2^24), or null if malformed. */
function readTlv(der: Uint8Array, offset: number): Tlv | null {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined) return null;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) return null;
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[start + i];
      if (byte === undefined) return null;
      length = length * 256 + byte;
    }
    start += count;
  }
  const end = start + length;
  return end > der.length ? null : { tag, start, end };
}

function decodeOid(bytes: Uint8Array): string | null {
  const first = bytes[0];
  if (first === undefined) return null;
  const top = Math.min(2, Math.floor(first / 40));
  const arcs = [top, first - 40 * top];
  let value = 0;
  for (const byte of bytes.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) return null;
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

function algorithmName(oid: string): string {
  return ALGORITHM_NAMES[oid] ?? `algorithm ${oid}`;
}

/** An Ed25519 SubjectPublicKeyInfo in DER, matched exactly. */
export function parseSpkiDer(der: Uint8Array): FoundKeys {
  if (der.length === SPKI_PREFIX.length + 32 && bytesEqual(der.subarray(0, 12), SPKI_PREFIX)) {
    return { ok: true, keys: [{ publicKey: der.subarray(12), format: 'pem-spki' }] };
  }
  return { ok: false, reason: derRefusal(der, 'spki') };
}

const PRIVATE_LABELS = /PRIVATE KEY$/;

/** A PEM public key block: `PUBLIC KEY` (SPKI); other labels are refused by name. */
export function parsePemPublicKey(text: string): FoundKeys {
  const armor = parsePem(text);
  if (!armor.ok) return armor;
  if (armor.label === 'PUBLIC KEY') return parseSpkiDer(armor.der);
  if (armor.label === 'RSA PUBLIC KEY') {
    return {
      ok: false,
      reason: reason(
        'key.unsupported-type',
        'this is an RSA public key (PKCS#1): Night Core accepts Ed25519 keys only'
      )
    };
  }
  if (PRIVATE_LABELS.test(armor.label)) {
    return {
      ok: false,
      reason: reason(
        'key.private-key',
        `this is a private key (${armor.label}): import its public key instead (openssl pkey -pubout, ssh-keygen -y), and keep this file private`
      )
    };
  }
  return {
    ok: false,
    reason: reason('key.armor', `a PEM block labelled ${quote(armor.label)} is not a public key`)
  };
}

/** `-----BEGIN PUBLIC KEY-----` around the Ed25519 SPKI, as `openssl pkey -pubout` writes it. */
export function encodePemSpki(publicKey: Uint8Array): string {
  assertBytes(publicKey, 32, 'publicKey');
  return toPem('PUBLIC KEY', concatBytes(SPKI_PREFIX, publicKey));
}

/**
 * An unencrypted PKCS#8 Ed25519 private key (`-----BEGIN PRIVATE KEY-----`), as
 * `openssl genpkey -algorithm ed25519` writes it. The caller owns keeping it secret.
 */
export function encodePkcs8PrivateKeyPem(seed: Uint8Array): string {
  assertBytes(seed, 32, 'seed');
  return toPem('PRIVATE KEY', concatBytes(PKCS8_PREFIX, seed));
}

export type Pkcs8Result = { ok: true; seed: Uint8Array } | { ok: false; reason: Reason };

/** Reads an unencrypted PKCS#8 Ed25519 private key in PEM; the DER must match exactly. */
export function parsePkcs8PrivateKeyPem(text: string): Pkcs8Result {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const armor = parsePem(text.replace(/\r\n?/g, '\n'));
  if (!armor.ok) return armor;
  if (armor.label === 'ENCRYPTED PRIVATE KEY') {
    return {
      ok: false,
      reason: reason(
        'key.encrypted',
        'the private key is encrypted: decrypt it first (openssl pkey -in key.pem -out plain.pem)'
      )
    };
  }
  if (armor.label !== 'PRIVATE KEY') {
    return {
      ok: false,
      reason: reason(
        'key.armor',
        `expected "-----BEGIN PRIVATE KEY-----" (PKCS#8), found ${quote(armor.label)}`
      )
    };
  }
  const der = armor.der;
  if (der.length === PKCS8_PREFIX.length + 32 && bytesEqual(der.subarray(0, 16), PKCS8_PREFIX)) {
    return { ok: true, seed: der.slice(16) };
  }
  return { ok: false, reason: derRefusal(der, 'pkcs8') };
}

/** Why DER that is not our exact Ed25519 encoding is refused: another algorithm, or malformed. */
function derRefusal(der: Uint8Array, kind: 'spki' | 'pkcs8'): Reason {
  const oid = algorithmOf(der, kind);
  if (oid !== null && oid !== ED25519_OID) {
    return reason(
      'key.unsupported-type',
      kind === 'spki'
        ? `this is a ${algorithmName(oid)} public key: Night Core accepts Ed25519 keys only`
        : `this is a ${algorithmName(oid)} private key: Night Core signs with Ed25519 only`
    );
  }
  return reason(
    'key.der',
    kind === 'spki'
      ? 'the public key is not the exact DER encoding of an Ed25519 SubjectPublicKeyInfo (RFC 8410)'
      : 'the private key is not the exact DER encoding of an Ed25519 PKCS#8 v1 key (RFC 8410)'
  );
}
