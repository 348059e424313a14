/**
 * Mutation corpus, part 2: a .wasm with each detached signature format (minisign prehashed ED and
 * legacy Ed, SSHSIG, signify, raw Ed25519 as bytes, base64 and hex) and a tenant zip of the old
 * console's layout, all signed here with the real code. Every byte of each signature file, every
 * bit of each signature, 256 module bytes, every line or field dropped and duplicated, and keys
 * swapped. None may verify unless only unsigned text changed (a minisign or signify untrusted
 * comment, a tenant zip's manifest.json, pubkey.b64 or zip metadata), and then the verified module
 * must be the original byte for byte (and minisign's trusted comment the original one).
 */
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from '../../src/lib/core/bytes';
import { signMinisign } from '../../src/lib/core/formats/minisign';
import { signRaw } from '../../src/lib/core/formats/raw';
import { signSsh } from '../../src/lib/core/formats/sshsig';
import { verify, type Verdict } from '../../src/lib/core/verify';
import { reportCounts } from './harness';
import {
  KEY,
  KEY_NUMBER,
  MINISIG_ED,
  MINISIG_LEGACY,
  MODULE,
  OTHER_PUBLIC_KEY,
  OTHER_SEED,
  RAW,
  RAW_BASE64,
  RAW_HEX,
  SEED,
  SIGNIFY,
  SSHSIG,
  TENANT_FILES,
  TENANT_ZIP
} from './fixtures';
import { bitFlips, byteFlips, Ledger, samplePositions } from './mutation-helpers';

reportCounts(import.meta.url);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const lines = (bytes: Uint8Array) => text(bytes).split('\n');
const file = (list: string[]) => utf8(list.join('\n'));
const TRUSTED_COMMENT = lines(MINISIG_ED)[2]!.slice('trusted comment: '.length);

function detached(format: string, original: Uint8Array, allowed: string[]) {
  const ledger = new Ledger<Verdict>(
    format,
    `verify(${format.split(' ')[0]})`,
    (signature) =>
      verify({ kind: 'detached', module: MODULE, signature, name: 'hello.wasm' }, [KEY]),
    new Set(allowed),
    (v) => {
      expect(v.moduleBytes).toEqual(MODULE);
      expect(v.signers).toEqual([KEY.id]);
      if (v.format === 'minisign') expect(v.trustedComment).toBe(TRUSTED_COMMENT);
    }
  );
  return {
    ledger,
    /** The original must verify, or every rejection proves nothing. */
    async baseline() {
      const v = await verify(
        { kind: 'detached', module: MODULE, signature: original, name: 'hello.wasm' },
        [KEY]
      );
      expect(v.reasons).toEqual([]);
    },
    /** 256 module bytes (first and last included) changed under the original signature. */
    async moduleSample() {
      for (const at of samplePositions(MODULE.length, 256)) {
        const module = MODULE.slice();
        module[at]! ^= 0x01;
        await ledger.tryWith('module', () =>
          verify({ kind: 'detached', module, signature: original, name: 'm' }, [KEY])
        );
      }
    }
  };
}

/** Every byte of a line-based signature file, labelled by its line. */
async function fileFlips(ledger: Ledger<Verdict>, bytes: Uint8Array, names: string[]) {
  const starts: number[] = [];
  let at = 0;
  for (const line of text(bytes).split('\n')) {
    starts.push(at);
    at += utf8(line).length + 1;
  }
  const lineOf = (offset: number) => starts.findLastIndex((s) => s <= offset);
  for (const { at: offset, mutated } of byteFlips(bytes)) {
    await ledger.try(names[lineOf(offset)] ?? 'after the last line', mutated);
  }
}

/** Each line dropped and duplicated. */
async function lineOps(ledger: Ledger<Verdict>, bytes: Uint8Array) {
  const list = lines(bytes);
  for (let i = 0; i < list.length - 1; i++) {
    await ledger.try(`drop line ${i}`, file(list.filter((_, j) => j !== i)));
    await ledger.try(`duplicate line ${i}`, file([...list.slice(0, i + 1), ...list.slice(i)]));
  }
}

