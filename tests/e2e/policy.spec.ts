import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditReady, auditRecords, gotoReady } from './helpers';
import { DEFAULT_POLICY } from '../../src/lib/core/policy/document';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
const HELLO = new URL('../fixtures/wasm/hello.wasm', import.meta.url).pathname;
const HASH = 'ab'.repeat(32);

async function openPolicy(page: Page) {
  await gotoReady(page, '/policy');
  await auditReady(page);
  await expect(page.getByTestId('policy-form')).toBeVisible();
}

/** The draft as the JSON view holds it. */
async function draft(page: Page): Promise<Record<string, unknown>> {
  return JSON.parse(await page.getByTestId('policy-json').inputValue());
}

async function save(page: Page, expected: RegExp | string) {
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-message')).toContainText(expected);
}

const versions = (page: Page) => page.getByTestId('policy-version');

async function policyAudit(page: Page) {
  return (await auditRecords(page)).filter((r) => r.event === 'policy.version');
}

test('editing a limit in the form saves a new version, with a diff and an audit record', async ({
  page
}) => {
  await openPolicy(page);
  await expect(versions(page)).toHaveCount(1);
  await expect(versions(page).first()).toHaveAttribute('data-version', 'default');
  await expect(versions(page).first()).toContainText('built-in default');

  await page.locator('#policy-limits-maximum-memoryMiB').fill('256');
  // The JSON view follows the form.
  expect(((await draft(page)).limits as { maximum: { memoryMiB: number } }).maximum.memoryMiB).toBe(
    256
  );
  await save(page, 'Saved as version 2');

  // The first stored version is 2: "1" is the built-in default, never a second thing.
  await expect(versions(page)).toHaveCount(2);
  await expect(versions(page).first()).toHaveAttribute('data-version', '2');
  const diff = page.getByTestId('policy-diff');
  await expect(diff).toContainText('built-in default to version 2');
  const change = diff.locator('li[data-field="limits.maximum.memoryMiB"]');
  await expect(change).toHaveAttribute('data-kind', 'changed');
  await expect(change).toContainText('512');
  await expect(change).toContainText('256');
  await expect(diff.locator('li')).toHaveCount(1);

  const [record] = await policyAudit(page);
  expect(record?.details).toMatchObject({
    version: 2,
    previous: 1,
    source: 'json',
    change: 'limits.maximum.memoryMiB 512 → 256',
    changes: [{ field: 'limits.maximum.memoryMiB', kind: 'changed', before: 512, after: 256 }]
  });

  // Edit a choice and a list in the form: version 3, and the older diff is still there.
  await page.locator('#policy-unknownSigner').selectOption('reject');
  await page.locator('#policy-blockedHashes').fill(`${HASH}\n`);
  await page.getByLabel('fs-read').check();
  await save(page, 'Saved as version 3');
  await expect(diff.locator('li[data-field="unknownSigner"]')).toContainText('"reject"');
  await expect(diff.locator('li[data-field="blockedHashes"]')).toHaveAttribute(
    'data-kind',
    'added'
  );
  await expect(diff.locator('li[data-field="allowedCapabilities"]')).toContainText('fs-read');
  await versions(page).nth(1).getByRole('button').click();
  await expect(diff).toContainText('built-in default to version 2');

  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  await expect(versions(page)).toHaveCount(3);
  const stored = await draft(page);
  expect(stored).toMatchObject({ version: 3, unknownSigner: 'reject', blockedHashes: [HASH] });
  await expect(page.locator('#policy-limits-maximum-memoryMiB')).toHaveValue('256');
});

