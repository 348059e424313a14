/**
 * Every kind of damaged or forged backup is refused by readBackup with its own code, before
 * anything is written. Two tiers: changes an attacker without the device key can make (caught by
 * the part hashes and the manifest signature), and changes re-signed with the device key itself
 * (the test holds it), which reach the deeper checks: rows, modules, approvals, audit, checkpoints.
 */
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../src/lib/core/bytes';
import { sha256Hex } from '../../src/lib/core/digest';
import { MAX_BACKUP_BYTES, type BackupManifest } from '../../src/lib/core/backup/format';
import {
  encodeManifest,
  encodeSignature,
  parseManifest,
  signedMessage
} from '../../src/lib/core/backup/manifest';
import { readBackup } from '../../src/lib/core/backup/read';
import { readSnapshot } from '../../src/lib/storage/backup-store';
import { writeBackup } from '../../src/lib/core/backup/write';
import {
  populatedProfile,
  testDevice,
  type Populated,
  type TestDevice
} from './helpers/backup-profile';

type Files = Record<string, Uint8Array>;

let profile: Populated;
let good: Uint8Array;

beforeAll(async () => {
  profile = await populatedProfile();
  const snapshot = await readSnapshot(profile.db);
  good = (
    await writeBackup({
      app: '0.1.0-test',
      created: Date.UTC(2026, 11, 6),
      device: profile.device,
      origin: profile.audit.origin,
      ...snapshot
    })
  ).bytes;
});

const unpack = (zip: Uint8Array): Files => unzipSync(zip);
const flip = (bytes: Uint8Array) => (bytes[40] = bytes[40]! ^ 1);
const text = (files: Files, path: string) => fromUtf8(files[path]!);
const setText = (files: Files, path: string, value: string) => (files[path] = utf8(value));

/** Rewrites the manifest over the files as they are now and signs it with `signer`. */
async function resign(files: Files, signer: TestDevice, keepRows = false): Promise<Uint8Array> {
  const old = parseManifest(files['manifest.json']!);
  if (!old.ok) throw new Error('bad manifest');
  const rowsOf = new Map(old.manifest.parts.map((p) => [p.path, p.rows]));
  const parts = [];
  for (const [path, bytes] of Object.entries(files)) {
    if (path === 'manifest.json' || path === 'manifest.sig') continue;
    const lines = path.endsWith('.jsonl') ? fromUtf8(bytes).split('\n').length - 1 : null;
    const rows = path === 'audit/log.jsonl' ? lines! - 1 : lines;
    parts.push({
      path,
      sha256: await sha256Hex(bytes),
      size: bytes.length,
      rows: keepRows ? (rowsOf.get(path) ?? rows) : rows
    });
  }
  const manifest: BackupManifest = {
    ...old.manifest,
    deviceKey: { id: signer.id, name: signer.name, publicKey: signer.publicKey },
    parts
  };
  const bytes = encodeManifest(manifest);
  files['manifest.json'] = bytes;
  files['manifest.sig'] = encodeSignature(await signer.sign(signedMessage(bytes)));
  return zipSync(files);
}

async function refusedWith(zip: Uint8Array): Promise<string> {
  const result = await readBackup(zip);
  return result.ok ? 'accepted' : result.reason.code;
}

