/**
 * Fuzzing the exported parsers from the outside: random bytes and single-byte mutations of valid
 * inputs. Safe behaviour: no throw (parsers return reasons), no `input.internal` /
 * `signature.internal-error`, no hang, and a mutated input never verifies under a different key.
 */
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/lib/core/bundle';
import { createBundle } from '../../src/lib/core/bundle-write';
import { utf8, toBase64 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { detectSignatureFormat } from '../../src/lib/core/formats/detached';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { signSsh } from '../../src/lib/core/formats/sshsig';
import { unzipTenant } from '../../src/lib/core/formats/tenant';
import { parseJsonBytes } from '../../src/lib/core/json';
import { encodeSshPublicKey, parsePublicKeys } from '../../src/lib/core/keys';
import { parseManifest } from '../../src/lib/core/manifest';
import type { TrustedKey } from '../../src/lib/core/verdict';
import { inspectWasm } from '../../src/lib/core/wasm/inspect';
import { rewriteMemoryMaximum } from '../../src/lib/core/wasm/memory-rewrite';
import { detectInput } from '../../src/lib/core/detect-input';
import { verify } from '../../src/lib/core/verify';

const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/wasm/${name}`, import.meta.url)));
const MODULE = fixture('reactor.wasm');
const MODULES = ['reactor.wasm', 'memory-bomb.wasm', 'foreign-import.wasm', 'hello.wasm'].map(
  fixture
);
const SEED = new Uint8Array(32).fill(0x21);
const PUB = publicKeyFromSecret(SEED);
const KEY: TrustedKey = { id: await sha256Hex(PUB), publicKey: PUB, keyNumber: '0102030405060708' };
const MANIFEST = utf8(
  JSON.stringify({
    name: 'r',
    version: '1.0.0',
    module: { sha256: await sha256Hex(MODULE), size: MODULE.length }
  })
);
const BUNDLE = await createBundle({
  module: MODULE,
  manifest: MANIFEST,
  signers: [{ seed: SEED }]
});
const MINISIG = utf8(await signMinisign(MODULE, SEED, '0102030405060708'));
const SSHSIG = utf8(await signSsh(MODULE, SEED));
const ZIP = zipSync({ 'module.wasm': MODULE, 'module.sig': utf8(toBase64(sign(MODULE, SEED))) });
const RUNS = { numRuns: 300 };
const BAD = ['input.internal', 'signature.internal-error'];

/** A valid input with one to four bytes overwritten, inserted or deleted. */
const mutated = (base: Uint8Array) =>
  fc
    .array(
      fc.tuple(
        fc.nat(base.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('set', 'ins', 'del')
      ),
      {
        minLength: 1,
        maxLength: 4
      }
    )
    .map((edits) => {
      let out = Array.from(base);
      for (const [at, value, op] of edits) {
        const i = Math.min(at, out.length - 1);
        if (op === 'set') out[i] = value;
        else if (op === 'ins') out.splice(i, 0, value);
        else out.splice(i, 1);
      }
      return Uint8Array.from(out);
    });
const anyBytes = fc.uint8Array({ maxLength: 512 });
const codesOf = (v: { reasons: { code: string }[] }) => v.reasons.map((r) => r.code);

describe('attack: parsers throw or hang on hostile bytes', () => {
  it('parseJsonBytes / parseBundle / parseManifest never throw', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutated(BUNDLE), mutated(MANIFEST)), (bytes) => {
        parseJsonBytes(bytes);
        parseBundle(bytes);
        parseManifest(bytes);
      }),
      RUNS
    );
  });
  it('detectInput / detectSignatureFormat never throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyBytes, mutated(MINISIG), mutated(SSHSIG)),
        fc.string(),
        (bytes, name) => {
          detectInput(bytes, name);
          detectSignatureFormat(bytes);
        }
      ),
      RUNS
    );
  });
  it('inspectWasm and rewriteMemoryMaximum never throw, and a rewrite always caps every defined memory', () => {
    fc.assert(
      fc.property(
        fc.oneof(...MODULES.map(mutated)),
        fc.integer({ min: 0, max: 65536 }),
        (bytes, cap) => {
          inspectWasm(bytes);
          const r = rewriteMemoryMaximum(bytes, cap);
          if (!r.ok) return;
          const after = inspectWasm(r.bytes);
          for (const m of after.memories) {
            expect(m.imported).toBe(false);
            expect(m.max !== null && Number(m.max) <= cap).toBe(true);
          }
        }
      ),
      { numRuns: 400 }
    );
  });
  it('unzipTenant never throws on random or mutated zips', () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, mutated(ZIP)), (bytes) => {
        const r = unzipTenant(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      RUNS
    );
  });
  it('parsePublicKeys never throws on bytes (TypeError only for a non-string, non-bytes input)', async () => {
    const ssh = utf8(`alice namespaces="nightcore" ${encodeSshPublicKey(PUB).trim()}\n`);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyBytes, mutated(ssh), mutated(MINISIG)), async (bytes) => {
        const r = await parsePublicKeys(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      RUNS
    );
    await expect(parsePublicKeys(42 as never)).rejects.toThrow(TypeError);
  });
});

describe('attack: mutated signed inputs verify or fail cleanly, never by accident', () => {
  it('a mutated bundle never verifies with a different module or manifest, and never hits input.internal', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(BUNDLE), async (bytes) => {
        const v = await verify({ kind: 'bundle', bytes }, [KEY], { now: Date.UTC(2026, 0, 1) });
        for (const code of BAD) expect(codesOf(v)).not.toContain(code);
        if (v.ok) {
          expect(v.moduleBytes).toEqual(MODULE);
          expect(v.manifestBytes).toEqual(MANIFEST);
        }
      }),
      RUNS
    );
  });
  it('mutated detached signatures and tenant zips fail cleanly or verify the original module', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated(MINISIG), mutated(SSHSIG), anyBytes), async (signature) => {
        const v = await verify({ kind: 'detached', module: MODULE, signature, name: 'm.wasm' }, [
          KEY
        ]);
        for (const code of BAD) expect(codesOf(v)).not.toContain(code);
      }),
      RUNS
    );
    await fc.assert(
      fc.asyncProperty(mutated(ZIP), async (bytes) => {
        const v = await verify({ kind: 'tenant-zip', bytes }, [KEY]);
        for (const code of BAD) expect(codesOf(v)).not.toContain(code);
        if (v.ok) expect(v.moduleBytes).toEqual(MODULE);
      }),
      RUNS
    );
  });
});
