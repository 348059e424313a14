/**
 * Intake routing: what some dropped or named bytes look like, before verify() is asked. A guess
 * from magic numbers, a JSON marker and file extensions; it never decides trust.
 */
import { detectSignatureFormat } from './formats/detached';

export type DetectedInput = 'bundle' | 'wasm' | 'zip' | 'signature' | 'unknown';

const BUNDLE_MARKER = new TextEncoder().encode('"nightcoreBundle"');
const SIGNATURE_EXTENSIONS = ['.minisig', '.sig', '.sshsig'];

/**
 * What some bytes look like, to route them at intake: a wasm module (magic), a zip (local file
 * or empty-archive header), a bundle (a JSON object naming "nightcoreBundle" near the start, or
 * a `.ncb` file), a detached signature (any format formats/detached recognizes, or a signature
 * file extension). A guess only: verify() decides.
 */
export function detectInput(bytes: Uint8Array, name?: string): DetectedInput {
  if (!(bytes instanceof Uint8Array)) return 'unknown';
  const lower = typeof name === 'string' ? name.toLowerCase() : '';
  const startsWith = (...prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
  if (startsWith(0x00, 0x61, 0x73, 0x6d)) return 'wasm';
  if (startsWith(0x50, 0x4b, 0x03, 0x04) || startsWith(0x50, 0x4b, 0x05, 0x06)) return 'zip';
  let first = 0;
  while (first < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[first]!)) first++;
  if (bytes[first] === 0x7b) {
    const head = bytes.subarray(first, first + 64 * 1024);
    if (lower.endsWith('.ncb') || indexOf(head, BUNDLE_MARKER) >= 0) return 'bundle';
  }
  try {
    if (detectSignatureFormat(bytes) !== null) return 'signature';
  } catch {
    // A detector that throws has not recognized the bytes.
  }
  if (SIGNATURE_EXTENSIONS.some((ext) => lower.endsWith(ext))) return 'signature';
  return 'unknown';
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
