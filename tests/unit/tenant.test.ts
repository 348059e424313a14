// The old console's tenant folder / zip: module.wasm, module.sig (raw Ed25519), manifest.json,
// pubkey.b64 (a CLAIMED key, never trusted by being present). Zip bombs and path traversal.
import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { concatBytes, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, randomSecretKey } from '../../src/lib/core/ed25519';
import { signRaw } from '../../src/lib/core/formats/raw';
import {
  readTenantFiles,
  unzipTenant,
  verifyTenant,
  type TenantLayout
} from '../../src/lib/core/formats/tenant';
import type { TrustedKey } from '../../src/lib/core/verdict';

const MODULE = concatBytes(
  new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  crypto.getRandomValues(new Uint8Array(5000))
);
const MANIFEST = '{"name":"hello","version":"0.1.0","tenant":"acme"}\n';

async function makeKey() {
  const seed = randomSecretKey();
  const publicKey = publicKeyFromSecret(seed);
  const key: TrustedKey = { id: await sha256Hex(publicKey), publicKey, label: 'acme' };
  return { seed, publicKey, key };
}

async function tenantFiles(
  signer: { seed: Uint8Array; publicKey: Uint8Array },
  sigForm: 'base64' | 'hex' | 'binary' = 'base64',
  module = MODULE
): Promise<Record<string, Uint8Array>> {
  const sig = await signRaw(module, signer.seed);
  const sigBytes =
    sigForm === 'binary' ? sig : utf8(`${sigForm === 'hex' ? toHex(sig) : toBase64(sig)}\n`);
  return {
    'module.wasm': module,
    'module.sig': sigBytes,
    'manifest.json': utf8(MANIFEST),
    'pubkey.b64': utf8(`${toBase64(signer.publicKey)}\n`)
  };
}

function layoutOf(files: Map<string, Uint8Array>): TenantLayout {
  const read = readTenantFiles(files);
  if (!read.ok) throw new Error(`readTenantFiles: ${read.reason.code} ${read.reason.message}`);
  return read.layout;
}

function unzipped(zip: Uint8Array): Map<string, Uint8Array> {
  const result = unzipTenant(zip);
  if (!result.ok) throw new Error(`unzipTenant: ${result.reason.code} ${result.reason.message}`);
  return result.files;
}

const prefixed = (folder: string, files: Record<string, Uint8Array>): Zippable =>
  Object.fromEntries(Object.entries(files).map(([name, data]) => [`${folder}/${name}`, data]));

/** Offsets of every central-directory header (signature PK\1\2) in a zip. */
function centralHeaders(zip: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 1 && zip[i + 3] === 2) out.push(i);
  }
  return out;
}

/** Rewrites the uncompressed size an entry declares in the central directory. */
function declareSize(zip: Uint8Array, entry: number, size: number): Uint8Array {
  const copy = zip.slice();
  new DataView(copy.buffer).setUint32(centralHeaders(copy)[entry]! + 24, size, true);
  return copy;
}

