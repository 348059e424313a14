/**
 * Verification benchmarks: time to a verdict through core/verify (what the Inbox calls), against
 * crypto.subtle.digest SHA-256 of the same module bytes (the floor: any verdict hashes them).
 * Inputs are made here, in the page, by the core's own signing code, from a module padded with a
 * custom section to the size wanted.
 */
import { createBundle } from '$lib/core/bundle-write';
import { sha256Hex } from '$lib/core/digest';
import { publicKeyFromSecret, randomSecretKey } from '$lib/core/ed25519';
import { parseBundle } from '$lib/core/bundle';
import { signMinisign } from '$lib/core/formats/minisign';
import { signSsh } from '$lib/core/formats/sshsig';
import { canonicalKeyId, publicKeyNumber } from '$lib/core/keys';
import { verify, type VerifyInput } from '$lib/core/verify';
import type { TrustedKey } from '$lib/core/verdict';
import { pause, paired, time, type BenchCase, type PageResult } from './measure';

const MiB = 1024 * 1024;

/** A valid module of `size` bytes: hello-world-sized code plus one custom section of filler. */
export function paddedModule(size: number): Uint8Array {
  // (module (func (export "_start")))
  const core = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
    0x01, 0x00, 0x07, 0x0a, 0x01, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00, 0x0a, 0x04,
    0x01, 0x02, 0x00, 0x0b
  ];
  const name = [0x04, 0x70, 0x61, 0x64, 0x73]; // "pads"
  // Section header: id 0, LEB128 size (5 bytes, padded encoding), then name + filler.
  const payload = size - core.length - 1 - 5;
  const fill = payload - name.length;
  const out = new Uint8Array(size);
  out.set(core, 0);
  let at = core.length;
  out[at++] = 0x00;
  for (let i = 0, v = payload; i < 5; i++, v >>>= 7) out[at++] = (v & 0x7f) | (i < 4 ? 0x80 : 0);
  out.set(name, at);
  at += name.length;
  // Filler that does not compress to nothing: a cheap xorshift stream.
  let x = 0x9e3779b9;
  for (let i = 0; i < fill; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[at + i] = x & 0xff;
  }
  return out;
}

async function signer() {
  const seed = randomSecretKey();
  const publicKey = publicKeyFromSecret(seed);
  const key: TrustedKey = { id: await canonicalKeyId(publicKey), publicKey, label: 'bench' };
  return { seed, publicKey, key };
}

async function bundleOf(module: Uint8Array, seed: Uint8Array): Promise<Uint8Array> {
  const manifest = {
    name: 'bench',
    version: '1.0.0',
    module: { sha256: await sha256Hex(module), size: module.length },
    entry: 'command',
    capabilities: []
  };
  return createBundle({
    module,
    manifest: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
    signers: [{ seed }]
  });
}

const digest = (bytes: Uint8Array) =>
  crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);

async function mustVerify(input: VerifyInput, keys: TrustedKey[]): Promise<void> {
  const verdict = await verify(input, keys, { maxModuleBytes: 64 * MiB });
  if (!verdict.ok) throw new Error(`bench input did not verify: ${verdict.reasons[0]?.message}`);
}

function rate(bytes: number, ms: number): string {
  return `${((bytes / MiB / ms) * 1000).toFixed(0)} MiB/s`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median ms of `reps` timed calls after one untimed one (secondary figures for `extra`). */
async function medianMs(work: () => Promise<unknown> | unknown, reps = 5): Promise<number> {
  await work();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    await pause();
    xs.push(await time(work));
  }
  return median(xs);
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

export const verifyCases: Record<string, BenchCase> = {
  'verify-wasm-10MiB': async (): Promise<PageResult> => {
    const module = paddedModule(10 * MiB);
    const { seed, publicKey, key } = await signer();
    const signature = new TextEncoder().encode(
      await signMinisign(module, seed, await publicKeyNumber(publicKey))
    );
    const input: VerifyInput = { kind: 'detached', module, signature, name: 'bench.wasm' };
    const result = await paired(
      () => mustVerify(input, [key]),
      () => digest(module),
      9
    );
    // The other detached formats, for comparison (not the target's subject).
    const ssh = async (hash: 'sha512' | 'sha256') => {
      const text = await signSsh(module, seed, { hash });
      const sshInput: VerifyInput = { ...input, signature: new TextEncoder().encode(text) };
      return medianMs(() => mustVerify(sshInput, [key]));
    };
    const sshsig512 = await ssh('sha512');
    const sshsig256 = await ssh('sha256');
    return {
      ...result,
      unit: 'ms',
      extra: {
        format: 'minisign (prehashed, BLAKE2b-512)',
        verify: rate(module.length, median(result.samples)),
        digest: rate(module.length, median(result.baselineSamples)),
        'sshsig sha512': ms(sshsig512),
        'sshsig sha256': ms(sshsig256)
      }
    };
  },
  'verify-bundle-10MiB': async (): Promise<PageResult> => {
    const module = paddedModule(10 * MiB);
    const { seed, key } = await signer();
    const bytes = await bundleOf(module, seed);
    const input: VerifyInput = { kind: 'bundle', bytes };
    const result = await paired(
      () => mustVerify(input, [key]),
      () => digest(module),
      9
    );
    const parse = await medianMs(() => parseBundle(bytes));
    return {
      ...result,
      unit: 'ms',
      extra: {
        bundleBytes: bytes.length,
        'parse (JSON + base64)': ms(parse),
        verify: rate(module.length, median(result.samples)),
        digest: rate(module.length, median(result.baselineSamples))
      }
    };
  },
  'verify-small': async (): Promise<PageResult> => {
    const module = paddedModule(100 * 1024 - 600);
    const { seed, key } = await signer();
    const bytes = await bundleOf(module, seed);
    const input: VerifyInput = { kind: 'bundle', bytes };
    const result = await paired(
      () => mustVerify(input, [key]),
      () => digest(module),
      41,
      5
    );
    return { samples: result.samples, unit: 'ms', extra: { bundleBytes: bytes.length } };
  }
};
