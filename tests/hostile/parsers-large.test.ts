/**
 * Bounded input, bounded time: every text parser gets large inputs made of the few characters
 * its grammar cares about, repeated up to (and past) its size cap. These are what backtracking
 * regular expressions, quadratic scans and deep recursion are made of. Each must answer within
 * the per-input bound (harness.ts, CASE_BOUND_MS) and without throwing.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { parseSignedCheckpoint, parseNoteVerifierKey } from '../../src/lib/core/audit/checkpoint';
import { verifyExport } from '../../src/lib/core/audit/export-verify';
import { stripAnsi } from '../../src/lib/core/ansi';
import { parseBundle } from '../../src/lib/core/bundle';
import { DecodeError, fromBase64, fromHex, utf8 } from '../../src/lib/core/bytes';
import { detectSignatureFormat } from '../../src/lib/core/formats/detached';
import { parseMinisign } from '../../src/lib/core/formats/minisign';
import { parseRawSignature } from '../../src/lib/core/formats/raw';
import { parseSignify } from '../../src/lib/core/formats/signify';
import { parseSshsig } from '../../src/lib/core/formats/sshsig';
import { decodePaste } from '../../src/lib/core/intake';
import { parseJson } from '../../src/lib/core/json';
import { parsePrivateKey, parsePublicKeys } from '../../src/lib/core/keys';
import { parseManifest } from '../../src/lib/core/manifest';
import { parsePolicy } from '../../src/lib/core/policy/document';
import { parseSignedReceipt } from '../../src/lib/core/receipt';
import { attempt, attemptAsync, params, property, reportCounts } from './harness';

reportCounts(import.meta.url);

/** Pieces each grammar reacts to: quotes, brackets, separators, prefixes, base64, spaces. */
const PIECES = [
  '[',
  '{"a":',
  '"',
  '\\',
  '\\u00',
  ' ',
  '\n',
  '\r\n',
  '\t',
  'A',
  '=',
  '+',
  '0',
  'ssh-ed25519 ',
  'untrusted comment: ',
  'trusted comment: ',
  '-----BEGIN ',
  '-----BEGIN SSH SIGNATURE-----\n',
  'namespaces="',
  ',',
  '\u2014 ',
  '\u001b[',
  '\u001b]',
  'a\u0000',
  '\uD800'
];

/** A large input: a prefix, then one or two pieces repeated to up to `max` characters. */
const large = (max: number) =>
  fc
    .tuple(
      fc.constantFrom('', '{', '[', 'untrusted comment: x\n', '-----BEGIN SSH SIGNATURE-----\n'),
      fc.constantFrom(...PIECES),
      fc.constantFrom('', ...PIECES),
      fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: max / 2, max }))
    )
    .map(([prefix, a, b, length]) => {
      const unit = a + b;
      return prefix + unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
    });

const TEXT_PARSERS: [
  string,
  (text: string) => unknown,
  readonly (new (...a: never[]) => Error)[]
][] = [
  ['parseJson', (t) => parseJson(t), []],
  ['parsePolicy', parsePolicy, []],
  ['parseSignedReceipt', parseSignedReceipt, []],
  ['parseSignedCheckpoint', parseSignedCheckpoint, []],
  ['parseNoteVerifierKey', parseNoteVerifierKey, []],
  ['verifyExport', (t) => verifyExport(t), []],
  ['parsePrivateKey', parsePrivateKey, []],
  ['decodePaste', decodePaste, []],
  ['stripAnsi', stripAnsi, []],
  ['fromBase64', (t) => fromBase64(t), [DecodeError]],
  ['fromHex', (t) => fromHex(t), [DecodeError]]
];
const BYTE_PARSERS: [string, (bytes: Uint8Array) => unknown][] = [
  ['parseBundle', (b) => parseBundle(b)],
  ['parseManifest', (b) => parseManifest(b)],
  ['parseMinisign', parseMinisign],
  ['parseSshsig', parseSshsig],
  ['parseSignify', parseSignify],
  ['parseRawSignature', parseRawSignature],
  ['detectSignatureFormat', detectSignatureFormat]
];

describe('bounded input, bounded time', () => {
  it('text parsers answer inputs up to 1.2 MiB of repeated grammar pieces within the bound', () => {
    for (const [name] of TEXT_PARSERS) property(name, 'large input, bounded time');
    fc.assert(
      fc.property(large(1_200_000), (text) => {
        for (const [name, parse, typed] of TEXT_PARSERS) attempt(name, () => parse(text), typed);
      }),
      params(0.25)
    );
  });

  it('byte parsers answer inputs up to 1.2 MiB within the bound', () => {
    for (const [name] of BYTE_PARSERS) property(name, 'large input, bounded time');
    fc.assert(
      fc.property(large(1_200_000), (text) => {
        const bytes = utf8(text);
        for (const [name, parse] of BYTE_PARSERS) attempt(name, () => parse(bytes));
      }),
      params(0.25)
    );
  });

  it('parsePublicKeys answers up to its 1 MiB cap (many lines, long tokens) within the bound', async () => {
    property('parsePublicKeys', 'large input, bounded time');
    await fc.assert(
      fc.asyncProperty(large(1_048_576), async (text) => {
        const r = await attemptAsync('parsePublicKeys', () => parsePublicKeys(text));
        if (r.threw) throw r.error;
      }),
      params(0.25)
    );
  });
});
