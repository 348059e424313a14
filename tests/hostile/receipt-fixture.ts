/** A receipt input as the app builds one at the end of a run, and the device key that signs it. */
import { toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';
import { sha256 } from '@noble/hashes/sha2.js';
import { digestOutput, type ReceiptInput } from '../../src/lib/core/receipt';

export const DEVICE_SEED = new Uint8Array(32).fill(0x31);
export const DEVICE_PUBLIC_KEY = publicKeyFromSecret(DEVICE_SEED);
export const DEVICE_KEY_ID = toHex(sha256(DEVICE_PUBLIC_KEY));
export const DEVICE_SIGNER = {
  publicKey: DEVICE_PUBLIC_KEY,
  sign: async (message: Uint8Array) => sign(message, DEVICE_SEED)
};
const hex = (text: string) => toHex(sha256(utf8(text)));

/** A human-approved run's receipt input; `patch` overrides any field. */
export function receiptInput(patch: Partial<ReceiptInput> = {}): ReceiptInput {
  const requestId = patch.requestId ?? 'req-1';
  const moduleSha256 = patch.moduleSha256 ?? hex('module');
  const manifestSha256 = patch.manifestSha256 ?? hex('manifest');
  const statement = JSON.stringify({
    type: 'nightcore.decision/v1',
    deviceKeyId: DEVICE_KEY_ID,
    action: 'approve',
    decidedAt: 1_800_000_000_000,
    requestId,
    moduleSha256,
    manifestSha256,
    limits: {},
    capabilities: []
  });
  return {
    runId: '0f4c2b1a-1111-4222-8333-444455556666',
    requestId,
    name: 'hello',
    version: '1.0.0',
    moduleSha256,
    moduleSize: 1234,
    runSha256: hex('rewritten'),
    manifestSha256,
    decision: {
      action: 'approve',
      decidedAt: 1_800_000_000_000,
      deviceKeyId: DEVICE_KEY_ID,
      signature: toBase64(sign(utf8(statement), DEVICE_SEED)),
      statement
    },
    limits: { timeoutMs: 5000, memoryMiB: 64, outputBytes: 1048576, fsBytes: 16777216 },
    capabilities: ['args', 'clock'],
    status: 'exited',
    exitCode: 3,
    message: 'exited with 3',
    durationMs: 12.6,
    peakMemoryBytes: 131072,
    truncated: false,
    stdout: digestOutput(utf8('hello from wasm\n')),
    stderr: digestOutput(utf8('')),
    startedAt: 1_800_000_001_000,
    endedAt: 1_800_000_001_013,
    deviceKeyId: DEVICE_KEY_ID,
    ...patch
  };
}
