// Bundle format v1 test vectors (tests/fixtures/bundles/): each .ncb file and, in vectors.json,
// the keys to pin, the fixed time, and the verdict it must give. Ed25519 is deterministic, so
// fixed seeds give fixed files: this test also proves that the committed files are exactly what
// the generators below produce. `REGENERATE=1 npx vitest run tests/unit/bundle-vectors.test.ts`
// rewrites them (then review the diff: a changed vector is a changed format).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MANIFEST_PAYLOAD_TYPE, pae } from '../../src/lib/core/bundle';
import { createBundle } from '../../src/lib/core/bundle-write';
import { fromBase64, fromHex, toBase64, toHex } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import * as ed from '@noble/ed25519';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { verify } from '../../src/lib/core/verify';
import type { TrustedKey } from '../../src/lib/core/verdict';

const DIR = new URL('../fixtures/bundles/', import.meta.url);
const REGENERATE = process.env.REGENERATE === '1';
const enc = new TextEncoder();
const NOW = '2026-01-01T00:00:00Z';

/** tests/fixtures/wasm/reactor.wasm (66 bytes), inlined so the vectors never drift with it. */
const MODULE = fromBase64(
  'AGFzbQEAAAABBAFgAAADAgEABQMBAAEHGAIGbWVtb3J5AgALX2luaXRpYWxpemUAAAoPAQ0AQQBB6dylowc2AgAL'
);
const MODULE_SHA256 = '106bfbe54bbc06047b27dca91adaf03d720b4dca80a008bb158b3fdc57ffca6b';