test('invalid input is refused with every field named; the version in force stays', async ({
  page
}) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await openPolicy(page);
  await page.locator('#policy-threshold').fill('2');
  await save(page, 'Saved as version 2');

  // A limit over its bound and an unknown field, in the JSON view.
  const doc = await draft(page);
  (doc.limits as { maximum: { memoryMiB: number } }).maximum.memoryMiB = 999_999;
  await page.getByTestId('policy-json').fill(JSON.stringify({ ...doc, surprise: true }, null, 2));
  await page.getByTestId('policy-save').click();
  const errors = page.getByTestId('policy-errors');
  await expect(errors.locator('li[data-field="limits.maximum.memoryMiB"]')).toContainText(
    'between 1 and 4096'
  );
  await expect(errors.locator('li[data-field="surprise"]')).toContainText('not a policy field');
  await expect(errors.locator('li')).toHaveCount(2);
  // Shown next to the field in the form too.
  await expect(
    page.getByTestId('policy-form').locator('[data-field="limits.maximum.memoryMiB"]')
  ).toBeVisible();
  await expect(page.getByTestId('policy-message')).toContainText('version 2) is unchanged');

  // A form edit that breaks a bound is judged the same way (no second validator).
  await page.locator('#policy-threshold').fill('17');
  await page.getByTestId('policy-save').click();
  await expect(errors.locator('li[data-field="threshold"]')).toContainText('between 1 and 16');

  // A duplicate key: the strict parser refuses the whole document.
  await page
    .getByTestId('policy-json')
    .fill(JSON.stringify(doc, null, 2).replace('"threshold": 2', '"threshold": 2, "threshold": 1'));
  await expect(page.getByTestId('policy-form')).toContainText('does not hold a JSON object');
  await page.getByTestId('policy-save').click();
  await expect(errors.locator('li[data-field="(document)"]')).toContainText(/duplicate/i);

  await expect(versions(page)).toHaveCount(2);
  const refused = (await policyAudit(page)).filter((r) => r.details.result === 'refused');
  expect(refused.map((r) => (r.details.errors as { field: string }[]).map((e) => e.field))).toEqual(
    [
      ['surprise', 'limits.maximum.memoryMiB'],
      ['surprise', 'threshold', 'limits.maximum.memoryMiB'],
      ['(document)']
    ]
  );
  expect(refused.every((r) => r.details.inForce === 2)).toBe(true);

  // Reload: version 2 is in force, untouched.
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  await expect(versions(page)).toHaveCount(2);
  expect(await draft(page)).toMatchObject({ version: 2, threshold: 2 });
  await expect(page.getByTestId('policy-errors')).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test('export then import round-trips after a confirm; an invalid import is refused and audited', async ({
  page
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-policy-'));
  await openPolicy(page);
  await page.locator('#policy-name').fill('exported');
  await page.locator('#policy-pinnedHashes').fill(HASH);
  await save(page, 'Saved as version 2');

  const downloading = page.waitForEvent('download');
  await page.getByTestId('policy-export').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('nightcore-policy-2.json');
  const file = join(dir, 'exported.json');
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  expect(exported).toMatchObject({ version: 2, name: 'exported', pinnedHashes: [HASH] });

  await page.locator('#policy-name').fill('changed');
  await page.locator('#policy-pinnedHashes').fill('');
  await save(page, 'Saved as version 3');

  // Choosing the file puts nothing in force: its changes against version 3 wait for a confirm.
  await page.getByTestId('policy-import').setInputFiles(file);
  const pending = page.getByTestId('policy-import-pending');
  await expect(pending).toContainText('Put exported.json in force?');
  await expect(pending.getByTestId('policy-diff')).toContainText(
    'the policy in force (version 3) to exported.json'
  );
  await expect(pending.locator('li[data-field="name"]')).toContainText('"exported"');
  await expect(pending.locator('li[data-field="pinnedHashes"]')).toHaveAttribute(
    'data-kind',
    'added'
  );
  await expect(page.getByTestId('policy-message')).toContainText('Nothing is in force until');
  await expect(versions(page)).toHaveCount(3);
  expect(await draft(page)).toMatchObject({ version: 3, name: 'changed' });
  await page.getByTestId('policy-import-confirm').click();
  await expect(page.getByTestId('policy-message')).toContainText('Saved as version 4');
  await expect(pending).toHaveCount(0);
  expect(await draft(page)).toEqual({ ...exported, version: 4 });
  const diff = page.getByTestId('policy-diff');
  await expect(diff).toContainText('version 3 to version 4');
  await expect(diff.locator('li[data-field="name"]')).toContainText('"exported"');
  await expect(diff.locator('li[data-field="pinnedHashes"]')).toHaveAttribute('data-kind', 'added');

  // An invalid import: refused with its fields, nothing saved, the draft kept, audited.
  await page.locator('#policy-threshold').fill('3'); // an unsaved edit that must survive
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...exported, threshold: 0, expiredBundles: 'review' }));
  await page.getByTestId('policy-import').setInputFiles(bad);
  const errors = page.getByTestId('policy-errors');
  await expect(errors.locator('li[data-field="threshold"]')).toBeVisible();
  await expect(errors.locator('li[data-field="expiredBundles"]')).toBeVisible();
  await expect(page.getByTestId('policy-message')).toContainText('Import refused');
  await expect(versions(page)).toHaveCount(4);
  expect(await draft(page)).toMatchObject({ version: 4, threshold: 3 });
  const last = (await policyAudit(page)).at(-1);
  expect(last?.details).toMatchObject({
    result: 'refused',
    source: 'import',
    fileName: 'bad.json'
  });
  const imported = (await policyAudit(page)).find((r) => r.details.version === 4);
  expect(imported?.details).toMatchObject({ source: 'import', fileName: 'exported.json' });
});

