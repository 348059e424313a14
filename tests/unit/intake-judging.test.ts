// The request row the Inbox stores keeps minisign's two comments: the trusted one only when the
// global signature verified it, the untrusted one always (shown as such). The verdict's audit
// record carries the trusted comment.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { toHex, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { publicKeyFromSecret, randomSecretKey } from '../../src/lib/core/ed25519';
import { keyNumberForPublicKey } from '../../src/lib/core/formats/common';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { verify } from '../../src/lib/core/verify';
import { signedCommentDetails, storedVerdict } from '../../src/lib/state/intake-judging';

const MODULE = new Uint8Array(
  readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url))
);
const TRUSTED = 'timestamp:1700000000\tfile:hello.wasm <img src=x onerror=alert(1)> \u202e';
const UNTRUSTED = 'signature from the CI key';

async function signed() {
  const seed = randomSecretKey();
  const publicKey = publicKeyFromSecret(seed);
  const number = await keyNumberForPublicKey(publicKey);
  const key = { id: await sha256Hex(publicKey), publicKey, keyNumber: toHex(number) };
  const sig = await signMinisign(MODULE, seed, number, {
    trustedComment: TRUSTED,
    untrustedComment: UNTRUSTED
  });
  const check = (signature: string) =>
    verify({ kind: 'detached', module: MODULE, signature: utf8(signature), name: 'hello.wasm' }, [
      key
    ]);
  return { sig, check };
}

describe('storedVerdict', () => {
  it('keeps both comments of a verified minisign signature, and audits the trusted one', async () => {
    const { sig, check } = await signed();
    const stored = storedVerdict(await check(sig));
    expect(stored).toMatchObject({
      ok: true,
      kind: 'verified',
      trustedComment: TRUSTED,
      untrustedComment: UNTRUSTED
    });
    expect(signedCommentDetails(stored)).toEqual({ trustedComment: TRUSTED });
  });

  it('keeps an edited untrusted comment as untrusted; the signature still verifies', async () => {
    const { sig, check } = await signed();
    const lines = sig.split('\n');
    lines[0] = 'untrusted comment: edited by a stranger';
    const stored = storedVerdict(await check(lines.join('\n')));
    expect(stored.ok).toBe(true);
    expect(stored.untrustedComment).toBe('edited by a stranger');
    expect(stored.trustedComment).toBe(TRUSTED);
  });

  it('drops an edited trusted comment: the verdict is rejected and nothing claims it was signed', async () => {
    const { sig, check } = await signed();
    const lines = sig.split('\n');
    lines[2] = 'trusted comment: timestamp:1800000000\tfile:other.wasm';
    const verdict = await check(lines.join('\n'));
    const stored = storedVerdict(verdict);
    expect(stored.ok).toBe(false);
    expect(stored.reasons.map((r) => r.code)).toEqual(['minisign.trusted-comment']);
    expect(stored.trustedComment).toBeUndefined();
    expect(signedCommentDetails(stored)).toEqual({});
  });

  it('has no comment fields for inputs without them (rows stay as before)', async () => {
    const stored = storedVerdict(
      await verify({ kind: 'unsigned', module: MODULE, name: 'hello.wasm' }, [])
    );
    expect('trustedComment' in stored || 'untrustedComment' in stored).toBe(false);
  });
});
