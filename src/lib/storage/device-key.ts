/**
 * The device key: an Ed25519 key pair made by WebCrypto on first use, with a NON-EXTRACTABLE
 * private key kept in IndexedDB (a CryptoKey is structured-cloneable; its secret bytes never reach
 * script). It signs audit checkpoints, and later approvals and run receipts. Anyone holding the
 * exported public key can verify them offline.
 */
import { sha256Hex } from '$lib/core/digest';
import type { NightCoreDatabase } from './db';
import { withLock } from './locks';

export interface DeviceKey {
  /** The signed-note key name, e.g. `nightcore-device-3f2a9c1e`. */
  name: string;
  publicKey: Uint8Array;
  /** Canonical key id: lowercase hex SHA-256 of the public key. */
  id: string;
  createdAt: number;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

interface StoredDeviceKey {
  name: string;
  publicKey: Uint8Array;
  id: string;
  createdAt: number;
  privateKey: CryptoKey;
}

const META_NAME = 'device-key';

/** Loads the device key, creating it once (under a lock, so two tabs never make two). */
export async function deviceKey(
  db: NightCoreDatabase
): Promise<{ key: DeviceKey; created: boolean }> {
  const existing = await load(db);
  if (existing) return { key: existing, created: false };
  return withLock('nightcore-device-key', async () => {
    const again = await load(db);
    if (again) return { key: again, created: false };
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify'
    ])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    const id = await sha256Hex(publicKey);
    const stored: StoredDeviceKey = {
      name: `nightcore-device-${id.slice(0, 8)}`,
      publicKey,
      id,
      createdAt: Date.now(),
      privateKey: pair.privateKey
    };
    await db.put('meta', { name: META_NAME, value: stored });
    return { key: wrap(stored), created: true };
  });
}

async function load(db: NightCoreDatabase): Promise<DeviceKey | null> {
  const row = await db.get('meta', META_NAME);
  return row ? wrap(row.value as StoredDeviceKey) : null;
}

function wrap(stored: StoredDeviceKey): DeviceKey {
  return {
    name: stored.name,
    publicKey: stored.publicKey,
    id: stored.id,
    createdAt: stored.createdAt,
    async sign(message: Uint8Array): Promise<Uint8Array> {
      const signature = await crypto.subtle.sign(
        'Ed25519',
        stored.privateKey,
        message as Uint8Array<ArrayBuffer>
      );
      return new Uint8Array(signature);
    }
  };
}