describe('backup tampering: without the device key', () => {
  it('the intact backup is accepted (the baseline every case below changes)', async () => {
    expect(await refusedWith(good)).toBe('accepted');
  });

  it('refuses what is not a zip, a truncated file and an oversized one', async () => {
    expect(await refusedWith(utf8('{"nightcoreBundle":1}'))).toBe('backup.zip');
    expect(await refusedWith(good.subarray(0, good.length - 30))).toBe('backup.zip');
    expect(await refusedWith(good.subarray(0, Math.floor(good.length / 2)))).toBe('backup.zip');
    expect(await refusedWith(new Uint8Array(MAX_BACKUP_BYTES + 1))).toBe('backup.too-large');
  });

  it('refuses a zip that is not a backup, or another format', async () => {
    expect(await refusedWith(zipSync({ 'hello.txt': utf8('hi') }))).toBe('backup.missing-part');
    const files = unpack(good);
    setText(
      files,
      'manifest.json',
      text(files, 'manifest.json').replace('nightcore.backup/v1', 'nightcore.backup/v2')
    );
    expect(await refusedWith(zipSync(files))).toBe('backup.format');
  });

  it('refuses one changed byte in the manifest, a module, a row, the audit log', async () => {
    const manifest = unpack(good);
    setText(
      manifest,
      'manifest.json',
      text(manifest, 'manifest.json').replace('"0.1.0-test"', '"0.1.0-tesT"')
    );
    expect(await refusedWith(zipSync(manifest))).toBe('backup.signature');

    const module = unpack(good);
    const name = Object.keys(module).find((p) => p.startsWith('modules/'))!;
    flip(module[name]!);
    expect(await refusedWith(zipSync(module))).toBe('backup.part-hash');

    const row = unpack(good);
    setText(row, 'keys.jsonl', text(row, 'keys.jsonl').replace('"label":"alice', '"label":"alicf'));
    expect(await refusedWith(zipSync(row))).toBe('backup.part-hash');

    const audit = unpack(good);
    setText(audit, 'audit/log.jsonl', text(audit, 'audit/log.jsonl').replace('"n":1', '"n":2'));
    expect(await refusedWith(zipSync(audit))).toBe('backup.part-hash');
  });

  it('refuses a missing part, an unlisted file, and a bad signature file', async () => {
    const missing = unpack(good);
    delete missing['requests.jsonl'];
    expect(await refusedWith(zipSync(missing))).toBe('backup.missing-part');
    const extra = unpack(good);
    extra['modules/evil'] = utf8('x');
    expect(await refusedWith(zipSync(extra))).toBe('backup.unexpected-part');
    const sig = unpack(good);
    setText(sig, 'manifest.sig', 'not base64!\n');
    expect(await refusedWith(zipSync(sig))).toBe('backup.signature');
  });

  it('refuses a backup re-signed by another key: its approvals and audit checkpoint name the real one', async () => {
    const files = unpack(good);
    setText(
      files,
      'keys.jsonl',
      text(files, 'keys.jsonl').replace('"trust":"review"', '"trust":"auto"')
    );
    expect(await refusedWith(await resign(files, await testDevice()))).toBe('backup.approval');
    // Without approvals to give it away, the audit checkpoint still does.
    setText(files, 'requests.jsonl', '');
    expect(await refusedWith(await resign(files, await testDevice()))).toBe('backup.audit');
  });
});

