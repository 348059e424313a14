import { expect, test, type Page } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditReady, gotoReady } from './helpers';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;

/** Canonical key id the way the design defines it: SHA-256 of the raw 32-byte key. */
const idOf = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

function makeKeys() {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-keys-'));
  const run = (command: string, args: string[]) =>
    execFileSync(command, args, { cwd: dir, stdio: 'pipe' });
  const file = (name: string) => readFileSync(join(dir, name), 'utf8');
  spawnSync(process.execPath, [CLI, 'keygen', '--out', 'nc'], { cwd: dir });
  const ncRaw = Buffer.from(file('nc.pub').trim(), 'base64');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ssh user', '-f', 'ssh']);
  const sshRaw = Buffer.from(file('ssh.pub').split(' ')[1]!, 'base64').subarray(-32);
  run('minisign', ['-G', '-W', '-p', 'mini.pub', '-s', 'mini.key']);
  const miniRaw = Buffer.from(file('mini.pub').trim().split('\n')[1]!, 'base64').subarray(10);
  run('signify-openbsd', ['-G', '-n', '-p', 'sig.pub', '-s', 'sig.sec']);
  const sigRaw = Buffer.from(file('sig.pub').trim().split('\n')[1]!, 'base64').subarray(10);
  run('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', 'o.key']);
  run('openssl', ['pkey', '-in', 'o.key', '-pubout', '-out', 'o.pem']);
  const pemRaw = Buffer.from(file('o.pem').replace(/-----[^-]+-----|\s/g, ''), 'base64').subarray(
    -32
  );
  return [
    { format: 'raw hex', text: ncRaw.toString('hex'), id: idOf(ncRaw) },
    { format: 'ssh line', text: file('ssh.pub'), id: idOf(sshRaw) },
    { format: 'minisign', text: file('mini.pub'), id: idOf(miniRaw) },
    { format: 'signify', text: file('sig.pub'), id: idOf(sigRaw) },
    { format: 'PEM', text: file('o.pem'), id: idOf(pemRaw) },
    {
      format: 'allowed_signers',
      text: `# team\nci@example namespaces="nightcore" ${file('nc.ssh.pub')}`,
      id: idOf(ncRaw),
      duplicate: true
    }
  ];
}

async function importKey(page: Page, text: string, label: string) {
  await page.getByTestId('key-import').fill(text);
  await page.getByTestId('key-label').fill(label);
  await page.getByTestId('key-import-submit').click();
  return page.getByTestId('key-import-result');
}

const auditEvents = (page: Page) =>
  page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<
      { event: string; subject: { keyIds?: string[] }; details: Record<string, unknown> }[]
    >((resolve) => {
      const request = db.transaction('audit').objectStore('audit').getAll();
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    return rows.filter((r) => r.event.startsWith('key.'));
  });

test('keys in every format are pinned with their canonical id, audited, and survive a reload', async ({
  page
}) => {
  const keys = makeKeys();
  await gotoReady(page, '/keys');
  await auditReady(page);
  for (const key of keys) {
    const result = await importKey(page, key.text, `${key.format} key`);
    if (key.duplicate) {
      await expect(result).toContainText('already pinned (unchanged)');
    } else {
      await expect(result).toContainText('Pinned 1 key.');
      const card = page.locator(`[data-testid="key"][data-fingerprint="${key.id}"]`);
      await expect(card).toContainText(`${key.format} key`);
      await expect(card).toHaveAttribute('data-trust', 'review');
    }
  }
  await page.reload();
  await expect(page.getByTestId('key')).toHaveCount(5);
  const added = (await auditEvents(page)).filter((r) => r.event === 'key.added');
  expect(added.map((r) => r.subject.keyIds?.[0]).sort()).toEqual(
    keys
      .filter((k) => !k.duplicate)
      .map((k) => k.id)
      .sort()
  );
});