test('an import can be discarded (nothing stored or audited, the draft kept) and is shown again when the policy changed meanwhile', async ({
  page
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-policy-'));
  await openPolicy(page);
  const file = join(dir, 'strict.json');
  writeFileSync(file, JSON.stringify({ ...DEFAULT_POLICY, name: 'strict', threshold: 2 }));
  const before = (await policyAudit(page)).length;

  // Discard: nothing stored, nothing audited, an unsaved draft edit kept.
  await page.locator('#policy-name').fill('my draft');
  await page.getByTestId('policy-import').setInputFiles(file);
  const pending = page.getByTestId('policy-import-pending');
  await expect(pending.getByTestId('policy-import-draft-warning')).toBeVisible();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const result = await new AxeBuilder({ page })
      .include('[data-testid="policy-import-pending"]')
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const serious = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact!));
    expect(serious.map((v) => `${colorScheme}: ${v.id}`)).toEqual([]);
  }
  await page.getByTestId('policy-import-discard').click();
  await expect(pending).toHaveCount(0);
  await expect(page.getByTestId('policy-message')).toContainText(
    'Import of strict.json discarded. The policy in force (the built-in default) is unchanged.'
  );
  expect(await draft(page)).toMatchObject({ name: 'my draft' });
  await expect(versions(page)).toHaveCount(1);
  expect(await policyAudit(page)).toHaveLength(before);

  // Opened against the default, then a save lands first: the confirm is refused and the
  // changes are shown again against the new version.
  await page.getByTestId('policy-import').setInputFiles(file);
  await expect(pending.getByTestId('policy-diff')).toContainText('(the built-in default)');
  await save(page, 'Saved as version 2');
  await page.getByTestId('policy-import-confirm').click();
  await expect(page.getByTestId('policy-message')).toContainText(
    'Not imported yet: version 2 was saved since strict.json was opened'
  );
  await expect(pending.getByTestId('policy-diff')).toContainText('(version 2)');
  await expect(versions(page)).toHaveCount(2);
  await page.getByTestId('policy-import-confirm').click();
  await expect(page.getByTestId('policy-message')).toContainText('Saved as version 3');
  expect(await draft(page)).toMatchObject({ version: 3, name: 'strict', threshold: 2 });
  const imported = (await policyAudit(page)).at(-1);
  expect(imported?.details).toMatchObject({ source: 'import', fileName: 'strict.json' });
});