describe('backup tampering: re-signed with the device key (deeper checks)', () => {
  const signer = () => profile.device;

  it('refuses a malformed row, a wrong row count and a duplicate row', async () => {
    const malformed = unpack(good);
    setText(
      malformed,
      'keys.jsonl',
      text(malformed, 'keys.jsonl').replace('"trust":"review"', '"trust":"root"')
    );
    expect(await refusedWith(await resign(malformed, signer()))).toBe('backup.row');

    const notJson = unpack(good);
    setText(notJson, 'policies.jsonl', '{"version":2,"version":3}\n');
    expect(await refusedWith(await resign(notJson, signer()))).toBe('backup.row');

    const count = unpack(good);
    setText(count, 'runs.jsonl', '');
    expect(await refusedWith(await resign(count, signer(), true))).toBe('backup.row-count');

    const duplicate = unpack(good);
    const line = text(duplicate, 'policies.jsonl');
    setText(duplicate, 'policies.jsonl', line + line);
    expect(await refusedWith(await resign(duplicate, signer()))).toBe('backup.duplicate');
  });

  it('refuses a key whose id is not its public key', async () => {
    const files = unpack(good);
    setText(files, 'keys.jsonl', text(files, 'keys.jsonl').replace(profile.keyId, 'ab'.repeat(32)));
    expect(await refusedWith(await resign(files, signer()))).toBe('backup.row');
  });

  it('a key label hiding a direction override comes back with it visible, as pinning would show it', async () => {
    // Pinned before labels were checked: the backup must still restore, and show what it hides.
    const files = unpack(good);
    const keys = text(files, 'keys.jsonl');
    expect(keys).toContain('"label":"alice');
    setText(files, 'keys.jsonl', keys.replace('"label":"alice', '"label":"alice\\u202e'));
    const result = await readBackup(await resign(files, signer()));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const label = String(result.backup.rows.keys[0]!.label);
    expect(label.startsWith('aliceU+202E')).toBe(true);
    expect(label).not.toMatch(/\u202e/);
  });

  it('refuses module bytes that do not match their name, and a missing approved module', async () => {
    const changed = unpack(good);
    flip(changed[`modules/${profile.helloSha}`]!);
    expect(await refusedWith(await resign(changed, signer()))).toBe('backup.module-hash');

    const gone = unpack(good);
    delete gone[`modules/${profile.helloSha}`];
    const index = text(gone, 'modules.jsonl')
      .split('\n')
      .filter((l) => !l.includes(profile.helloSha));
    setText(gone, 'modules.jsonl', index.join('\n'));
    expect(await refusedWith(await resign(gone, signer()))).toBe('backup.module-missing');
  });

  it('refuses an approval whose grant or module was changed after it was signed', async () => {
    const raised = unpack(good);
    setText(
      raised,
      'requests.jsonl',
      text(raised, 'requests.jsonl').replace(
        '"limits":{"timeoutMs":5000',
        '"limits":{"timeoutMs":9000'
      )
    );
    expect(await refusedWith(await resign(raised, signer()))).toBe('backup.approval');

    // The approved request re-pointed at the other module (present): the decision no longer binds.
    const swapped = unpack(good);
    const rows = text(swapped, 'requests.jsonl')
      .split('\n')
      .map((l) =>
        l.includes('"id":"req-approved"')
          ? l.replace(
              `"moduleSha256":"${profile.helloSha}","manifestSha256"`,
              `"moduleSha256":"${profile.echoSha}","manifestSha256"`
            )
          : l
      );
    setText(swapped, 'requests.jsonl', rows.join('\n'));
    expect(await refusedWith(await resign(swapped, signer()))).toBe('backup.approval');
  });

  it('refuses an edited audit record and a rewritten checkpoint', async () => {
    const audit = unpack(good);
    setText(audit, 'audit/log.jsonl', text(audit, 'audit/log.jsonl').replace('"n":1', '"n":2'));
    expect(await refusedWith(await resign(audit, signer()))).toBe('backup.audit');

    const checkpoint = unpack(good);
    const row = JSON.parse(text(checkpoint, 'checkpoints.jsonl').split('\n')[0]!) as {
      rootHash: string;
    };
    setText(
      checkpoint,
      'checkpoints.jsonl',
      text(checkpoint, 'checkpoints.jsonl').replace(row.rootHash, 'cd'.repeat(32))
    );
    expect(await refusedWith(await resign(checkpoint, signer()))).toBe('backup.checkpoint');
  });

  it('refuses meta entries that are not data', async () => {
    const files = unpack(good);
    setText(files, 'meta.jsonl', `${text(files, 'meta.jsonl')}{"name":"device-key","value":{}}\n`);
    expect(await refusedWith(await resign(files, signer()))).toBe('backup.row');
  });

  it('refuses fields of the wrong shape that a page would trip over', async () => {
    const cases: [string, string, string][] = [
      ['runs.jsonl', '"status":"exited"', '"status":"<b>x</b>"'],
      ['runs.jsonl', '"exitCode":0', '"exitCode":"0"'],
      ['requests.jsonl', '"kind":"verified"', '"kind":"trusted"'],
      ['requests.jsonl', '"fileName":"req-pending.ncb"', '"fileName":7'],
      ['meta.jsonl', '"value":"auto"', '"value":"yolo"']
    ];
    for (const [path, from, to] of cases) {
      const files = unpack(good);
      expect(text(files, path), path).toContain(from);
      setText(files, path, text(files, path).replace(from, to));
      expect(await refusedWith(await resign(files, signer())), `${path} ${to}`).toBe('backup.row');
    }
  });
});
