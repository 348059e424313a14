import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBase64, toHex } from '../../src/lib/core/bytes';
import { publicKeyFromSecret } from '../../src/lib/core/ed25519';
import { parsePkcs8PrivateKeyPem, parseMinisignSecretKey } from '../../src/lib/core/keys';
import { auditReady, auditRecords, gotoReady } from './helpers';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const HELLO = new URL('../fixtures/wasm/hello.wasm', import.meta.url).pathname;
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-publish-'));
  const path = (name: string) => join(dir, name);
  const run = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8' });
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
    return `${result.stdout}${result.stderr}`;
  };
  const nightcore = (...args: string[]) => run(process.execPath, [CLI, ...args]);
  return { dir, path, run, nightcore, text: (name: string) => readFileSync(path(name), 'utf8') };
}

/** Navigates through the app's own links: a page load would drop what the tab holds in memory. */
async function navigate(page: Page, label: string, path: string) {
  await page.getByRole('navigation').getByRole('link', { name: label, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${path}/?$`));
}

async function download(page: Page, testId: string, dir: string) {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId(testId).click()
  ]);
  const target = join(dir, file.suggestedFilename());
  await file.saveAs(target);
  return { name: file.suggestedFilename(), path: target, text: readFileSync(target, 'utf8') };
}

/** Every value in every IndexedDB store of the app, as text (byte arrays as hex and base64). */
async function everyStoredValue(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
    const parts: string[] = [];
    for (const name of Array.from(db.objectStoreNames)) {
      const rows = await new Promise<unknown[]>((resolve, reject) => {
        const request = db.transaction(name).objectStore(name).getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      parts.push(
        `${name}:${JSON.stringify(rows, (_key, value: unknown) => {
          if (value instanceof ArrayBuffer) value = new Uint8Array(value);
          return value instanceof Uint8Array ? `${hex(value)} ${b64(value)}` : value;
        })}`
      );
    }
    db.close();
    return `${parts.join('\n')}\n${JSON.stringify({ ...localStorage })}${JSON.stringify({ ...sessionStorage })}`;
  });
}

test('a key made in the browser signs a bundle that the Inbox verifies; the private key is never stored', async ({
  page
}) => {
  test.setTimeout(60_000);
  const w = workspace();
  await gotoReady(page, '/keys');
  await auditReady(page);
  await expect(page.getByTestId('device-key')).toBeVisible();
  await expect(page.getByText('it signs each approval')).toBeVisible();

  await page.getByTestId('keygen').click();
  const pemText = (await page.getByTestId('keygen-private-pem').textContent())!;
  const minisignText = (await page.getByTestId('keygen-private-minisign').textContent())!;
  const keyId = (await page.getByTestId('keygen-key').getAttribute('data-key-id'))!;

  // The PEM is PKCS#8 and belongs to the public key shown, by our parser and by openssl.
  const pkcs8 = parsePkcs8PrivateKeyPem(pemText);
  if (!pkcs8.ok) throw new Error(pkcs8.reason.message);
  const publicKey = publicKeyFromSecret(pkcs8.seed);
  expect(sha256(publicKey)).toBe(keyId);
  const shownRaw = await page
    .locator('[data-testid="keygen-public"][data-format=".pub"]')
    .textContent();
  expect(shownRaw!.trim()).toBe(Buffer.from(publicKey).toString('base64'));
  const pemDownload = await download(page, 'keygen-download-pem', w.dir);
  expect(pemDownload.text).toBe(pemText);
  const pubPem = await page
    .locator('[data-testid="keygen-public"][data-format=".pub.pem"]')
    .textContent();
  expect(w.run('openssl', ['pkey', '-in', pemDownload.path, '-pubout'])).toBe(pubPem);
  const mini = parseMinisignSecretKey(minisignText);
  expect(mini.ok && toHex(mini.seed) === toHex(pkcs8.seed)).toBe(true);

  // The minisign secret key file works in the real minisign with the public key the page shows.
  const miniDownload = await download(page, 'keygen-download-minisign', w.dir);
  expect(miniDownload.text).toBe(minisignText);
  const miniPub = await page
    .locator('[data-testid="keygen-public"][data-format=".minisign.pub"]')
    .textContent();
  writeFileSync(w.path('page.minisign.pub'), miniPub!);
  writeFileSync(w.path('note.txt'), 'signed with a key from the browser\n');
  w.run('minisign', ['-S', '-s', miniDownload.path, '-m', 'note.txt']);
  expect(w.run('minisign', ['-V', '-p', 'page.minisign.pub', '-m', 'note.txt'])).toContain(
    'Signature and comment signature verified'
  );

  // The search below can find the secret while it is on the page (so its later silence means something).
  const pemBody = pemText.replace(/-----[^-]+-----|\s/g, '');
  const seedHex = toHex(pkcs8.seed);
  const seedB64 = Buffer.from(pkcs8.seed).toString('base64');
  const minisignLine = minisignText.split('\n')[1]!;
  expect(await page.content()).toContain(pemBody);

  await page.getByTestId('keygen-trust').selectOption('auto');
  await page.getByTestId('keygen-pin').click();
  await expect(page.getByTestId('keygen-pin-result')).toContainText('Pinned');
  const card = page.locator(`[data-testid="key"][data-fingerprint="${keyId}"]`);
  await expect(card).toHaveAttribute('data-trust', 'auto');

  // The bundle tool, reached by the app's own navigation so the session key is still in memory.
  await navigate(page, 'Publish', '/publish');
  await expect(page.getByTestId('publish-key-session')).toBeChecked();
  await page.getByTestId('publish-wasm').setInputFiles(HELLO);
  await expect(page.getByTestId('publish-module')).toHaveAttribute(
    'data-sha256',
    sha256(readFileSync(HELLO))
  );
  await expect(page.getByTestId('publish-field-name')).toHaveValue('hello');
  await page.getByTestId('publish-field-version').fill('1.2.0');
  const markup = '<img src=x onerror="window.pwned=1">';
  await page.getByTestId('publish-field-publisher').fill(markup);
  await page.getByTestId('publish-field-description').fill(`<b>bold</b>\n${markup}`);
  await page.getByTestId('publish-field-limits.timeoutMs').fill('2000');
  await page.getByTestId('publish-sign').click();
  await expect(page.getByTestId('publish-result')).toHaveAttribute('data-key-id', keyId);
  const bundle = await download(page, 'publish-download', w.dir);
  expect(bundle.name).toBe('hello-1.2.0.ncb');

  // The file itself: our manifest, the exact module, verified by the CLI under the page's key.
  const parsed = JSON.parse(bundle.text);
  const manifestBytes = fromBase64(parsed.envelope.payload);
  const manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8'));
  expect(manifest.publisher).toBe(markup);
  expect(manifest.limits).toEqual({ timeoutMs: 2000 });
  expect(manifest.module.sha256).toBe(sha256(readFileSync(HELLO)));
  writeFileSync(w.path('page.pub'), shownRaw!);
  expect(w.nightcore('verify', bundle.path, '--key', w.path('page.pub'))).toContain('verified');

  const signed = (await auditRecords(page)).filter((r) => r.event === 'bundle.signed');
  expect(signed).toHaveLength(1);
  const record = signed[0] as unknown as {
    subject: { moduleSha256: string; keyIds: string[] };
    details: { manifestSha256: string };
  };
  expect(record.subject).toEqual({ moduleSha256: sha256(readFileSync(HELLO)), keyIds: [keyId] });
  expect(record.details.manifestSha256).toBe(sha256(manifestBytes));
  const generated = (await auditRecords(page)).filter((r) => r.event === 'key.generated');
  expect(generated.map((r) => r.subject.keyIds)).toEqual([[keyId]]);

  // Into the Inbox by file (the downloaded .ncb): verified under the pinned key.
  await navigate(page, 'Inbox', '/inbox');
  await page.getByTestId('intake-file').setInputFiles(bundle.path);
  const request = page.getByTestId('request').first();
  await expect(request.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(request.locator('.name')).toHaveText('hello');

  // Leaving the Keys page hid the private key for good, though the tab still holds the seed.
  await navigate(page, 'Keys', '/keys');
  await expect(page.getByTestId('keygen-concealed')).toBeVisible();
  await expect(page.getByTestId('keygen-private-pem')).toHaveCount(0);
  expect(await page.content()).not.toContain(pemBody);

  // A reload ends the session: the key is gone from the page, and no store ever had it.
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  await auditReady(page);
  await navigate(page, 'Publish', '/publish');
  await expect(page.getByTestId('publish-key-session')).toBeDisabled();
  await navigate(page, 'Keys', '/keys');
  await expect(page.getByTestId('keygen-private-pem')).toHaveCount(0);
  const content = await page.content();
  const stored = await everyStoredValue(page);
  expect(stored).toContain(sha256(readFileSync(HELLO)).slice(0, 16)); // the search sees real data
  for (const secret of [pemBody, seedHex, seedB64, minisignLine, minisignLine.slice(60, 100)]) {
    expect(content).not.toContain(secret);
    expect(stored).not.toContain(secret);
  }
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});