describe('tenant folder and zip', () => {
  it('a zip under one top-level folder, signed by a pinned key: ok', async () => {
    const signer = await makeKey();
    for (const form of ['base64', 'hex', 'binary'] as const) {
      const zip = zipSync(prefixed('tenant-acme', await tenantFiles(signer, form)));
      const files = unzipped(zip);
      expect([...files.keys()].sort()).toEqual([
        'manifest.json',
        'module.sig',
        'module.wasm',
        'pubkey.b64'
      ]);
      const layout = layoutOf(files);
      expect(layout.manifestText).toBe(MANIFEST);
      expect(toHex(layout.claimedPublicKey!)).toBe(toHex(signer.publicKey));
      const r = await verifyTenant(layout, [signer.key]);
      expect(r, form).toMatchObject({
        ok: true,
        format: 'tenant',
        signers: [signer.key.id],
        reasons: [],
        claimedKeyId: signer.key.id,
        claimedKeyTrusted: true
      });
      expect(r.notes.map((n) => n.code)).toContain('tenant.manifest-unsigned');
    }
  });

  it('a folder (Map of files) works the same, with or without the folder prefix', async () => {
    const signer = await makeKey();
    const files = await tenantFiles(signer);
    for (const map of [
      new Map(Object.entries(files)),
      new Map(Object.entries(prefixed('t1', files)) as [string, Uint8Array][])
    ]) {
      expect((await verifyTenant(layoutOf(map), [signer.key])).ok).toBe(true);
    }
  });

  it('signed only by the claimed key in pubkey.b64: NOT ok, tenant.signed-by-claimed-key-only', async () => {
    const claimed = await makeKey();
    const pinned = await makeKey();
    const layout = layoutOf(unzipped(zipSync(await tenantFiles(claimed))));
    const r = await verifyTenant(layout, [pinned.key]);
    expect(r.ok).toBe(false);
    expect(r.signers).toEqual([]);
    expect(r.reasons.map((x) => x.code)).toEqual(['tenant.signed-by-claimed-key-only']);
    expect(r.claimedKeyId).toBe(claimed.key.id);
    expect(r.claimedKeyTrusted).toBe(false);
    expect(r.notes.map((n) => n.code)).toContain('tenant.claimed-key-untrusted');
    expect(r.notes.find((n) => n.code === 'tenant.claimed-key-untrusted')!.message).toContain(
      claimed.key.id
    );
    // With no keys pinned at all, it is still refused for the same reason.
    expect((await verifyTenant(layout, [])).reasons[0]!.code).toBe(
      'tenant.signed-by-claimed-key-only'
    );
  });

  it('signed by a pinned key while pubkey.b64 claims another key: ok, with the claim noted', async () => {
    const signer = await makeKey();
    const stranger = await makeKey();
    const files = await tenantFiles(signer);
    files['pubkey.b64'] = utf8(toBase64(stranger.publicKey));
    const r = await verifyTenant(layoutOf(new Map(Object.entries(files))), [signer.key]);
    expect(r.ok).toBe(true);
    expect(r.claimedKeyId).toBe(stranger.key.id);
    expect(r.notes.map((n) => n.code)).toContain('tenant.claimed-key-untrusted');
  });

  it('module tampered: signature.untrusted even though the claimed key is shipped', async () => {
    const signer = await makeKey();
    const files = await tenantFiles(signer);
    files['module.wasm'] = concatBytes(MODULE, new Uint8Array([0]));
    const r = await verifyTenant(layoutOf(new Map(Object.entries(files))), [signer.key]);
    expect(r.ok).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(['signature.untrusted']);
  });

  it('reports an unusable pubkey.b64 as a problem, not a key', async () => {
    const signer = await makeKey();
    const files = await tenantFiles(signer);
    for (const bad of ['not base64!', toBase64(new Uint8Array(31)), toBase64(new Uint8Array(32))]) {
      files['pubkey.b64'] = utf8(bad);
      const layout = layoutOf(new Map(Object.entries(files)));
      expect(layout.claimedPublicKey, bad).toBeNull();
      expect(layout.claimedKeyProblem, bad).toMatch(/^pubkey\.b64/);
      const r = await verifyTenant(layout, [signer.key]);
      expect(r.ok).toBe(true);
      expect(r.claimedKeyId).toBeNull();
      expect(r.notes.map((n) => n.code)).toContain('tenant.claimed-key-invalid');
    }
  });

  it('missing module.wasm or module.sig: specific reasons', async () => {
    const files = await tenantFiles(await makeKey());
    const { ['module.wasm']: _m, ...noModule } = files;
    const { ['module.sig']: _s, ...noSig } = files;
    const a = readTenantFiles(new Map(Object.entries(noModule)));
    const b = readTenantFiles(new Map(Object.entries(noSig)));
    expect(!a.ok && a.reason.code).toBe('tenant.module-missing');
    expect(!b.ok && b.reason.code).toBe('tenant.signature-missing');
    const c = readTenantFiles(new Map());
    expect(!c.ok && c.reason.code).toBe('tenant.module-missing');
  });

  it('refuses path traversal and unsafe names', async () => {
    const files = await tenantFiles(await makeKey());
    for (const name of ['../evil.wasm', 'tenant/../../etc/passwd', '/etc/passwd', 'a\\b', 'C:/x']) {
      const r = unzipTenant(zipSync({ ...files, [name]: utf8('x') }));
      expect(!r.ok && r.reason.code, name).toBe('tenant.zip-path');
    }
  });

  it('zip bomb: an entry declaring a huge size is refused before inflating, quickly', async () => {
    const zip = zipSync({ 'module.wasm': new Uint8Array(1000), 'module.sig': new Uint8Array(64) });
    const bomb = declareSize(zip, 0, 0xfffffff0);
    const started = performance.now();
    const r = unzipTenant(bomb);
    expect(performance.now() - started).toBeLessThan(500);
    expect(!r.ok && r.reason.code).toBe('tenant.zip-entry-too-large');
  });

  it('zip bomb: a real high-ratio entry over the cap, and a total over the cap', () => {
    const zeros = zipSync({ 'module.wasm': new Uint8Array(3 * 1024 * 1024) }, { level: 9 });
    expect(zeros.length).toBeLessThan(20_000);
    const r = unzipTenant(zeros, { maxEntryBytes: 1024 * 1024 });
    expect(!r.ok && r.reason.code).toBe('tenant.zip-entry-too-large');
    const many = zipSync({ a: new Uint8Array(600_000), b: new Uint8Array(600_000) });
    const t = unzipTenant(many, { maxTotalBytes: 1_000_000 });
    expect(!t.ok && t.reason.code).toBe('tenant.zip-too-large');
  });

  it('zip bomb: more than 1000 entries is refused quickly', () => {
    const entries: Zippable = {};
    for (let i = 0; i < 1001; i++) entries[`f${i}.txt`] = new Uint8Array(1);
    const zip = zipSync(entries, { level: 0 });
    const started = performance.now();
    const r = unzipTenant(zip);
    expect(performance.now() - started).toBeLessThan(500);
    expect(!r.ok && r.reason.code).toBe('tenant.zip-too-many-entries');
  });

  it('zip bomb: an entry inflating past the size it declares is refused', () => {
    // (How fast it stops is a benchmark's job, not an assertion here.)
    const zip = zipSync({ 'module.wasm': new Uint8Array(48 * 1024 * 1024) }, { level: 1 });
    const r = unzipTenant(declareSize(zip, 0, 10));
    expect(!r.ok && r.reason.code).toBe('tenant.zip-size-mismatch');
    expect(!r.ok && r.reason.message).toContain('declares 10 bytes');
  });

  it('refuses unsupported methods, encryption and cut-off deflate data', () => {
    const zip = zipSync({ 'module.wasm': crypto.getRandomValues(new Uint8Array(3000)) });
    const at = centralHeaders(zip)[0]!;
    const bzip2 = zip.slice();
    new DataView(bzip2.buffer).setUint16(at + 10, 12, true);
    expect(unzipTenant(bzip2)).toMatchObject({
      ok: false,
      reason: { code: 'tenant.zip-compression' }
    });
    const encrypted = zip.slice();
    new DataView(encrypted.buffer).setUint16(at + 8, 1, true);
    expect(unzipTenant(encrypted)).toMatchObject({
      ok: false,
      reason: { code: 'tenant.zip-encrypted' }
    });
    const cut = zip.slice();
    new DataView(cut.buffer).setUint32(at + 20, 100, true); // compressed size: 100 of ~3000 bytes
    expect(unzipTenant(cut)).toMatchObject({ ok: false, reason: { code: 'tenant.zip-invalid' } });
  });

  it('an entry declaring more bytes than it holds is refused (tenant.zip-size-mismatch)', () => {
    const zip = zipSync({ 'module.wasm': crypto.getRandomValues(new Uint8Array(1000)) });
    const r = unzipTenant(declareSize(zip, 0, 2000));
    expect(!r.ok && r.reason.code).toBe('tenant.zip-size-mismatch');
  });

  it('refuses duplicate names, non-zips, and skips folders and __MACOSX metadata', async () => {
    const zip = zipSync({ 'aaaa.txt': utf8('1'), 'bbbb.txt': utf8('2') }, { level: 0 });
    const dup = zip.slice();
    // Rename every "bbbb" to "aaaa" (local and central headers).
    for (let i = 0; i + 4 <= dup.length; i++) {
      if (String.fromCharCode(...dup.subarray(i, i + 4)) === 'bbbb') dup.set(utf8('aaaa'), i);
    }
    const d = unzipTenant(dup);
    expect(!d.ok && d.reason.code).toBe('tenant.zip-duplicate');
    for (const junk of [new Uint8Array(0), utf8('not a zip at all'), MODULE]) {
      const r = unzipTenant(junk);
      expect(!r.ok && r.reason.code).toBe('tenant.zip-invalid');
    }
    const signer = await makeKey();
    const finder = zipSync({
      ...prefixed('tenant-x', await tenantFiles(signer)),
      'tenant-x/': new Uint8Array(0),
      '__MACOSX/tenant-x/._module.wasm': utf8('apple double')
    });
    const files = unzipped(finder);
    expect(files.has('module.wasm')).toBe(true);
    expect([...files.keys()].some((n) => n.includes('MACOSX'))).toBe(false);
  });
});
