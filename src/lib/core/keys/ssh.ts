/**
 * OpenSSH public keys: the `ssh-ed25519 AAAA… comment` line (authorized_keys / .pub style, one or
 * more lines) and the allowed_signers file that `ssh-keygen -Y verify` reads (ssh-keygen(1),
 * "ALLOWED SIGNERS"). The base64 part is the SSH wire blob (RFC 8709): string "ssh-ed25519", then
 * a string holding the 32-byte key; it is checked exactly, with nothing after it.
 */
import { DecodeError, concatBytes, fromBase64, toBase64, utf8 } from '../bytes';
import { sha256 } from '../digest';
import { reason } from '../verdict';
import type { Reason } from '../verdict';
import { assertBytes, assertOneLine, at, quote } from './types';
import type { FoundKey, FoundKeys } from './types';

export const SSH_ED25519 = 'ssh-ed25519';

/** Key type names OpenSSH writes in front of a key: recognized so we can refuse them by name. */
const SSH_KEY_TYPE_RE =
  /^(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|(?:sk-|x509v3-)[a-z0-9-]+(?:@openssh\.com)?|[a-z0-9-]+-cert-v01@openssh\.com)$/;

export function looksLikeSshKeyType(token: string): boolean {
  return SSH_KEY_TYPE_RE.test(token);
}

/** The SSH wire encoding of an Ed25519 public key (51 bytes). */
export function encodeSshBlob(publicKey: Uint8Array): Uint8Array {
  assertBytes(publicKey, 32, 'publicKey');
  return concatBytes(sshString(utf8(SSH_ED25519)), sshString(publicKey));
}

/** `SHA256:<unpadded base64 of sha256(wire blob)>`, as `ssh-keygen -l` prints it. */
export async function sshFingerprint(publicKey: Uint8Array): Promise<string> {
  const digest = await sha256(encodeSshBlob(publicKey));
  return `SHA256:${toBase64(digest).replace(/=+$/, '')}`;
}

/** `ssh-ed25519 <base64 blob>[ comment]\n`, the .pub line ssh-keygen writes. */
export function encodeSshPublicKey(publicKey: Uint8Array, comment?: string): string {
  assertBytes(publicKey, 32, 'publicKey');
  const tail = comment === undefined ? '' : assertOneLine(comment, 'comment').trim();
  const line = `${SSH_ED25519} ${toBase64(encodeSshBlob(publicKey))}`;
  return tail ? `${line} ${tail}\n` : `${line}\n`;
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

type BlobResult = { ok: true; publicKey: Uint8Array } | { ok: false; reason: Reason };

/** Parses an ssh-ed25519 wire blob exactly: two strings, the second 32 bytes, nothing after. */
export function parseSshBlob(blob: Uint8Array, where?: string): BlobResult {
  const fail = (code: `key.${string}`, message: string): BlobResult => ({
    ok: false,
    reason: reason(code, at(where, message))
  });
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let offset = 0;
  const readString = (): Uint8Array | null => {
    if (offset + 4 > blob.length) return null;
    const length = view.getUint32(offset);
    if (length > blob.length - offset - 4) return null;
    const bytes = blob.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return bytes;
  };
  const type = readString();
  if (type === null) return fail('key.ssh-blob', 'the SSH key blob is truncated (no key type)');
  const typeName = String.fromCharCode(...type.subarray(0, 64));
  if (typeName !== SSH_ED25519 || type.length !== SSH_ED25519.length) {
    return looksLikeSshKeyType(typeName)
      ? fail('key.unsupported-type', unsupportedSshType(typeName))
      : fail('key.ssh-blob', `the SSH key blob names the key type ${quote(typeName)}`);
  }
  const key = readString();
  if (key === null) return fail('key.ssh-blob', 'the SSH key blob is truncated (no key bytes)');
  if (key.length !== 32) {
    return fail('key.ssh-blob', `the SSH key blob holds a ${key.length}-byte key, not 32 bytes`);
  }
  if (offset !== blob.length) {
    return fail(
      'key.trailing-data',
      `the SSH key blob has ${blob.length - offset} byte(s) after the 32-byte key`
    );
  }
  return { ok: true, publicKey: key };
}

export function unsupportedSshType(type: string): string {
  const what = type.includes('-cert-')
    ? 'OpenSSH certificates'
    : type.startsWith('sk-')
      ? 'security-key (FIDO) keys'
      : 'these keys';
  return `${quote(type)} keys are not supported (${what}): Night Core accepts Ed25519 keys only (ssh-keygen -t ed25519)`;
}

/** `<type> <base64> [comment]`: parses one key after any allowed_signers fields are removed. */
function parseKeyFields(text: string, where?: string): FoundKeys {
  const match = /^(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(.*))?$/.exec(text.trim());
  const [, type = '', body, rest] = match ?? [];
  const fail = (code: `key.${string}`, message: string): FoundKeys => ({
    ok: false,
    reason: reason(code, at(where, message))
  });
  if (type !== SSH_ED25519) {
    return looksLikeSshKeyType(type)
      ? fail('key.unsupported-type', unsupportedSshType(type))
      : fail(
          'key.format-unknown',
          `expected an SSH key type such as ssh-ed25519, found ${quote(type)}`
        );
  }
  if (body === undefined) {
    return fail('key.ssh-blob', 'the ssh-ed25519 line has no key after the type');
  }
  let blob: Uint8Array;
  try {
    blob = fromBase64(body, 'SSH key');
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return fail('key.base64', `the ssh-ed25519 key is not valid base64 (${error.message})`);
  }
  const parsed = parseSshBlob(blob, where);
  if (!parsed.ok) return parsed;
  const comment = rest?.trim();
  const key: FoundKey = { publicKey: parsed.publicKey, format: 'ssh' };
  if (comment) key.comment = comment;
  if (where) key.where = where;
  return { ok: true, keys: [key] };
}

interface Line {
  number: number;
  text: string;
}

/** Lines that hold something: not blank, not a `#` comment. */
export function contentLines(text: string): Line[] {
  return text
    .split('\n')
    .map((line, index) => ({ number: index + 1, text: line }))
    .filter(({ text: line }) => {
      const trimmed = line.trim();
      return trimmed !== '' && !trimmed.startsWith('#');
    });
}

/** One or more `ssh-ed25519 AAAA… comment` lines (a .pub file, or authorized_keys without options). */
export function parseSshLines(text: string): FoundKeys {
  const lines = contentLines(text);
  const keys: FoundKey[] = [];
  for (const line of lines) {
    const where = lines.length > 1 ? `line ${line.number}` : undefined;
    const found = parseKeyFields(line.text, where);
    if (!found.ok) return found;
    keys.push(...found.keys);
  }
  return { ok: true, keys };
}

/** Reads a token that may hold "quoted" parts; it ends at the first unquoted blank. */
function readQuotedToken(text: string): { token: string; rest: string } | null {
  let inQuotes = false;
  let index = 0;
  for (; index < text.length; index++) {
    const char = text[index];
    if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (char === ' ' || char === '\t')) break;
  }
  if (inQuotes) return null;
  return { token: text.slice(0, index), rest: text.slice(index).replace(/^[ \t]+/, '') };
}