test('a bad key is refused with its reason and audited; nothing is pinned', async ({ page }) => {
  await gotoReady(page, '/keys');
  await auditReady(page);
  const result = await importKey(page, 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 rsa@host', 'rsa');
  await expect(result).toHaveAttribute('role', 'alert');
  await expect(result).toContainText(/ssh-rsa/);
  await expect(page.getByTestId('key')).toHaveCount(0);
  const refused = (await auditEvents(page)).filter((r) => r.details.result === 'refused');
  expect(refused).toHaveLength(1);
});

test('revoking asks first, is audited, and a label with markup stays text', async ({ page }) => {
  const [key] = makeKeys();
  await gotoReady(page, '/keys');
  await auditReady(page);
  const label = '<img src=x onerror="window.pwned=1">';
  await importKey(page, key!.text, label);
  const card = page.locator(`[data-testid="key"][data-fingerprint="${key!.id}"]`);
  await expect(card.locator('.label')).toHaveText(label);
  await card.getByRole('combobox').selectOption('revoked');
  await expect(card).toHaveAttribute('data-trust', 'review'); // not until confirmed
  await card.getByTestId('key-confirm').click();
  await expect(card).toHaveAttribute('data-trust', 'revoked');
  const revoked = (await auditEvents(page)).filter((r) => r.event === 'key.revoked');
  expect(revoked.map((r) => r.subject.keyIds?.[0])).toEqual([key!.id]);
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});

test('a label with a direction override or invisible character is refused by name and position, audited, nothing pinned', async ({
  page
}) => {
  const keys = makeKeys();
  const raw = keys.find((k) => k.format === 'raw hex')!;
  await gotoReady(page, '/keys');
  await auditReady(page);
  // "alice" then U+202E: the rest of the label would read right to left ("cod.exe" as "exe.doc").
  const result = await importKey(page, raw.text, 'alice\u202ecod.exe');
  await expect(result).toHaveAttribute('role', 'alert');
  await expect(result).toContainText(
    'The label contains U+202E RIGHT-TO-LEFT OVERRIDE at character 6'
  );
  await expect(page.getByTestId('key')).toHaveCount(0);

  // A label taken from an allowed_signers file (its principals) is checked the same way.
  const signers = keys.find((k) => k.format === 'allowed_signers')!;
  const hidden = signers.text.replace('ci@example', 'ci@exa\u2066mple');
  const fromFile = await importKey(page, hidden, '');
  await expect(fromFile).toContainText(
    'The label taken from the principals of key 1 in the file contains U+2066 LEFT-TO-RIGHT ISOLATE at character 7'
  );
  await expect(page.getByTestId('key')).toHaveCount(0);

  const refused = (await auditEvents(page)).filter((r) => r.details.result === 'refused');
  expect(refused.map((r) => [r.event, r.details.code])).toEqual([
    ['key.added', 'key.label'],
    ['key.added', 'key.label']
  ]);
  expect(String(refused[0]!.details.reason)).toContain('U+202E RIGHT-TO-LEFT OVERRIDE');

  // The same key with a clean label is then pinned: the refusal changed nothing else.
  await expect(await importKey(page, raw.text, 'alice')).toContainText('Pinned 1 key.');
  await expect(page.getByTestId('key')).toHaveCount(1);
});

test('raising trust and removing a key each land with their record, and the chain holds after a reload', async ({
  page
}) => {
  const [key] = makeKeys();
  await gotoReady(page, '/keys');
  await auditReady(page);
  await expect(await importKey(page, key!.text, 'ci')).toContainText('Pinned 1 key.');
  const card = page.locator(`[data-testid="key"][data-fingerprint="${key!.id}"]`);
  await card.getByRole('combobox').selectOption('auto');
  await expect(card).toHaveAttribute('data-trust', 'auto');
  await card.getByRole('button', { name: 'Remove…' }).click();
  await card.getByTestId('key-confirm').click();
  await expect(page.getByTestId('key')).toHaveCount(0);

  await page.reload();
  await gotoReady(page, '/keys');
  await auditReady(page);
  await expect(page.getByTestId('key')).toHaveCount(0);
  const status = await page.evaluate(
    () =>
      (
        window as unknown as {
          nightcoreAutomation: { audit: { status(): { status: string } } };
        }
      ).nightcoreAutomation.audit.status().status
  );
  expect(status).toBe('ok');
  const events = (await auditEvents(page)).map((r) => [
    r.event,
    r.details.trust,
    r.details.removed
  ]);
  expect(events).toEqual([
    ['key.added', 'review', undefined],
    ['key.changed', { from: 'review', to: 'auto' }, undefined],
    ['key.revoked', undefined, true]
  ]);
});