test('markup in the policy name is shown as text and never runs', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const hostile = '<img src=x onerror=alert(1)>';
  await openPolicy(page);
  await page.locator('#policy-name').fill(hostile);
  await save(page, 'Saved as version 2');
  await expect(versions(page).first().locator('.name')).toHaveText(hostile);
  await expect(page.getByTestId('policy-diff').locator('li[data-field="name"]')).toContainText(
    hostile
  );
  await page.reload();
  await expect(page.locator('html[data-ready="true"]')).toHaveCount(1);
  await expect(versions(page).first().locator('.name')).toHaveText(hostile);
  await expect(page.locator('main img, .versions img')).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test('the dry run shows which queued requests the draft would decide differently', async ({
  page
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-policy-'));
  const nightcore = (...args: string[]) => {
    const result = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`nightcore ${args.join(' ')}: ${result.stderr}`);
  };
  copyFileSync(HELLO, join(dir, 'hello.wasm'));
  nightcore('keygen', '--out', 'alice');
  nightcore('keygen', '--out', 'mallory');
  nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'a.ncb');
  nightcore('sign', 'hello.wasm', '--key', 'mallory.key', '--version', '1.0.0', '--out', 'm.ncb');
  const text = (name: string) => readFileSync(join(dir, name), 'utf8');

  await gotoReady(page, '/keys');
  await auditReady(page);
  await page.getByTestId('key-import').fill(text('alice.ssh.pub'));
  await page.getByTestId('key-label').fill('alice');
  await page.getByTestId('key-import-submit').click();
  await expect(page.getByTestId('key-import-result')).toContainText('Pinned 1 key.');
  await gotoReady(page, '/inbox');
  for (const name of ['a.ncb', 'm.ncb']) {
    await page.getByTestId('intake-paste').fill(text(name));
    await page.getByTestId('intake-submit').click();
    await expect(page.getByTestId('intake-result')).toContainText('received');
  }
  await expect(page.locator('[data-testid="request"][data-state="pending"]')).toHaveCount(2);
  const ids = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const rows = await new Promise<{ id: string; verdict: { kind: string } }[]>((resolve) => {
      const request = db.transaction('requests').objectStore('requests').getAll();
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    return Object.fromEntries(rows.map((r) => [r.verdict.kind, r.id]));
  });
  expect(Object.keys(ids).sort()).toEqual(['untrusted', 'verified']);

  await openPolicy(page);
  const row = (id: string) =>
    page.locator(`[data-testid="policy-dry-run-row"][data-request-id="${id}"]`);
  // Unchanged draft: nothing would change.
  await page.getByTestId('policy-dry-run').click();
  await expect(page.getByTestId('policy-dry-run-row')).toHaveCount(2);
  for (const id of Object.values(ids)) {
    await expect(row(id)).toHaveAttribute('data-current', 'review');
    await expect(row(id)).toHaveAttribute('data-draft', 'review');
  }

  // Unknown signers rejected: the stranger's pending request flips, alice's does not.
  await page.locator('#policy-unknownSigner').selectOption('reject');
  await page.getByTestId('policy-dry-run').click();
  await expect(row(ids.untrusted!)).toHaveAttribute('data-draft', 'reject');
  await expect(row(ids.untrusted!)).toHaveAttribute('data-current', 'review');
  await expect(row(ids.untrusted!)).toContainText('policy.unknown-signer');
  await expect(row(ids.verified!)).toHaveAttribute('data-draft', 'review');

  // Blocking the module's hash rejects both.
  const moduleSha = await hashOf(page, ids.verified!);
  await page.locator('#policy-blockedHashes').fill(moduleSha);
  await page.getByTestId('policy-dry-run').click();
  await expect(row(ids.verified!)).toHaveAttribute('data-draft', 'reject');
  await expect(row(ids.verified!)).toContainText('policy.blocked');

  // A dry run saves nothing.
  await expect(versions(page)).toHaveCount(1);
  expect(await policyAudit(page)).toEqual([]);
});

async function hashOf(page: Page, id: string): Promise<string> {
  return page.evaluate(async (requestId) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('nightcore');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const row = await new Promise<{ moduleSha256: string }>((resolve) => {
      const request = db.transaction('requests').objectStore('requests').get(requestId);
      request.onsuccess = () => resolve(request.result);
    });
    db.close();
    return row.moduleSha256;
  }, id);
}

