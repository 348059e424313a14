/**
 * Hostile input for base64/hex/UTF-8 decoding, input detection, paste / link / file intake, agent
 * folder names, ANSI stripping, and verify() over every input kind. Each must return its result (or throw only its typed error) for random
 * bytes, random text, JSON-shaped values and mutated valid inputs, each within the time bound.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  planInbox,
  freeName,
  resultFileName,
  type FolderEntry
} from '../../src/lib/core/agent-folder';
import { stripAnsi } from '../../src/lib/core/ansi';
import {
  DecodeError,
  fromBase64,
  fromBase64Url,
  fromHex,
  fromUtf8,
  toBase64,
  toBase64Url,
  toHex,
  utf8
} from '../../src/lib/core/bytes';
import { detectInput } from '../../src/lib/core/detect-input';
import {
  decodePaste,
  decodeUrlImport,
  groupFiles,
  parseInboxFragment
} from '../../src/lib/core/intake';
import { verify, type VerifyInput } from '../../src/lib/core/verify';
import {
  anyBytes,
  anyText,
  attempt,
  attemptAsync,
  mutatedBytes,
  mutatedText,
  params,
  property,
  reportCounts,
  roundTrip
} from './harness';
import { BUNDLE, KEY, MINISIG_ED, MODULE, NOW, SSHSIG, TENANT_ZIP } from './fixtures';

reportCounts(import.meta.url);

const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('bytes: base64, base64url, hex, UTF-8', () => {
  it('decoders throw only DecodeError, and encode-then-decode is the identity', () => {
    for (const name of ['fromBase64', 'fromBase64Url', 'fromHex', 'fromUtf8']) {
      property(name, 'DecodeError only');
      property(name, 'encode-then-decode');
    }
    fc.assert(
      fc.property(anyText, (text) => {
        attempt('fromBase64', () => fromBase64(text), [DecodeError]);
        attempt('fromBase64Url', () => fromBase64Url(text), [DecodeError]);
        attempt('fromHex', () => fromHex(text), [DecodeError]);
      }),
      params()
    );
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        attempt('fromUtf8', () => fromUtf8(bytes), [DecodeError]);
        for (const [name, encode, decode] of [
          ['fromBase64', toBase64, fromBase64],
          ['fromBase64Url', toBase64Url, fromBase64Url],
          ['fromHex', toHex, fromHex]
        ] as const) {
          const r = attempt(name, () => decode(encode(bytes)));
          if (r.threw) throw r.error;
          expect(r.value).toEqual(bytes);
          roundTrip(name);
        }
      }),
      params()
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const r = attempt('fromUtf8', () => fromUtf8(utf8(text)));
        if (r.threw) throw r.error;
        expect(r.value).toBe(text);
        roundTrip('fromUtf8');
      }),
      params()
    );
  });

  it('each byte string has one accepted base64 text: a changed character never decodes to the same bytes', () => {
    property('fromBase64', 'canonical (one text per bytes)');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.nat(63),
        (bytes, at, to) => {
          const text = toBase64(bytes);
          const i = at % text.length;
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
          const changed = text.slice(0, i) + alphabet[to % alphabet.length] + text.slice(i + 1);
          if (changed === text) return;
          const r = attempt('fromBase64', () => fromBase64(changed), [DecodeError]);
          if (!r.threw) expect(r.value).not.toEqual(bytes);
        }
      ),
      params()
    );
  });
});

describe('intake: detection, paste, links, picked files, agent folder names, ANSI', () => {
  it('detectInput, decodePaste, decodeUrlImport, parseInboxFragment never throw', () => {
    for (const name of ['detectInput', 'decodePaste', 'decodeUrlImport', 'parseInboxFragment']) {
      property(name, 'no throw');
    }
    const bytes = fc.oneof(
      anyBytes,
      mutatedBytes(BUNDLE),
      mutatedBytes(MINISIG_ED),
      mutatedBytes(SSHSIG)
    );
    fc.assert(
      fc.property(
        bytes,
        fc.oneof(fc.string(), fc.constantFrom('x.ncb', 'x.wasm', 'x.minisig', 'x.sig')),
        (b, name) => {
          expect(attempt('detectInput', () => detectInput(b, name)).threw).toBe(false);
        }
      ),
      params()
    );
    const pasted = fc.oneof(
      anyText,
      mutatedText(textOf(BUNDLE)),
      mutatedText(toBase64(MODULE)),
      mutatedText(toBase64(BUNDLE))
    );
    fc.assert(
      fc.property(pasted, (text) => {
        expect(attempt('decodePaste', () => decodePaste(text)).threw).toBe(false);
        expect(attempt('decodeUrlImport', () => decodeUrlImport(text)).threw).toBe(false);
        expect(attempt('parseInboxFragment', () => parseInboxFragment(text)).threw).toBe(false);
        expect(
          attempt('parseInboxFragment', () => parseInboxFragment(`#import=${text}`)).threw
        ).toBe(false);
      }),
      params()
    );
  });

  it('a bundle survives the link round trip: base64url in a fragment decodes to the same bytes', () => {
    property('decodeUrlImport', 'encode-then-decode');
    fc.assert(
      fc.property(mutatedBytes(BUNDLE), (bytes) => {
        const fragment = parseInboxFragment(`#import=${toBase64Url(bytes)}`);
        if (fragment.kind !== 'import') throw new Error(`fragment read as ${fragment.kind}`);
        const r = attempt('decodeUrlImport', () => decodeUrlImport(fragment.data));
        if (r.threw) throw r.error;
        // Detection decides whether it is a bundle; when it is, the bytes are the ones sent.
        if (r.value.ok) {
          expect(r.value.item.input).toEqual({ kind: 'bundle', bytes });
          roundTrip('decodeUrlImport');
        }
      }),
      params()
    );
  });

  it('groupFiles and planInbox sort any set of names without throwing or losing a file', () => {
    property('groupFiles', 'no file lost');
    property('planInbox', 'no throw');
    const name = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        'a.wasm',
        'a.wasm.minisig',
        'a.sig',
        'a.ncb',
        'a.zip',
        'a.json',
        'a.wasm.stdin',
        '.hidden',
        'x.part'
      )
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            name,
            fc.oneof(anyBytes, fc.constantFrom(MODULE, BUNDLE, TENANT_ZIP, MINISIG_ED))
          ),
          {
            maxLength: 12
          }
        ),
        (files) => {
          const named = files.map(([n, bytes]) => ({ name: n, bytes }));
          const r = attempt('groupFiles', () => groupFiles(named));
          if (r.threw) throw r.error;
          const seen = new Set<unknown>(r.value.unknown);
          for (const item of r.value.items) {
            const input = item.input;
            if (input.kind === 'detached') {
              seen.add(named.find((f) => f.bytes === input.signature && f.name !== item.fileName));
            }
            seen.add(named.find((f) => f.name === item.fileName));
          }
          // Every file handed over is either an item, a signature of one, or listed as unknown.
          for (const file of named) {
            const listed = seen.has(file) || named.some((f) => f.name === file.name && seen.has(f));
            expect(listed).toBe(true);
          }
          const entries: FolderEntry[] = files.map(([n, bytes], i) => ({
            name: n,
            kind: i % 5 === 4 ? 'directory' : 'file',
            size: bytes.length,
            lastModified: i
          }));
          expect(attempt('planInbox', () => planInbox(entries)).threw).toBe(false);
        }
      ),
      params()
    );
  });

  it('freeName always returns a name not taken, and resultFileName keeps the whole name', () => {
    property('freeName', 'result not taken');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }),
        (name, others) => {
          const taken = new Set([name, ...others, ...others.map((o) => `${o}-2`)]);
          const r = attempt('freeName', () => freeName(name, taken));
          if (r.threw) throw r.error;
          expect(taken.has(r.value)).toBe(false);
          expect(resultFileName(name).startsWith(name)).toBe(true);
        }
      ),
      params()
    );
  });

  it('stripAnsi leaves no escape or control character other than tab, LF, CR', () => {
    property('stripAnsi', 'no control characters left');
    const ansi = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 20 }),
          fc.constantFrom(
            '\u001b[31m',
            '\u001b]0;title\u0007',
            '\u001b[',
            '\u009b2J',
            '\u001b',
            '\u009d'
          )
        ),
        { maxLength: 30 }
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(ansi, (text) => {
        const r = attempt('stripAnsi', () => stripAnsi(text));
        if (r.threw) throw r.error;
        expect(r.value).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u009b\u009d]/);
      }),
      params()
    );
  });
});

describe('verify() over every input kind', () => {
  it('never throws and never reports an internal error, whatever the bytes', async () => {
    property('verify', 'no throw, no input.internal');
    const input: fc.Arbitrary<VerifyInput> = fc.oneof(
      mutatedBytes(BUNDLE).map((bytes) => ({ kind: 'bundle' as const, bytes })),
      anyBytes.map((bytes) => ({ kind: 'bundle' as const, bytes })),
      fc
        .tuple(fc.oneof(anyBytes, mutatedBytes(MINISIG_ED), mutatedBytes(SSHSIG)), fc.string())
        .map(([signature, name]) => ({
          kind: 'detached' as const,
          module: MODULE,
          signature,
          name
        })),
      fc
        .tuple(mutatedBytes(MODULE), fc.string())
        .map(([module, name]) => ({ kind: 'unsigned' as const, module, name })),
      fc
        .oneof(anyBytes, mutatedBytes(TENANT_ZIP))
        .map((bytes) => ({ kind: 'tenant-zip' as const, bytes })),
      fc
        .dictionary(
          fc.constantFrom(
            'module.wasm',
            'module.sig',
            'pubkey.b64',
            'manifest.json',
            'x/module.wasm'
          ),
          anyBytes
        )
        .map((files) => ({ kind: 'tenant' as const, files: new Map(Object.entries(files)) }))
    );
    await fc.assert(
      fc.asyncProperty(input, async (value) => {
        const r = await attemptAsync('verify', () => verify(value, [KEY], { now: NOW }));
        if (r.threw) throw r.error;
        const codes = r.value.reasons.map((why) => why.code);
        expect(codes).not.toContain('input.internal');
        expect(codes).not.toContain('signature.internal-error');
        expect(r.value.ok).toBe(codes.length === 0);
      }),
      params()
    );
  });
});
