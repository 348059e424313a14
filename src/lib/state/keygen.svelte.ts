/**
 * Making a publisher key pair in the browser (Keys page). The private key exists only in this
 * object: it is never written to IndexedDB, the audit log or the console. Its two file forms
 * (PKCS#8 PEM, minisign secret key) can be shown and downloaded until the user leaves the Keys
 * page or dismisses them (`conceal`); after that only the seed stays, in memory, so the Publish
 * page can sign with "the key made in this session" until Forget or a reload.
 */
import { toBase64 } from '$lib/core/bytes';
import { publicKeyFromSecret, randomSecretKey } from '$lib/core/ed25519';
import {
  canonicalKeyId,
  encodeMinisignPublicKey,
  encodeMinisignSecretKey,
  encodePemSpki,
  encodePkcs8PrivateKeyPem,
  encodeSignifyPublicKey,
  encodeSshPublicKey,
  minisignKeyId,
  publicKeyNumber
} from '$lib/core/keys';
import { auditLog } from './audit-log.svelte';
import { downloadText } from './download';
import { keysState, type KeyTrust } from './keys.svelte';

/** One public key file, as the CLI's keygen writes it. */
export interface PublicKeyFile {
  label: string;
  /** File name suffix after the prefix, e.g. ".minisign.pub". */
  suffix: string;
  text: string;
}

export interface GeneratedKey {
  id: string;
  minisignId: string;
  /** File name prefix for downloads: `nightcore-<first 8 of the id>`. */
  prefix: string;
  publicFiles: PublicKeyFile[];
  createdAt: number;
}

/** The secret texts, present only until concealed. */
export interface RevealedSecret {
  pem: string;
  minisign: string;
}

export class KeygenState {
  key = $state.raw<GeneratedKey | null>(null);
  secret = $state.raw<RevealedSecret | null>(null);
  busy = $state(false);
  pinned = $state<string | null>(null);
  error = $state<string | null>(null);
  #seed: Uint8Array | null = null;

  get hasSessionKey(): boolean {
    return this.key !== null;
  }

  async generate(comment = 'nightcore'): Promise<void> {
    this.forget();
    this.busy = true;
    try {
      const seed = randomSecretKey();
      const publicKey = publicKeyFromSecret(seed);
      const id = await canonicalKeyId(publicKey);
      const keyNumber = await publicKeyNumber(publicKey);
      const minisignId = minisignKeyId(keyNumber);
      this.#seed = seed;
      this.key = {
        id,
        minisignId,
        prefix: `nightcore-${id.slice(0, 8)}`,
        publicFiles: [
          { label: 'Raw (base64)', suffix: '.pub', text: `${toBase64(publicKey)}\n` },
          {
            label: 'OpenSSH',
            suffix: '.ssh.pub',
            text: `${encodeSshPublicKey(publicKey, comment)}\n`
          },
          {
            label: 'minisign',
            suffix: '.minisign.pub',
            text: encodeMinisignPublicKey(publicKey, keyNumber)
          },
          {
            label: 'signify',
            suffix: '.signify.pub',
            text: encodeSignifyPublicKey(publicKey, keyNumber, comment)
          },
          { label: 'PEM (SPKI)', suffix: '.pub.pem', text: encodePemSpki(publicKey) }
        ],
        createdAt: Date.now()
      };
      this.secret = {
        pem: encodePkcs8PrivateKeyPem(seed),
        minisign: encodeMinisignSecretKey(seed, keyNumber)
      };
      // The public key id only: the audit log is exported and shared; a secret never enters it.
      await auditLog.record({
        event: 'key.generated',
        subject: { keyIds: [id] },
        details: { algorithm: 'Ed25519', minisignId, where: 'browser', stored: false }
      });
    } catch (error) {
      this.error = `The key pair could not be made: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.busy = false;
    }
  }

  downloadSecret(kind: 'pem' | 'minisign'): void {
    if (!this.key || !this.secret) return;
    if (kind === 'pem') downloadText(`${this.key.prefix}.key`, this.secret.pem);
    else downloadText(`${this.key.prefix}.minisign.key`, this.secret.minisign);
  }

  downloadPublic(file: PublicKeyFile): void {
    if (this.key) downloadText(`${this.key.prefix}${file.suffix}`, file.text);
  }

  /** Pins the public key through the ordinary import path, so it is audited like any other. */
  async pin(label: string, trust: KeyTrust): Promise<string | null> {
    const key = this.key;
    if (!key) return 'Make a key pair first.';
    const minisignFile = key.publicFiles.find((file) => file.suffix === '.minisign.pub')!;
    const outcome = await keysState.import(
      minisignFile.text,
      label.trim() || `browser key ${key.minisignId}`,
      trust
    );
    if (outcome.error) return outcome.error;
    this.pinned = key.id;
    return null;
  }

  /** The seed for signing (Publish page); null when none was made or it was forgotten. */
  sessionSeed(): Uint8Array | null {
    return this.#seed;
  }

  /** Drops the shown secret texts for good; the seed stays for this session's signing. */
  conceal(): void {
    this.secret = null;
  }

  /** Forgets everything about the generated key, the seed overwritten first. */
  forget(): void {
    this.#seed?.fill(0);
    this.#seed = null;
    this.secret = null;
    this.key = null;
    this.pinned = null;
    this.error = null;
  }
}

export const keygenState = new KeygenState();