function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  for (const char of text) {
    if (char === '"') inQuotes = !inQuotes;
    if (char === ',' && !inQuotes) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

const TIMESTAMP_RE = /^\d{8}(?:\d{4}(?:\d{2})?)?Z?$/i;

/**
 * An allowed_signers file: per line `principals [options] keytype base64 [comment]`, with `#`
 * comments and blank lines. Options: namespaces="…", valid-after="…", valid-before="…" (carried on
 * the key); cert-authority is refused (it trusts certificates the key signs, which Night Core
 * does not verify, never signatures by the key itself). Any bad line fails the whole file.
 */
export function parseAllowedSigners(text: string): FoundKeys {
  const keys: FoundKey[] = [];
  for (const line of contentLines(text)) {
    const where = `allowed_signers line ${line.number}`;
    const fail = (code: `key.${string}`, message: string): FoundKeys => ({
      ok: false,
      reason: reason(code, at(where, message))
    });
    const first = readQuotedToken(line.text.trim());
    if (!first) return fail('key.allowed-signers', 'the principals have an unclosed quote');
    const principals = first.token.replace(/^"(.*)"$/, '$1').split(',');
    if (principals.some((principal) => principal === '' || principal.includes('"'))) {
      return fail('key.allowed-signers', `bad principals list ${quote(first.token)}`);
    }
    let rest = first.rest;
    const key: Partial<FoundKey> = { principals };
    const next = /^\S*/.exec(rest)?.[0] ?? '';
    if (next === '') return fail('key.allowed-signers', 'the line has principals but no key');
    if (!looksLikeSshKeyType(next)) {
      const options = readQuotedToken(rest);
      if (!options) return fail('key.allowed-signers', 'the options have an unclosed quote');
      rest = options.rest;
      for (const option of splitOutsideQuotes(options.token)) {
        const problem = applyOption(option, key);
        if (problem) return fail(problem.code, problem.message);
      }
    }
    if (rest === '') return fail('key.allowed-signers', 'the line has no key after its options');
    const found = parseKeyFields(rest, where);
    if (!found.ok) return found;
    for (const parsed of found.keys) keys.push({ ...key, ...parsed, format: 'allowed-signers' });
  }
  if (keys.length === 0) {
    return { ok: false, reason: reason('key.empty', 'the allowed_signers file lists no keys') };
  }
  return { ok: true, keys };
}

/** Applies one allowed_signers option to `key`; returns what is wrong with it, if anything. */
function applyOption(
  option: string,
  key: Partial<FoundKey>
): { code: `key.${string}`; message: string } | null {
  const match = /^([a-z-]+)(?:="([^"]*)")?$/i.exec(option);
  const name = match?.[1]?.toLowerCase();
  const value = match?.[2];
  if (name === 'cert-authority' && value === undefined) {
    return {
      code: 'key.unsupported-option',
      message:
        'cert-authority lines trust SSH certificates signed by the key, which Night Core does not support; remove the line or import the signer key itself'
    };
  }
  if (name === 'namespaces' && value !== undefined && key.namespaces === undefined) {
    const namespaces = value.split(',');
    if (namespaces.every((namespace) => namespace !== '')) {
      key.namespaces = namespaces;
      return null;
    }
  }
  for (const [optionName, field] of [
    ['valid-after', 'validAfter'],
    ['valid-before', 'validBefore']
  ] as const) {
    if (name === optionName && value !== undefined && key[field] === undefined) {
      if (!TIMESTAMP_RE.test(value)) {
        return {
          code: 'key.allowed-signers',
          message: `${optionName} ${quote(value)} is not a YYYYMMDD[HHMM[SS]][Z] time`
        };
      }
      key[field] = value;
      return null;
    }
  }
  return {
    code: 'key.allowed-signers',
    message: `unknown, repeated or malformed option ${quote(option)}`
  };
}