/** Test keys: seed = 32 copies of one byte. Never use them for anything real. */
const SEEDS = {
  A: new Uint8Array(32).fill(0x0a),
  B: new Uint8Array(32).fill(0x0b),
  C: new Uint8Array(32).fill(0x0c)
};
const PUB = {
  A: publicKeyFromSecret(SEEDS.A),
  B: publicKeyFromSecret(SEEDS.B),
  C: publicKeyFromSecret(SEEDS.C)
};
/** The identity point (y = 1): a small-order key under which (R = identity, S = 0) is a forgery. */
const IDENTITY = fromHex('01' + '00'.repeat(31));
/** A point of order 8. */
const ORDER_8 = fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function manifestText(overrides: Record<string, unknown> = {}): string {
  const manifest = {
    name: 'reactor-demo',
    version: '1.0.0',
    module: { sha256: MODULE_SHA256, size: MODULE.length },
    publisher: 'Night Core test vectors',
    description: 'A WASI reactor that stores "init" at address 0.',
    created: '2025-01-01T00:00:00Z',
    expires: '2030-01-01T00:00:00Z',
    entry: 'reactor',
    limits: { timeoutMs: 1000, memoryMiB: 16 },
    capabilities: [],
    ...overrides
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
const MANIFEST = enc.encode(manifestText());

/** Writes bundle JSON by hand (same layout as createBundle) so any part can be wrong. */
function assemble(parts: {
  module?: unknown;
  payloadType?: string;
  payload?: Uint8Array;
  signatures: { keyid: string; sig: Uint8Array | string }[];
}): Uint8Array {
  const bundle = {
    nightcoreBundle: 1,
    module: parts.module ?? toBase64(MODULE),
    envelope: {
      payloadType: parts.payloadType ?? MANIFEST_PAYLOAD_TYPE,
      payload: toBase64(parts.payload ?? MANIFEST),
      signatures: parts.signatures.map(({ keyid, sig }) => ({
        keyid,
        sig: typeof sig === 'string' ? sig : toBase64(sig)
      }))
    }
  };
  return enc.encode(`${JSON.stringify(bundle, null, 2)}\n`);
}
const idOf = (publicKey: Uint8Array) => sha256Hex(publicKey);
async function signed(seed: Uint8Array, payload = MANIFEST, type = MANIFEST_PAYLOAD_TYPE) {
  return { keyid: await idOf(publicKeyFromSecret(seed)), sig: sign(pae(type, payload), seed) };
}
const bundleBy = (seeds: Uint8Array[], manifest = MANIFEST, module = MODULE) =>
  createBundle({ module, manifest, signers: seeds.map((seed) => ({ seed })) });
function tampered(module: Uint8Array): Uint8Array {
  const copy = module.slice();
  copy[copy.length - 2] = copy[copy.length - 2]! ^ 0x01; // inside the code section: same size, different module
  return copy;
}
const text = (value: string) => enc.encode(value);

interface Vector {
  file: string;
  description: string;
  make: () => Promise<Uint8Array>;
  trusted: Uint8Array[];
  threshold?: number;
  ok: boolean;
  reasons: string[];
  notes?: string[];
}

const VECTORS: Vector[] = [
  {
    file: 'valid-single.ncb',
    description: 'One signature by trusted key A over the manifest; module matches.',
    make: () => bundleBy([SEEDS.A]),
    trusted: [PUB.A],
    ok: true,
    reasons: []
  },
  {
    file: 'valid-two-signatures.ncb',
    description: 'Signed by A and B; both pinned; threshold 2 is met.',
    make: () => bundleBy([SEEDS.A, SEEDS.B]),
    trusted: [PUB.A, PUB.B],
    threshold: 2,
    ok: true,
    reasons: []
  },
  {
    file: 'threshold-not-met.ncb',
    description: 'Signed by A only; A and B pinned; threshold 2 is not met.',
    make: () => bundleBy([SEEDS.A]),
    trusted: [PUB.A, PUB.B],
    threshold: 2,
    ok: false,
    reasons: ['signature.threshold']
  },
  {
    file: 'untrusted-signer.ncb',
    description: 'A valid signature, but by key C, which is not pinned (only A is).',
    make: () => bundleBy([SEEDS.C]),
    trusted: [PUB.A],
    ok: false,
    reasons: ['signature.untrusted'],
    notes: ['signature.untrusted']
  },
  {
    file: 'module-tampered.ncb',
    description:
      'Signed by A, then one byte of the module changed: SHA-256 differs from the manifest.',
    make: () => bundleBy([SEEDS.A], MANIFEST, tampered(MODULE)),
    trusted: [PUB.A],
    ok: false,
    reasons: ['module.digest-mismatch']
  },
  {
    file: 'size-mismatch.ncb',
    description: 'The signed manifest gives the right SHA-256 but a size one byte larger.',
    make: () =>
      bundleBy([SEEDS.A], text(manifestText({ module: { sha256: MODULE_SHA256, size: 67 } }))),
    trusted: [PUB.A],
    ok: false,
    reasons: ['module.size-mismatch']
  },
  {
    file: 'manifest-tampered.ncb',
    description:
      'Signed by A, then the payload changed (timeoutMs 1000 -> 9000): the signature fails.',
    make: async () =>
      assemble({
        payload: text(manifestText({ limits: { timeoutMs: 9000, memoryMiB: 16 } })),
        signatures: [await signed(SEEDS.A)]
      }),
    trusted: [PUB.A],
    ok: false,
    reasons: ['signature.invalid'],
    notes: ['signature.invalid']
  },
  {
    file: 'signature-flipped.ncb',
    description: "One bit of A's signature flipped.",
    make: async () => {
      const entry = await signed(SEEDS.A);
      entry.sig[10] = entry.sig[10]! ^ 0x04;
      return assemble({ signatures: [entry] });
    },
    trusted: [PUB.A],
    ok: false,
    reasons: ['signature.invalid'],
    notes: ['signature.invalid']
  },
  {
    file: 'wrong-payload-type.ncb',
    description: 'payloadType "application/json" (validly signed under that type).',
    make: async () =>
      assemble({
        payloadType: 'application/json',
        signatures: [await signed(SEEDS.A, MANIFEST, 'application/json')]
      }),
    trusted: [PUB.A],
    ok: false,
    reasons: ['envelope.payload-type']
  },
  {
    file: 'duplicate-manifest-key.ncb',
    description: 'The signed manifest has "name" twice (JSON.parse would keep the second).',
    make: () =>
      bundleBy([SEEDS.A], text(manifestText().replace('{\n', '{\n  "name": "innocent",\n'))),
    trusted: [PUB.A],
    ok: false,
    reasons: ['manifest.duplicate-key']
  },
  {
    file: 'duplicate-bundle-key.ncb',
    description: 'The bundle has "module" twice: a harmless module first, the real one second.',
    make: async () => {
      const json = new TextDecoder().decode(await bundleBy([SEEDS.A]));
      return text(
        json.replace('"module":', `"module": "${toBase64(new Uint8Array(8))}",\n  "module":`)
      );
    },
    trusted: [PUB.A],
    ok: false,
    reasons: ['bundle.duplicate-key']
  },
  {
    file: 'expired.ncb',
    description: 'Signed by A with expires 2025-06-01T00:00:00Z; checked at 2026-01-01.',
    make: () => bundleBy([SEEDS.A], text(manifestText({ expires: '2025-06-01T00:00:00Z' }))),
    trusted: [PUB.A],
    ok: false,
    reasons: ['manifest.expired']
  },
  {
    file: 'signature-s-ge-l.ncb',
    description: "A's valid signature with L added to S (malleated; S >= L must be refused).",
    make: async () => {
      const entry = await signed(SEEDS.A);
      const s = BigInt(`0x${toHex(entry.sig.slice(32).reverse())}`) + L;
      entry.sig.set(fromHex(s.toString(16).padStart(64, '0')).reverse(), 32);
      return assemble({ signatures: [entry] });
    },
    trusted: [PUB.A],
    ok: false,
    reasons: ['signature.invalid'],
    notes: ['signature.invalid']
  },
  {
    file: 'identity-key-forgery.ncb',
    description:
      'Pinned key is the identity point; signature R = identity, S = 0 (verifies for any message under cofactored checks).',
    make: async () =>
      assemble({
        signatures: [
          { keyid: await idOf(IDENTITY), sig: new Uint8Array([...IDENTITY, ...new Uint8Array(32)]) }
        ]
      }),
    trusted: [IDENTITY],
    ok: false,
    reasons: ['signature.untrusted'],
    notes: ['key.unusable', 'signature.untrusted']
  },
  {
    file: 'small-order-key.ncb',
    description: 'Pinned key is a point of order 8; signature R = that point, S = 0.',
    make: async () =>
      assemble({
        signatures: [
          { keyid: await idOf(ORDER_8), sig: new Uint8Array([...ORDER_8, ...new Uint8Array(32)]) }
        ]
      }),
    trusted: [ORDER_8],
    ok: false,
    reasons: ['signature.untrusted'],
    notes: ['key.unusable', 'signature.untrusted']
  },
  {
    file: 'truncated-base64.ncb',
    description: 'The module base64 lost its last character.',
    make: async () =>
      assemble({ module: toBase64(MODULE).slice(0, -1), signatures: [await signed(SEEDS.A)] }),
    trusted: [PUB.A],
    ok: false,
    reasons: ['module.base64']
  },
  {
    file: 'not-json.ncb',
    description: 'Not JSON at all.',
    make: async () => text('nightcoreBundle: 1\nmodule: AGFzbQEAAAA=\n'),
    trusted: [PUB.A],
    ok: false,
    reasons: ['bundle.json']
  },
  {
    file: 'version-2.ncb',
    description: 'nightcoreBundle is 2 (a future format this version does not read).',
    make: async () => {
      const json = new TextDecoder().decode(await bundleBy([SEEDS.A]));
      return text(json.replace('"nightcoreBundle": 1', '"nightcoreBundle": 2'));
    },
    trusted: [PUB.A],
    ok: false,
    reasons: ['bundle.version']
  },
  {
    file: 'missing-fields.ncb',
    description: 'No envelope.',
    make: async () =>
      text(`${JSON.stringify({ nightcoreBundle: 1, module: toBase64(MODULE) }, null, 2)}\n`),
    trusted: [PUB.A],
    ok: false,
    reasons: ['bundle.missing']
  },
  {
    file: 'wrong-types.ncb',
    description: 'module is a number and envelope.signatures an object.',
    make: async () => {
      const bundle = {
        nightcoreBundle: 1,
        module: 42,
        envelope: {
          payloadType: MANIFEST_PAYLOAD_TYPE,
          payload: toBase64(MANIFEST),
          signatures: {}
        }
      };
      return text(`${JSON.stringify(bundle, null, 2)}\n`);
    },
    trusted: [PUB.A],
    ok: false,
    reasons: ['bundle.type', 'envelope.type']
  },
  {
    file: 'tampered-and-untrusted.ncb',
    description: 'Signed by unpinned key C and the module changed: both are reported.',
    make: () => bundleBy([SEEDS.C], MANIFEST, tampered(MODULE)),
    trusted: [PUB.A],
    ok: false,
    reasons: ['signature.untrusted', 'module.digest-mismatch'],
    notes: ['signature.untrusted']
  }
];

interface VectorEntry {
  file: string;
  description: string;
  trustedKeys: string[];
  threshold: number;
  ok: boolean;
  reasons: string[];
  notes: string[];
}
interface VectorFile {
  comment: string;
  now: string;
  keys: Record<string, { seed: string; publicKey: string; id: string }>;
  vectors: VectorEntry[];
}

async function entryOf(vector: Vector): Promise<VectorEntry> {
  return {
    file: vector.file,
    description: vector.description,
    trustedKeys: vector.trusted.map(toHex),
    threshold: vector.threshold ?? 1,
    ok: vector.ok,
    reasons: vector.reasons,
    notes: vector.notes ?? []
  };
}

async function regenerate(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const keys: VectorFile['keys'] = {};
  for (const name of ['A', 'B', 'C'] as const) {
    keys[name] = {
      seed: toHex(SEEDS[name]),
      publicKey: toHex(PUB[name]),
      id: await idOf(PUB[name])
    };
  }
  const file: VectorFile = {
    comment:
      'Night Core bundle format v1 test vectors (docs/bundle-format.md). Verify each file with the ' +
      'trusted keys (raw public keys, hex), the threshold and now; expect ok, exactly these reason ' +
      'codes and these note codes (order-insensitive). The seeds are public test keys.',
    now: NOW,
    keys,
    vectors: []
  };
  for (const vector of VECTORS) {
    writeFileSync(new URL(vector.file, DIR), await vector.make());
    file.vectors.push(await entryOf(vector));
  }
  writeFileSync(new URL('vectors.json', DIR), `${JSON.stringify(file, null, 2)}\n`);
}

const sorted = (codes: readonly string[]) => [...codes].sort();

describe('bundle vectors (tests/fixtures/bundles)', async () => {
  if (REGENERATE || !existsSync(new URL('vectors.json', DIR))) await regenerate();
  const index = JSON.parse(readFileSync(new URL('vectors.json', DIR), 'utf8')) as VectorFile;
  const now = Date.parse(index.now);

  it('vectors.json lists exactly the generated vectors and the .ncb files present', () => {
    expect(index.vectors.map((v) => v.file)).toEqual(VECTORS.map((v) => v.file));
    const present = readdirSync(DIR)
      .filter((f) => f.endsWith('.ncb'))
      .sort();
    expect(present).toEqual(VECTORS.map((v) => v.file).sort());
  });

  it.each(VECTORS.map((v, i) => [v.file, i] as const))('%s', async (file, i) => {
    const vector = VECTORS[i]!;
    const entry = index.vectors[i]!;
    const label = `(${file}, expected ${entry.ok ? 'ok' : entry.reasons.join('+')}): ${entry.description}`;
    expect(entry, label).toEqual(await entryOf(vector));
    const bytes = new Uint8Array(readFileSync(new URL(file, DIR)));
    expect(toHex(bytes), `${label} — committed file differs from its generator`).toBe(
      toHex(await vector.make())
    );
    const keys: TrustedKey[] = [];
    for (const hex of entry.trustedKeys) {
      const publicKey = fromHex(hex);
      keys.push({ id: await sha256Hex(publicKey), publicKey });
    }
    const verdict = await verify({ kind: 'bundle', bytes }, keys, {
      now,
      threshold: entry.threshold
    });
    const reasons = verdict.reasons.map((r) => r.code);
    const notes = verdict.notes.map((n) => n.code);
    expect(reasons, label).not.toContain('input.internal');
    expect(verdict.ok, `${label}: ${JSON.stringify(verdict.reasons)}`).toBe(entry.ok);
    expect(sorted(reasons), label).toEqual(sorted(entry.reasons));
    expect(sorted(notes), label).toEqual(sorted(entry.notes));
    if (entry.ok) {
      expect(verdict.module).toEqual({ sha256: MODULE_SHA256, size: MODULE.length });
      expect(verdict.manifest?.name).toBe('reactor-demo');
      expect(verdict.signers).toHaveLength(entry.threshold);
    }
  });

  it('the forgery vectors pass a cofactored (ZIP 215) verifier: strict rules are what stop them', async () => {
    for (const file of ['identity-key-forgery.ncb', 'small-order-key.ncb']) {
      const json = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
      const sig = fromBase64(json.envelope.signatures[0].sig);
      const entry = index.vectors.find((v) => v.file === file)!;
      const message = pae(MANIFEST_PAYLOAD_TYPE, fromBase64(json.envelope.payload));
      expect(ed.verify(sig, message, fromHex(entry.trustedKeys[0]!), { zip215: true }), file).toBe(
        true
      );
      expect(
        ed.verify(sig, enc.encode('any message'), fromHex(entry.trustedKeys[0]!), { zip215: true })
      ).toBe(true);
    }
  });

  it('docs/bundle-format.md shows valid-single.ncb, key A and the PAE exactly', async () => {
    const doc = readFileSync(new URL('../../docs/bundle-format.md', import.meta.url), 'utf8');
    const file = readFileSync(new URL('valid-single.ncb', DIR), 'utf8');
    expect(doc).toContain(file.trim());
    expect(doc).toContain(index.keys.A!.publicKey);
    expect(doc).toContain(index.keys.A!.id);
    const message = pae(MANIFEST_PAYLOAD_TYPE, MANIFEST);
    expect(MANIFEST.length).toBe(459);
    expect(message.length).toBe(513);
    expect(new TextDecoder().decode(message.subarray(0, 54))).toBe(
      `DSSEv1 39 ${MANIFEST_PAYLOAD_TYPE} 459 `
    );
    expect(doc).toContain(await sha256Hex(MANIFEST));
  });
});
