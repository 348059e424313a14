/**
 * A populated profile in fake-indexeddb for the backup tests: a pinned key, a saved policy, two
 * modules, approved (signed decision), pinned, denied and pending requests, a finished run with
 * output and a scratch file, a run-mode setting, audit records and a stored checkpoint. The device
 * key is an Ed25519 key held in the test (the app's is a non-extractable WebCrypto key), so the
 * tests can re-sign tampered backups the way only the device could.
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { toBase64, utf8 } from '../../../src/lib/core/bytes';
import { sha256Hex } from '../../../src/lib/core/digest';
import { publicKeyFromSecret, randomSecretKey, sign } from '../../../src/lib/core/ed25519';
import { AuditStore } from '../../../src/lib/storage/audit-store';
import { openNightCoreDB, type NightCoreDatabase } from '../../../src/lib/storage/db';
import type { DeviceKey } from '../../../src/lib/storage/device-key';
import type { RequestDecision, RequestRow } from '../../../src/lib/storage/records';
import { putRun } from '../../../src/lib/storage/runs-store';

export type TestDevice = DeviceKey & { secret: Uint8Array };

let counter = 0;
export const freshDb = () => openNightCoreDB({ name: `nightcore-backup-test-${++counter}` });

export async function testDevice(): Promise<TestDevice> {
  const secret = randomSecretKey();
  const publicKey = publicKeyFromSecret(secret);
  const id = await sha256Hex(publicKey);
  return {
    name: `nightcore-device-${id.slice(0, 8)}`,
    publicKey,
    id,
    createdAt: Date.now(),
    secret,
    sign: async (message) => sign(message, secret)
  };
}

export const HELLO = new Uint8Array(
  readFileSync(new URL('../../fixtures/wasm/hello.wasm', import.meta.url))
);
export const ECHO = new Uint8Array(
  readFileSync(new URL('../../fixtures/wasm/echo-args.wasm', import.meta.url))
);

/** A fresh profile: the device key made and recorded, as the app does on first load. */
export async function freshProfile(): Promise<{
  db: NightCoreDatabase;
  device: TestDevice;
  audit: AuditStore;
}> {
  const db = await freshDb();
  const device = await testDevice();
  const audit = new AuditStore(db, device);
  await audit.append({
    time: Date.now(),
    event: 'device.key-created',
    subject: { keyIds: [device.id] },
    details: { name: device.name, algorithm: 'Ed25519', extractable: false }
  });
  return { db, device, audit };
}

async function decision(
  device: TestDevice,
  request: Pick<RequestRow, 'id' | 'moduleSha256' | 'manifestSha256'>,
  action: RequestDecision['action']
): Promise<RequestDecision> {
  const body = {
    type: 'nightcore.decision/v1',
    deviceKeyId: device.id,
    action,
    decidedAt: 1_700_000_000_000,
    requestId: request.id,
    moduleSha256: request.moduleSha256,
    manifestSha256: request.manifestSha256,
    limits: { timeoutMs: 5000, memoryMiB: 16 },
    capabilities: ['args']
  };
  const statement = JSON.stringify(body);
  return {
    action,
    decidedAt: body.decidedAt,
    moduleSha256: body.moduleSha256,
    manifestSha256: body.manifestSha256,
    limits: body.limits,
    capabilities: body.capabilities,
    statement,
    signature: toBase64(await device.sign(utf8(statement))),
    deviceKeyId: device.id
  };
}

function request(id: string, state: RequestRow['state'], moduleSha256: string): RequestRow {
  return {
    id,
    state,
    createdAt: 1_700_000_000_000,
    channel: 'paste',
    moduleSha256,
    manifestSha256: 'ab'.repeat(32),
    fileName: `${id}.ncb`,
    name: 'hello',
    version: '1.0.0',
    format: 'bundle',
    size: 100,
    verdict: { ok: true, kind: 'verified', reasons: [], notes: [], signers: ['k'] },
    manifest: null
  };
}

export interface Populated {
  db: NightCoreDatabase;
  device: TestDevice;
  audit: AuditStore;
  helloSha: string;
  echoSha: string;
  keyId: string;
}

/** The profile the backup tests export. */
export async function populatedProfile(): Promise<Populated> {
  const { db, device, audit } = await freshProfile();
  const publisher = publicKeyFromSecret(randomSecretKey());
  const keyId = await sha256Hex(publisher);
  await db.add('keys', {
    id: keyId,
    publicKey: publisher,
    label: 'alice <img src=x>',
    trust: 'review',
    format: 'raw',
    nativeId: keyId,
    scope: ['hello*'],
    capabilities: null,
    addedAt: 1_700_000_000_000
  });
  await db.add('policies', { version: 2, createdAt: 1, document: '{"version":2}' });
  const helloSha = await sha256Hex(HELLO);
  const echoSha = await sha256Hex(ECHO);
  await db.add('modules', { sha256: helloSha, size: HELLO.length, bytes: HELLO, addedAt: 1 });
  await db.add('modules', { sha256: echoSha, size: ECHO.length, bytes: ECHO, addedAt: 2 });
  const approved = request('req-approved', 'approved', helloSha);
  approved.decision = await decision(device, approved, 'approve');
  const pinned = request('req-pinned', 'done', echoSha);
  pinned.decision = await decision(device, pinned, 'pin');
  const denied = request('req-denied', 'denied', echoSha);
  denied.decision = await decision(device, denied, 'deny');
  for (const row of [approved, pinned, denied, request('req-pending', 'pending', helloSha)]) {
    await db.add('requests', row);
  }
  // As the app writes it (schema v3): the row, and its output in runOutputs.
  await putRun(db, {
    id: 'run-1',
    requestId: 'req-pinned',
    moduleSha256: echoSha,
    startedAt: 10,
    endedAt: 20,
    outcome: null,
    status: 'exited',
    exitCode: 0,
    stdout: utf8('hello from wasm\n'),
    stderr: new Uint8Array(0),
    files: [{ path: 'out.txt', bytes: Uint8Array.of(0, 1, 2, 255) }],
    receipt: '{"keyId":"x"}\n'
  });
  await db.put('meta', { name: 'run-mode', value: 'auto' });
  await db.put('meta', { name: 'watch-job:1', value: { ephemeral: true } });
  for (const event of ['key.added', 'policy.version', 'decision', 'run.started'] as const) {
    await audit.append({ time: Date.now(), event, subject: {}, details: { n: 1 } });
  }
  await audit.checkpoint();
  await audit.append({ time: Date.now(), event: 'run.finished', subject: {}, details: {} });
  return { db, device, audit, helloSha, echoSha, keyId };
}
