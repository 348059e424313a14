/**
 * Replays and revoked co-signers through the UI, with bundles signed by the real CLI: an older
 * version left pending cannot be approved once the newer one has run, and a bundle co-signed by
 * a revoked key is rejected at intake even next to a key at trust "auto" in auto mode; a tenant
 * zip's folder picks that tenant's policy override.
 */
import { expect, test } from '@playwright/test';
import { zipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { auditReady, auditRecords, gotoReady, watchForProblems } from './helpers';
import { cliWorkspace, pinKey, runEnded, runReady } from './workspace';

test.setTimeout(120_000);

async function paste(page: import('@playwright/test').Page, text: string) {
  await page.getByTestId('intake-paste').fill(text);
  await page.getByTestId('intake-submit').click();
}

test('a pending older version cannot be approved once the newer one has run (rollback, audited)', async ({
  page
}) => {
  const watch = watchForProblems(page);
  const w = cliWorkspace('replay');
  const v1 = w.bundle('hello');
  const v2 = w.bundle('hello', '--version', '2.0.0', '--force');
  await pinKey(page, w.text('alice.pub')); // trust "review": both wait for a human
  await gotoReady(page, '/inbox');
  const requests = page.getByTestId('request');
  // v1 arrives first: nothing is approved yet, so neither is a rollback at intake.
  await paste(page, v1);
  await expect(requests).toHaveCount(1);
  await paste(page, v2);
  await expect(requests).toHaveCount(2);
  const newer = requests.filter({ hasText: '2.0.0' });
  const older = requests.filter({ hasText: '1.0.0' });
  await expect(newer).toHaveAttribute('data-state', 'pending');
  await expect(older).toHaveAttribute('data-state', 'pending');
  await newer.getByTestId('approve').click();
  await expect(newer).toHaveAttribute('data-state', 'approved');

  const run = await runReady(page, 'hello');
  await runEnded(run, 'exited', 60_000);

  await gotoReady(page, '/inbox');
  await expect(newer).toHaveAttribute('data-state', 'done');
  await older.getByTestId('approve').click();
  await expect(page.getByTestId('intake-result')).toContainText('Cannot approve');
  await expect(page.getByTestId('intake-result')).toContainText('older than the approved 2.0.0');
  await expect(older).toHaveAttribute('data-state', 'pending');

  await auditReady(page);
  const refused = (await auditRecords(page)).filter(
    (r) => r.event === 'decision' && r.details.result === 'refused: not approvable now'
  );
  expect(refused).toHaveLength(1);
  expect(refused[0]?.details.reasons).toContain('policy.rollback');
  expect(watch.problems).toEqual([]);
});

test('a bundle co-signed by a revoked key is rejected at intake, even with an auto co-signer in auto mode', async ({
  page
}) => {
  const watch = watchForProblems(page);
  const w = cliWorkspace('revoked-cosigner');
  w.nightcore('keygen', '--out', 'bob');
  const both = w.bundle('hello');
  w.nightcore('sign', '--add', 'hello.ncb', '--key', 'bob.key');
  const cosigned = w.text('hello.ncb');
  expect(cosigned).not.toBe(both); // bob's signature was added

  await pinKey(page, w.text('alice.pub'), 'alice');
  await pinKey(page, w.text('bob.pub'), 'bob');
  const keys = page.getByTestId('key');
  const alice = keys.filter({ hasText: 'alice' });
  const bob = keys.filter({ hasText: 'bob' });
  await alice.getByRole('combobox').selectOption('auto');
  await expect(alice).toHaveAttribute('data-trust', 'auto');
  await bob.getByRole('combobox').selectOption('revoked');
  await bob.getByTestId('key-confirm').click();
  await expect(bob).toHaveAttribute('data-trust', 'revoked');
  await page.getByTestId('run-mode').getByLabel('Auto').check();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');

  await gotoReady(page, '/inbox');
  await paste(page, cosigned);
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'rejected');
  await expect(request.getByTestId('policy')).toHaveAttribute('data-outcome', 'reject');
  await expect(request).toContainText('policy.revoked');

  // The same bundle by alice alone still runs without a click: only the revoked signature denies.
  await paste(page, both);
  await expect(page.getByTestId('request').first()).toHaveAttribute(
    'data-state',
    /^(auto-approved|running|done)$/
  );
  expect(watch.problems).toEqual([]);
});