describe('mutation corpus: minisign', () => {
  for (const [format, original] of [
    ['minisign ED (prehashed)', MINISIG_ED],
    ['minisign Ed (legacy)', MINISIG_LEGACY]
  ] as const) {
    it(`${format}: only the untrusted comment may change`, async () => {
      const { ledger, baseline, moduleSample } = detached(format, original, ['untrusted comment']);
      await baseline();
      await fileFlips(ledger, original, [
        'untrusted comment',
        'signature line',
        'trusted comment',
        'global signature'
      ]);
      const list = lines(original);
      const sigLine = fromBase64(list[1]!);
      for (const { at, mutated } of bitFlips(sigLine)) {
        const where = at < 2 ? 'algorithm' : at < 10 ? 'key number' : 'signature';
        await ledger.try(where, file([list[0]!, toBase64(mutated), list[2]!, list[3]!, '']));
      }
      for (const { mutated } of bitFlips(fromBase64(list[3]!))) {
        await ledger.try(
          'global signature',
          file([list[0]!, list[1]!, list[2]!, toBase64(mutated), ''])
        );
      }
      await lineOps(ledger, original);
      // Swaps: signature and global signature, the other algorithm's line, a trusted comment
      // from another signature by the same key, and another key's signature under this key number.
      await ledger.try('swap signature lines', file([list[0]!, list[3]!, list[2]!, list[1]!, '']));
      const other = lines(original === MINISIG_ED ? MINISIG_LEGACY : MINISIG_ED);
      await ledger.try(
        'signature line of the other algorithm',
        file([list[0]!, other[1]!, list[2]!, list[3]!, ''])
      );
      const retitled = lines(
        utf8(
          await signMinisign(MODULE, SEED, KEY_NUMBER, {
            trustedComment: 'timestamp:1\tfile:evil.wasm',
            legacy: original === MINISIG_LEGACY
          })
        )
      );
      await ledger.try(
        'trusted comment of another signature',
        file([list[0]!, list[1]!, retitled[2]!, list[3]!, ''])
      );
      await ledger.try(
        'global signature of another signature',
        file([list[0]!, list[1]!, list[2]!, retitled[3]!, ''])
      );
      const foreign = await signMinisign(MODULE, OTHER_SEED, KEY_NUMBER, {
        trustedComment: TRUSTED_COMMENT,
        legacy: original === MINISIG_LEGACY
      });
      await ledger.try('another key, this key number', utf8(foreign));
      await moduleSample();
      ledger.finish();
    });
  }
});

/** SSHSIG blob fields: MAGIC (6 bytes), version (u32), then five length-prefixed strings. */
const SSH_FIELDS = ['publickey', 'namespace', 'reserved', 'hash_algorithm', 'signature'];
function sshFields(blob: Uint8Array): { name: string; bytes: Uint8Array }[] {
  const out = [
    { name: 'magic', bytes: blob.subarray(0, 6) },
    { name: 'version', bytes: blob.subarray(6, 10) }
  ];
  let at = 10;
  for (const name of SSH_FIELDS) {
    const length = new DataView(blob.buffer, blob.byteOffset + at).getUint32(0);
    out.push({ name, bytes: blob.subarray(at, at + 4 + length) });
    at += 4 + length;
  }
  return out;
}
const armor = (blob: Uint8Array) =>
  utf8(
    `-----BEGIN SSH SIGNATURE-----\n${(toBase64(blob).match(/.{1,70}/g) ?? []).join('\n')}\n-----END SSH SIGNATURE-----\n`
  );
const unarmor = (bytes: Uint8Array) => fromBase64(lines(bytes).slice(1, -2).join(''));

