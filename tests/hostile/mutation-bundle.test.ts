/**
 * Mutation corpus, part 1: a signed bundle (.ncb), a signed run receipt and a signed audit
 * checkpoint, each made here with the real signing code. Every byte of the signature and the
 * manifest is changed, a sample of module bytes, every field is dropped and duplicated, and
 * values and keys are swapped. None may verify, except where the change touches only unsigned
 * text (a bundle's keyid hint, the unsigned signature list), and then the verified module and
 * manifest must be byte-identical to the original.
 */
import { describe, expect, it } from 'vitest';
import { signCheckpoint, verifySignedCheckpoint } from '../../src/lib/core/audit/checkpoint';
import { encodeCanonicalJson } from '../../src/lib/core/audit/record';
import { createBundle } from '../../src/lib/core/bundle-write';
import { fromBase64, toBase64, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { buildReceipt, signReceipt, verifyReceipt } from '../../src/lib/core/receipt';
import { verify, type Verdict } from '../../src/lib/core/verify';
import { reportCounts } from './harness';
import { BUNDLE, KEY, MANIFEST, MODULE, NOW, OTHER_PUBLIC_KEY, OTHER_SEED, SEED } from './fixtures';
import {
  bitFlips,
  byteFlips,
  Ledger,
  objectFields,
  samplePositions,
  withDuplicateKey,
  withoutKey
} from './mutation-helpers';
import {
  DEVICE_KEY_ID,
  DEVICE_PUBLIC_KEY,
  DEVICE_SEED,
  DEVICE_SIGNER,
  receiptInput
} from './receipt-fixture';
import { publicKeyFromSecret, sign } from '../../src/lib/core/ed25519';

reportCounts(import.meta.url);

type Json = Parameters<typeof withDuplicateKey>[0];
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const OTHER_KEY = { id: await sha256Hex(OTHER_PUBLIC_KEY), publicKey: OTHER_PUBLIC_KEY };

interface BundleJson {
  nightcoreBundle: number;
  module: string;
  envelope: {
    payloadType: string;
    payload: string;
    signatures: { keyid: string; sig: string }[];
  };
}
const ORIGINAL = JSON.parse(text(BUNDLE)) as BundleJson;
const bundleText = (b: unknown) => utf8(`${JSON.stringify(b, null, 2)}\n`);
const copy = (): BundleJson => JSON.parse(JSON.stringify(ORIGINAL)) as BundleJson;

/** A second manifest (same key) and a bundle by another key, for swaps and replays. */
const OTHER_MANIFEST = utf8(text(MANIFEST).replace('"1.2.3"', '"9.9.9"'));
const OTHER_BUNDLE = JSON.parse(
  text(await createBundle({ module: MODULE, manifest: OTHER_MANIFEST, signers: [{ seed: SEED }] }))
) as BundleJson;
const FOREIGN_BUNDLE = JSON.parse(
  text(await createBundle({ module: MODULE, manifest: MANIFEST, signers: [{ seed: OTHER_SEED }] }))
) as BundleJson;

describe('mutation corpus: bundle', () => {
  it('no change to a signed bundle verifies, except the keyid hint and the unsigned signature list', async () => {
    const ledger = new Ledger<Verdict>(
      'bundle (.ncb)',
      'verify(bundle)',
      (bytes) => verify({ kind: 'bundle', bytes }, [KEY], { now: NOW }),
      new Set([
        'keyid (hint)',
        'signatures: same entry twice',
        'signatures: extra unpinned signer'
      ]),
      (v) => {
        expect(v.moduleBytes).toEqual(MODULE);
        expect(v.manifestBytes).toEqual(MANIFEST);
        expect(v.signers).toEqual([KEY.id]);
      }
    );
    // The original verifies (else every rejection below would prove nothing).
    const base = await verify({ kind: 'bundle', bytes: BUNDLE }, [KEY], { now: NOW });
    expect(base.ok).toBe(true);

    // 1. Every byte of the file outside the module's base64 (xor 0x01, 0xff), and 256 inside it.
    const source = text(BUNDLE);
    const spans: [string, string][] = [
      ['module base64', ORIGINAL.module],
      ['payload base64', ORIGINAL.envelope.payload],
      ['payloadType', ORIGINAL.envelope.payloadType],
      ['sig base64', ORIGINAL.envelope.signatures[0]!.sig],
      ['keyid (hint)', ORIGINAL.envelope.signatures[0]!.keyid]
    ];
    const ranges = spans.map(([name, value]) => {
      const from = source.indexOf(`"${value}"`) + 1;
      return { name, from, to: from + value.length };
    });
    const where = (at: number) =>
      ranges.find((r) => at >= r.from && at < r.to)?.name ?? 'JSON structure';
    const moduleRange = ranges[0]!;
    for (const { at, mutated } of byteFlips(BUNDLE)) {
      if (at >= moduleRange.from && at < moduleRange.to) continue;
      await ledger.try(where(at), mutated);
    }
    for (const at of samplePositions(moduleRange.to - moduleRange.from, 256)) {
      const mutated = BUNDLE.slice();
      mutated[moduleRange.from + at]! ^= 0x01;
      await ledger.try('module base64', mutated);
    }

    // 2. Decoded: every bit of the signature, every byte of the manifest, 256 module bytes.
    const sig = fromBase64(ORIGINAL.envelope.signatures[0]!.sig);
    for (const { mutated } of bitFlips(sig)) {
      const b = copy();
      b.envelope.signatures[0]!.sig = toBase64(mutated);
      await ledger.try('signature', bundleText(b));
    }
    for (const { mutated } of byteFlips(MANIFEST)) {
      const b = copy();
      b.envelope.payload = toBase64(mutated);
      await ledger.try('manifest', bundleText(b));
    }
    for (const at of samplePositions(MODULE.length, 256)) {
      const b = copy();
      const module = MODULE.slice();
      module[at]! ^= 0x01;
      b.module = toBase64(module);
      await ledger.try('module', bundleText(b));
    }

    // 3. Every field dropped, and duplicated (same value, then another value of the same kind).
    const attacker: Record<string, Json> = {
      module: toBase64(utf8('not the module')),
      payload: OTHER_BUNDLE.envelope.payload,
      sig: FOREIGN_BUNDLE.envelope.signatures[0]!.sig,
      keyid: OTHER_KEY.id,
      payloadType: 'application/json',
      nightcoreBundle: 2,
      signatures: FOREIGN_BUNDLE.envelope.signatures
    };
    for (const { path, key } of objectFields(ORIGINAL as unknown as Json)) {
      const name = [...path, key].join('.');
      // keyid is optional (DSSE): dropping the hint leaves every signed byte as it was.
      const label = key === 'keyid' ? 'keyid (hint)' : `drop ${name}`;
      await ledger.try(label, bundleText(withoutKey(ORIGINAL as unknown as Json, path, key)));
      let value: Json = ORIGINAL as unknown as Json;
      for (const step of [...path, key]) value = (value as Record<string, Json>)[step]!;
      for (const second of [value, attacker[key] ?? value]) {
        const dup = withDuplicateKey(ORIGINAL as unknown as Json, path, key, second);
        await ledger.try(`duplicate ${name}`, utf8(dup));
      }
    }
    const manifest = JSON.parse(text(MANIFEST)) as Json;
    for (const { path, key } of objectFields(manifest)) {
      const b = copy();
      b.envelope.payload = toBase64(utf8(JSON.stringify(withoutKey(manifest, path, key))));
      await ledger.try(`manifest: drop ${[...path, key].join('.')}`, bundleText(b));
      const d = copy();
      d.envelope.payload = toBase64(utf8(withDuplicateKey(manifest, path, key, 'x')));
      await ledger.try(`manifest: duplicate ${[...path, key].join('.')}`, bundleText(d));
    }
    const list = (signatures: BundleJson['envelope']['signatures'], label: string) => {
      const b = copy();
      b.envelope.signatures = signatures;
      return ledger.try(label, bundleText(b));
    };
    const own = ORIGINAL.envelope.signatures[0]!;
    const foreign = FOREIGN_BUNDLE.envelope.signatures[0]!;
    await list([], 'signatures: none');
    await list([own, own], 'signatures: same entry twice');
    await list([own, foreign], 'signatures: extra unpinned signer');

    // 4. Swaps: values between fields, a signature from another manifest (replay), another
    //    key's signature claiming the pinned key's id, and the pinned key swapped for another.
    const swapped = copy();
    [swapped.module, swapped.envelope.payload] = [swapped.envelope.payload, swapped.module];
    await ledger.try('swap module and payload', bundleText(swapped));
    await list([OTHER_BUNDLE.envelope.signatures[0]!], 'signature of another manifest (replay)');
    await list(
      [{ keyid: KEY.id, sig: foreign.sig }],
      'another key signing, keyid of the pinned key'
    );
    const replayed = copy();
    replayed.envelope.payload = OTHER_BUNDLE.envelope.payload;
    await ledger.try('payload of another bundle (same key, stale signature)', bundleText(replayed));
    const pinOther = await verify({ kind: 'bundle', bytes: BUNDLE }, [OTHER_KEY], { now: NOW });
    expect(pinOther.ok).toBe(false);
    ledger.finish();
  });
});

describe('mutation corpus: run receipt', () => {
  it('every byte of a signed receipt matters: no change verifies', async () => {
    const receiptText = await signReceipt(buildReceipt(receiptInput()), DEVICE_SIGNER);
    const RECEIPT = utf8(receiptText);
    const ledger = new Ledger(
      'run receipt',
      'verifyReceipt',
      async (bytes) => verifyReceipt(text(bytes), DEVICE_PUBLIC_KEY),
      new Set<string>(),
      () => undefined
    );
    expect(verifyReceipt(receiptText, DEVICE_PUBLIC_KEY).ok).toBe(true);
    for (const { mutated } of byteFlips(RECEIPT)) await ledger.try('receipt file byte', mutated);
    const signed = JSON.parse(receiptText) as { signature: string } & Record<string, Json>;
    for (const { mutated } of bitFlips(fromBase64(signed.signature))) {
      const edited = { ...signed, signature: toBase64(mutated) };
      await ledger.try('signature', utf8(`${encodeCanonicalJson(edited)}\n`));
    }
    for (const { path, key } of objectFields(signed as Json)) {
      const name = [...path, key].join('.');
      const dropped = withoutKey(signed as Json, path, key);
      await ledger.try(`drop ${name}`, utf8(`${encodeCanonicalJson(dropped)}\n`));
      let value: Json = signed as Json;
      for (const step of [...path, key]) value = (value as Record<string, Json>)[step]!;
      await ledger.try(
        `duplicate ${name}`,
        utf8(`${withDuplicateKey(signed as Json, path, key, value)}\n`)
      );
    }
    // Another device's receipt relabelled with this device's key id, and the wrong verifier.
    const otherSeed = new Uint8Array(32).fill(0x32);
    const otherPublic = publicKeyFromSecret(otherSeed);
    const otherId = await sha256Hex(otherPublic);
    const forged = await signReceipt(
      buildReceipt(receiptInput({ deviceKeyId: otherId, decision: null })),
      { publicKey: otherPublic, sign: async (m) => sign(m, otherSeed) }
    );
    await ledger.try(
      'another device key, relabelled',
      utf8(forged.replaceAll(otherId, DEVICE_KEY_ID))
    );
    expect(verifyReceipt(receiptText, otherPublic).ok).toBe(false);
    expect(DEVICE_SEED).not.toEqual(otherSeed);
    ledger.finish();
  });
});

describe('mutation corpus: signed audit checkpoint', () => {
  it('no change to the checkpoint body or its signature line verifies', async () => {
    const root = new Uint8Array(32).fill(7);
    const checkpoint = { origin: 'nightcore.test/hostile', size: 42, root };
    const note = await signCheckpoint(checkpoint, { ...DEVICE_SIGNER, name: 'device-hostile' });
    const NOTE = utf8(note);
    const ledger = new Ledger(
      'audit checkpoint',
      'verifySignedCheckpoint',
      async (bytes) => verifySignedCheckpoint(text(bytes), { publicKey: DEVICE_PUBLIC_KEY }),
      new Set(['signature line twice']),
      (v) => {
        if (!v.ok) throw new Error('not ok');
        expect(v.checkpoint).toEqual(checkpoint);
      }
    );
    expect(verifySignedCheckpoint(note, { publicKey: DEVICE_PUBLIC_KEY }).ok).toBe(true);
    for (const { mutated } of byteFlips(NOTE)) await ledger.try('note byte', mutated);
    const lines = note.split('\n');
    for (let i = 0; i < lines.length - 1; i++) {
      await ledger.try(`drop line ${i}`, utf8(lines.filter((_, j) => j !== i).join('\n')));
      const dup = [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)].join('\n');
      await ledger.try(i === 4 ? 'signature line twice' : `duplicate line ${i}`, utf8(dup));
    }
    ledger.finish();
  });
});