test('a tenant zip names its tenant: that tenant’s override applies to it and not to another', async ({
  page
}) => {
  const watch = watchForProblems(page);
  const w = cliWorkspace('tenant');
  const hello = readFileSync(w.fixture('hello'));
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'raw');
  const sig = readFileSync(w.path('hello.wasm.ed25519'));
  const sha = createHash('sha256').update(hello).digest('hex');
  const zip = (folder: string) => ({
    name: `${folder}.zip`,
    mimeType: 'application/zip',
    buffer: Buffer.from(
      zipSync({ [`${folder}/module.wasm`]: hello, [`${folder}/module.sig`]: sig })
    )
  });

  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/policy');
  const json = page.getByTestId('policy-json');
  await expect(json).not.toHaveValue('');
  const policy = JSON.parse(await json.inputValue());
  policy.tenants = { acme: { blockedHashes: [sha] } };
  await json.fill(JSON.stringify(policy, null, 2));
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-version').first()).not.toHaveAttribute(
    'data-version',
    'default'
  );

  await gotoReady(page, '/inbox');
  const requests = page.getByTestId('request');
  await page.getByTestId('intake-file').setInputFiles([zip('acme')]);
  await expect(requests).toHaveCount(1);
  const acme = requests.first();
  await expect(acme.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(acme).toHaveAttribute('data-state', 'rejected');
  await expect(acme).toContainText('policy.blocked');
  await expect(acme.getByTestId('request-tenant')).toHaveText('Tenant acme');

  await page.getByTestId('intake-file').setInputFiles([zip('beta')]);
  await expect(requests).toHaveCount(2);
  const beta = requests.first();
  await expect(beta.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(beta).toHaveAttribute('data-state', 'pending');
  await expect(beta).not.toContainText('policy.blocked');
  await expect(beta.getByTestId('request-tenant')).toHaveText('Tenant beta');

  await beta.getByTestId('request-review').click();
  await expect(page.getByTestId('review-tenant')).toContainText('beta');

  await auditReady(page);
  const intakes = (await auditRecords(page)).filter((r) => r.event === 'intake');
  expect(intakes.map((r) => r.details.tenant)).toEqual(['acme', 'beta']);
  expect(watch.problems).toEqual([]);
});

/** Puts `edit(policy)` in force through the Policy page's JSON view; returns the save message. */
async function editPolicy(
  page: import('@playwright/test').Page,
  edit: (policy: Record<string, unknown>) => void
) {
  await gotoReady(page, '/policy');
  const json = page.getByTestId('policy-json');
  await expect(json).not.toHaveValue('');
  const policy = JSON.parse(await json.inputValue());
  edit(policy);
  await json.fill(JSON.stringify(policy, null, 2));
  await page.getByTestId('policy-save').click();
  const message = page.getByTestId('policy-message');
  await expect(message).toContainText('Saved as version');
  return message;
}