describe('mutation corpus: SSHSIG', () => {
  it('every byte of an SSH signature is signed or checked: no change verifies', async () => {
    const { ledger, baseline, moduleSample } = detached('sshsig', SSHSIG, []);
    await baseline();
    const blob = unarmor(SSHSIG);
    expect(armor(blob)).toEqual(SSHSIG);
    await fileFlips(ledger, SSHSIG, [
      'armor',
      ...lines(SSHSIG)
        .slice(1, -2)
        .map(() => 'blob base64'),
      'armor'
    ]);
    const fields = sshFields(blob);
    const fieldAt = (offset: number) => {
      let end = 0;
      for (const f of fields) if (offset < (end += f.bytes.length)) return f.name;
      return 'after the fields';
    };
    for (const { at, mutated } of byteFlips(blob))
      await ledger.try(`blob ${fieldAt(at)}`, armor(mutated));
    const sigField = fields.at(-1)!.bytes;
    const sig = sigField.subarray(sigField.length - 64);
    for (const { mutated } of bitFlips(sig)) {
      await ledger.try(
        'signature',
        armor(concatBytes(blob.subarray(0, blob.length - 64), mutated))
      );
    }
    for (let i = 0; i < fields.length; i++) {
      const parts = fields.map((f) => f.bytes);
      await ledger.try(
        `drop ${fields[i]!.name}`,
        armor(concatBytes(...parts.filter((_, j) => j !== i)))
      );
      await ledger.try(
        `duplicate ${fields[i]!.name}`,
        armor(concatBytes(...parts.slice(0, i + 1), ...parts.slice(i)))
      );
    }
    // Swaps: another key's blob with this signature, this key with another key's signature,
    // another namespace, the other hash algorithm named.
    const foreign = sshFields(unarmor(utf8(await signSsh(MODULE, OTHER_SEED))));
    const swap = (name: string, bytes: Uint8Array) =>
      armor(concatBytes(...fields.map((f) => (f.name === name ? bytes : f.bytes))));
    await ledger.try('publickey of another key', swap('publickey', foreign[2]!.bytes));
    await ledger.try('signature of another key', swap('signature', foreign.at(-1)!.bytes));
    const git = sshFields(unarmor(utf8(await signSsh(MODULE, SEED, { namespace: 'git' }))));
    await ledger.try('namespace git, signature for nightcore', swap('namespace', git[3]!.bytes));
    await ledger.try('signature made for namespace git', swap('signature', git.at(-1)!.bytes));
    const sha256 = sshFields(unarmor(utf8(await signSsh(MODULE, SEED, { hash: 'sha256' }))));
    await ledger.try(
      'hash_algorithm sha256, signature over sha512',
      swap('hash_algorithm', sha256[5]!.bytes)
    );
    await lineOps(ledger, SSHSIG);
    await moduleSample();
    ledger.finish();
  });
});

describe('mutation corpus: signify', () => {
  it('only the untrusted comment of a signify signature may change', async () => {
    const { ledger, baseline, moduleSample } = detached('signify', SIGNIFY, ['untrusted comment']);
    await baseline();
    await fileFlips(ledger, SIGNIFY, ['untrusted comment', 'signature line']);
    const list = lines(SIGNIFY);
    for (const { at, mutated } of bitFlips(fromBase64(list[1]!))) {
      const where = at < 2 ? 'algorithm' : at < 10 ? 'key number' : 'signature';
      await ledger.try(where, file([list[0]!, toBase64(mutated), '']));
    }
    await lineOps(ledger, SIGNIFY);
    await moduleSample();
    ledger.finish();
  });
});

describe('mutation corpus: raw Ed25519', () => {
  it('no change to a raw signature (bytes, base64 or hex) verifies', async () => {
    const { ledger, baseline, moduleSample } = detached('raw-ed25519', RAW, []);
    await baseline();
    for (const { mutated } of bitFlips(RAW)) await ledger.try('signature bytes', mutated);
    for (const { mutated } of byteFlips(RAW_BASE64)) await ledger.try('base64 text', mutated);
    for (const { mutated } of byteFlips(RAW_HEX)) await ledger.try('hex text', mutated);
    await ledger.try('drop the last byte', RAW.subarray(0, 63));
    await ledger.try('one byte more', concatBytes(RAW, Uint8Array.of(0)));
    await ledger.try('signature twice', concatBytes(RAW, RAW));
    await ledger.try('base64 twice', utf8(`${text(RAW_BASE64)}${text(RAW_BASE64)}`));
    await ledger.try('R and S swapped', concatBytes(RAW.subarray(32), RAW.subarray(0, 32)));
    await ledger.try('another key', await signRaw(MODULE, OTHER_SEED));
    await ledger.try('signature over another module', await signRaw(MODULE.subarray(1), SEED));
    await moduleSample();
    ledger.finish();
  });
});

/** Names each byte of a zip: an entry's data, its headers (metadata), or the end record. */
function zipRegions(zip: Uint8Array): (at: number) => string {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const regions: [number, number, string][] = [];
  const eocd = zip.length - 22;
  const cdSize = view.getUint32(eocd + 12, true);
  let cd = view.getUint32(eocd + 16, true);
  const end = cd + cdSize;
  while (cd < end) {
    const n = view.getUint16(cd + 28, true);
    const m = view.getUint16(cd + 30, true);
    const k = view.getUint16(cd + 32, true);
    const name = text(zip.subarray(cd + 46, cd + 46 + n));
    const local = view.getUint32(cd + 42, true);
    const size = view.getUint32(cd + 20, true);
    const header = 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    regions.push([local, local + header, `zip metadata (${name})`]);
    regions.push([local + header, local + header + size, `${name} data`]);
    regions.push([cd, cd + 46 + n + m + k, `zip metadata (${name})`]);
    cd += 46 + n + m + k;
  }
  regions.push([eocd, zip.length, 'zip metadata (end record)']);
  return (at) => regions.find(([from, to]) => at >= from && at < to)?.[2] ?? 'zip gap';
}

