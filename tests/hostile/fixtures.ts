/**
 * Valid inputs the hostile tests start from, made with the real signing code: a module, a
 * manifest, a bundle, and one detached signature of every format, all by one fixed key.
 */
import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { createBundle } from '../../src/lib/core/bundle-write';
import { toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { signRaw } from '../../src/lib/core/formats/raw';
import { signSignify } from '../../src/lib/core/formats/signify';
import { signSsh } from '../../src/lib/core/formats/sshsig';
import { publicKeyNumber } from '../../src/lib/core/keys';
import type { TrustedKey } from '../../src/lib/core/verdict';

export const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../fixtures/wasm/${name}`, import.meta.url)));

/** hello.wasm: a real WASI command (clang), 3.5 KB. */
export const MODULE = fixture('hello.wasm');
export const MODULES = [
  'hello.wasm',
  'reactor.wasm',
  'memory-bomb.wasm',
  'foreign-import.wasm',
  'loop.wasm',
  'recursion.wasm',
  'trap.wasm'
].map(fixture);

export const SEED = new Uint8Array(32).fill(0x5a);
export const PUBLIC_KEY = publicKeyFromSecret(SEED);
export const KEY_NUMBER = await publicKeyNumber(PUBLIC_KEY);
export const KEY: TrustedKey = {
  id: await sha256Hex(PUBLIC_KEY),
  publicKey: PUBLIC_KEY,
  keyNumber: toHex(KEY_NUMBER)
};
/** Another key: signatures by it must never count as the pinned key's. */
export const OTHER_SEED = new Uint8Array(32).fill(0x77);
export const OTHER_PUBLIC_KEY = publicKeyFromSecret(OTHER_SEED);

/** Fixed clock for expiry checks: inside the manifest's created..expires window. */
export const NOW = Date.UTC(2026, 5, 1);

export const MANIFEST = utf8(
  JSON.stringify({
    name: 'hello',
    version: '1.2.3',
    module: { sha256: await sha256Hex(MODULE), size: MODULE.length },
    publisher: 'hostile suite',
    description: 'a signed fixture',
    created: '2026-01-01T00:00:00Z',
    expires: '2027-01-01T00:00:00Z',
    entry: 'command',
    args: ['--greet'],
    env: { LANG: 'C' },
    limits: { timeoutMs: 5000, memoryMiB: 16, outputBytes: 65536, fsBytes: 65536 },
    capabilities: ['args', 'env']
  })
);
export const BUNDLE = await createBundle({
  module: MODULE,
  manifest: MANIFEST,
  signers: [{ seed: SEED }]
});
export const MINISIG_ED = utf8(
  await signMinisign(MODULE, SEED, KEY_NUMBER, {
    trustedComment: 'timestamp:1767225600\tfile:hello.wasm',
    untrustedComment: 'signature from the hostile suite'
  })
);
export const MINISIG_LEGACY = utf8(
  await signMinisign(MODULE, SEED, KEY_NUMBER, {
    trustedComment: 'timestamp:1767225600\tfile:hello.wasm',
    untrustedComment: 'signature from the hostile suite',
    legacy: true
  })
);
export const SSHSIG = utf8(await signSsh(MODULE, SEED));
export const SSHSIG_SHA256 = utf8(await signSsh(MODULE, SEED, { hash: 'sha256' }));
export const SIGNIFY = utf8(await signSignify(MODULE, SEED, KEY_NUMBER));
export const RAW = await signRaw(MODULE, SEED);
export const RAW_BASE64 = utf8(`${toBase64(RAW)}\n`);
export const RAW_HEX = utf8(`${toHex(RAW)}\n`);
export const TENANT_FILES: Record<string, Uint8Array> = {
  'module.wasm': MODULE,
  'module.sig': RAW_BASE64,
  'manifest.json': utf8('{"name":"hello","version":"0.1.0","tenant":"acme"}\n'),
  'pubkey.b64': utf8(`${toBase64(PUBLIC_KEY)}\n`)
};
export const TENANT_ZIP = zipSync(TENANT_FILES, { mtime: new Date(Date.UTC(2026, 0, 1)) });