test('a tenant override cannot loosen the base: the looser values are inert, and the Policy page says so', async ({
  page
}) => {
  const watch = watchForProblems(page);
  const w = cliWorkspace('tenant-loose');
  const hello = readFileSync(w.fixture('hello'));
  // Signed by alice, whose key is never pinned here: a stranger naming the folder "acme".
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'raw');
  const sig = readFileSync(w.path('hello.wasm.ed25519'));
  const zip = (files: Record<string, Uint8Array>) => ({
    name: 'acme.zip',
    mimeType: 'application/zip',
    buffer: Buffer.from(
      zipSync(Object.fromEntries(Object.entries(files).map(([n, d]) => [`acme/${n}`, d])))
    )
  });

  const message = await editPolicy(page, (policy) => {
    policy.unsigned = 'reject';
    policy.unknownSigner = 'reject';
    // drift is "reject" in the base too: equal, so not looser and not listed.
    policy.tenants = { acme: { unsigned: 'review', unknownSigner: 'review', drift: 'reject' } };
  });
  await expect(message).toContainText(
    '2 tenant values are looser than the base and do not apply: tenants.acme.unsigned, tenants.acme.unknownSigner.'
  );
  const warnings = page.getByTestId('policy-warnings');
  await expect(warnings.locator('li')).toHaveCount(2);
  await expect(warnings.locator('li[data-field="tenants.acme.unsigned"]')).toContainText(
    '"review" is looser than the base "reject"; the base value applies'
  );
  await expect(warnings.locator('li[data-field="tenants.acme.unknownSigner"]')).toBeVisible();
  // The stored document keeps the values (nothing lost) and still says so after a reload.
  await gotoReady(page, '/policy');
  await expect(page.getByTestId('policy-warnings').locator('li')).toHaveCount(2);
  expect(JSON.parse(await page.getByTestId('policy-json').inputValue()).tenants).toEqual({
    acme: { unsigned: 'review', unknownSigner: 'review', drift: 'reject' }
  });

  await gotoReady(page, '/inbox');
  const requests = page.getByTestId('request');
  // Unsigned (no module.sig) in an acme zip: still rejected.
  await page.getByTestId('intake-file').setInputFiles([zip({ 'module.wasm': hello })]);
  await expect(requests).toHaveCount(1);
  await expect(requests.first()).toHaveAttribute('data-state', 'rejected');
  await expect(requests.first()).toContainText('tenant.signature-missing');
  // Signed by a key that is not pinned: the base "reject" holds, not acme's "review".
  await page
    .getByTestId('intake-file')
    .setInputFiles([zip({ 'module.wasm': hello, 'module.sig': sig })]);
  await expect(requests).toHaveCount(2);
  const stranger = requests.first();
  await expect(stranger.getByTestId('request-tenant')).toHaveText('Tenant acme');
  await expect(stranger).toHaveAttribute('data-state', 'rejected');
  await expect(stranger).toContainText('policy.unknown-signer');

  await auditReady(page);
  const saved = (await auditRecords(page)).filter(
    (r) => r.event === 'policy.version' && r.details.result !== 'refused'
  );
  expect(saved.at(-1)?.details).toMatchObject({
    inert: [{ field: 'tenants.acme.unsigned' }, { field: 'tenants.acme.unknownSigner' }],
    inertCount: 2
  });
  expect(watch.problems).toEqual([]);
});

test('a tenant block added after approval stops that tenant’s run at start', async ({ page }) => {
  const watch = watchForProblems(page);
  const w = cliWorkspace('tenant-block');
  const hello = readFileSync(w.fixture('hello'));
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'raw');
  const sig = readFileSync(w.path('hello.wasm.ed25519'));
  const sha = createHash('sha256').update(hello).digest('hex');

  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-file').setInputFiles([
    {
      name: 'acme.zip',
      mimeType: 'application/zip',
      buffer: Buffer.from(zipSync({ 'acme/module.wasm': hello, 'acme/module.sig': sig }))
    }
  ]);
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending');
  await request.getByTestId('approve').click();
  await expect(request).toHaveAttribute('data-state', 'approved');

  // The base does not block it; only acme's override does, after the approval.
  await editPolicy(page, (policy) => {
    policy.tenants = { acme: { blockedHashes: [sha] } };
  });
  const run = await runReady(page, 'module.wasm');
  await runEnded(run, 'refused');
  await expect(run).toContainText('This module hash has been blocked since it was approved.');
  expect(watch.problems).toEqual([]);
});