test('at 360 px the page does not scroll sideways, every control is labelled, focus is visible', async ({
  page
}) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await openPolicy(page);
  await page.locator('#policy-name').fill('x'.repeat(120));
  await page.locator('#policy-threshold').fill('99');
  await page.getByTestId('policy-save').click(); // refused: long error text on screen
  await expect(page.getByTestId('policy-errors')).toBeVisible();
  await page.getByTestId('policy-dry-run').click(); // refused too; the draft is invalid
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  expect(overflow).toBeLessThanOrEqual(0);

  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('main input, main select, main textarea')]
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label');
        return !labelled;
      })
      .map((el) => el.outerHTML.slice(0, 80))
  );
  expect(unlabelled).toEqual([]);

  await page.locator('#policy-threshold').focus();
  await page.keyboard.press('Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  expect(outline).not.toBe('none');
});

test('a draft begun before another save does not silently undo it', async ({ page, context }) => {
  await openPolicy(page);
  await page.locator('#policy-threshold').fill('2'); // a draft based on the built-in default

  const other = await context.newPage(); // e.g. a second tab (or a pin from the Inbox)
  await openPolicy(other);
  await other.locator('#policy-pinnedHashes').fill(HASH);
  await save(other, 'Saved as version 2');
  await other.close();

  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-message')).toContainText(
    'version 2 was saved while you edited'
  );
  await expect(versions(page)).toHaveCount(2); // the list now shows it
  expect(await draft(page)).toMatchObject({ threshold: 2, pinnedHashes: [] }); // draft kept
  await expect(page.getByTestId('policy-diff')).toBeVisible();
  // Saving again is a decision taken with version 2 in view: it goes through.
  await save(page, 'Saved as version 3');
  await expect(
    page.getByTestId('policy-diff').locator('li[data-field="pinnedHashes"]')
  ).toHaveAttribute('data-kind', 'removed');
});

test('an import with looser tenant values says which do not apply, before and after the confirm', async ({
  page
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'nightcore-e2e-policy-'));
  await openPolicy(page);
  const warnings = page.getByTestId('policy-warnings');
  await expect(warnings).toHaveCount(0);
  const file = join(dir, 'tenants.json');
  const tenants = {
    acme: { threshold: 1, allowedCapabilities: ['args', 'fs-write'], maxModuleBytes: 10 }
  };
  writeFileSync(file, JSON.stringify({ ...DEFAULT_POLICY, threshold: 2, tenants }));
  const looser =
    '2 tenant values are looser than the base and do not apply: tenants.acme.threshold, tenants.acme.allowedCapabilities.';

  await page.getByTestId('policy-import').setInputFiles(file);
  await expect(page.getByTestId('policy-message')).toContainText(looser);
  await expect(page.getByTestId('policy-message')).toContainText('Nothing is in force until');
  await expect(warnings.locator('li')).toHaveCount(2);
  await expect(warnings.locator('li[data-field="tenants.acme.threshold"]')).toContainText(
    '1 is lower than the base 2; the base value applies'
  );
  await expect(warnings.locator('li[data-field="tenants.acme.allowedCapabilities"]')).toContainText(
    'allows fs-write, which the base does not'
  );
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const result = await new AxeBuilder({ page })
      .include('[data-testid="policy-warnings"]')
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    const serious = result.violations.filter((v) => ['serious', 'critical'].includes(v.impact!));
    expect(serious.map((v) => `${colorScheme}: ${v.id}`)).toEqual([]);
  }

  // Discarded: the policy in force (the default) has no tenants, so no warnings.
  await page.getByTestId('policy-import-discard').click();
  await expect(warnings).toHaveCount(0);

  await page.getByTestId('policy-import').setInputFiles(file);
  await page.getByTestId('policy-import-confirm').click();
  await expect(page.getByTestId('policy-message')).toContainText(`Saved as version 2:`);
  await expect(page.getByTestId('policy-message')).toContainText(looser);
  await expect(warnings.locator('li')).toHaveCount(2);
  // Saved as written: the inert values are kept, not dropped.
  expect((await draft(page)).tenants).toEqual(tenants);
  const [record] = (await policyAudit(page)).slice(-1);
  expect(record?.details).toMatchObject({
    source: 'import',
    inertCount: 2,
    inert: [{ field: 'tenants.acme.threshold' }, { field: 'tenants.acme.allowedCapabilities' }]
  });
});