describe('mutation corpus: tenant zip (old console layout)', () => {
  it('only unsigned parts of a tenant zip may change: manifest.json, pubkey.b64, zip metadata', async () => {
    const where = zipRegions(TENANT_ZIP);
    const unsigned = [
      'manifest.json data',
      'pubkey.b64 data',
      'extra module in a subfolder',
      'drop manifest.json',
      'drop pubkey.b64',
      ...Object.keys(TENANT_FILES).map((name) => `zip metadata (${name})`),
      'zip metadata (end record)'
    ];
    const ledger = new Ledger<Verdict>(
      'tenant zip',
      'verify(tenant-zip)',
      (bytes) => verify({ kind: 'tenant-zip', bytes }, [KEY]),
      new Set(unsigned),
      (v) => {
        expect(v.moduleBytes).toEqual(MODULE);
        expect(v.signers).toEqual([KEY.id]);
      }
    );
    expect((await verify({ kind: 'tenant-zip', bytes: TENANT_ZIP }, [KEY])).ok).toBe(true);
    // Every byte, except that the deflated module gets 256 positions like every module sample.
    const data = [...TENANT_ZIP.keys()].filter((at) => where(at) === 'module.wasm data');
    const sampled = new Set(samplePositions(data.length, 256).map((i) => data[i]));
    for (const { at, mutated } of byteFlips(TENANT_ZIP)) {
      if (where(at) === 'module.wasm data' && !sampled.has(at)) continue;
      await ledger.try(where(at), mutated);
    }
    const zip = (files: Record<string, Uint8Array>) => zipSync(files);
    const sig = fromBase64(text(TENANT_FILES['module.sig']!).trim());
    for (const { mutated } of bitFlips(sig)) {
      await ledger.try(
        'module.sig signature',
        zip({ ...TENANT_FILES, 'module.sig': utf8(toBase64(mutated)) })
      );
    }
    for (const at of samplePositions(MODULE.length, 256)) {
      const module = MODULE.slice();
      module[at]! ^= 0x01;
      await ledger.try('module.wasm', zip({ ...TENANT_FILES, 'module.wasm': module }));
    }
    for (const name of Object.keys(TENANT_FILES)) {
      const rest = Object.fromEntries(Object.entries(TENANT_FILES).filter(([n]) => n !== name));
      await ledger.try(`drop ${name}`, zip(rest));
    }
    // Two entries of one name: the second is written as module.wasX and renamed in place.
    const foreignSig = utf8(toBase64(await signRaw(MODULE, OTHER_SEED)));
    for (const [name, other] of [
      ['module.wasm', utf8('\0asm\x01\0\0\0evil')],
      ['module.sig', foreignSig]
    ] as const) {
      for (const order of ['original first', 'other first'] as const) {
        const twin = `${name.slice(0, -1)}X`;
        const files =
          order === 'original first'
            ? { ...TENANT_FILES, [twin]: other }
            : { [twin]: TENANT_FILES[name]!, ...TENANT_FILES, [name]: other };
        const bytes = zip(files);
        const from = utf8(twin);
        for (let i = 0; i + from.length <= bytes.length; i++) {
          if (from.every((b, j) => bytes[i + j] === b)) bytes.set(utf8(name), i);
        }
        const v = await ledger.tryWith(`duplicate ${name} (${order})`, () =>
          verify({ kind: 'tenant-zip', bytes }, [KEY])
        );
        expect(v?.reasons.map((r) => r.code)).toEqual(['tenant.zip-duplicate']);
      }
    }
    await ledger.try(
      'extra module in a subfolder',
      zip({ ...TENANT_FILES, 'x/module.wasm': utf8('evil') })
    );
    await ledger.try(
      'claimed key and signature of another key',
      zip({
        ...TENANT_FILES,
        'module.sig': foreignSig,
        'pubkey.b64': utf8(toBase64(OTHER_PUBLIC_KEY))
      })
    );
    expect(toHex(KEY.publicKey)).not.toBe(toHex(OTHER_PUBLIC_KEY));
    ledger.finish();
  });
});
