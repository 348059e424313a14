import { expect, test } from '@playwright/test';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditReady, auditRecords, gotoReady } from './helpers';
import { cliWorkspace, pinKey } from './workspace';

/** A workspace with hello.wasm copied in. */
function workspace() {
  const w = cliWorkspace('intake');
  w.fixture('hello');
  return w;
}

/** A valid module of about `mib` MiB: the header and one custom section of zeros. */
function bigModule(mib: number): Buffer {
  const payload = mib * 1024 * 1024;
  const name = Buffer.from('\u0003pad', 'latin1');
  const size = payload + name.length;
  const leb: number[] = [];
  let rest = size;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    leb.push(byte);
  } while (rest > 0);
  return Buffer.concat([
    Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0]),
    Buffer.from(leb),
    name,
    Buffer.alloc(payload)
  ]);
}

test('a picked folder is walked: a .wasm pairs with the signature beside it, other files are named', async ({
  page
}) => {
  const w = workspace();
  const folder = w.path('agent-out');
  mkdirSync(join(folder, 'nested'), { recursive: true });
  copyFileSync(w.path('hello.wasm'), join(folder, 'nested', 'hello.wasm'));
  w.nightcore(
    'sign',
    join(folder, 'nested', 'hello.wasm'),
    '--key',
    'alice.key',
    '--detached',
    'minisign'
  );
  writeFileSync(join(folder, 'notes.txt'), 'not a module');
  await pinKey(page, w.text('alice.minisign.pub'));
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-folder').setInputFiles(folder);
  const first = page.getByTestId('request').first();
  await expect(first.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(first).toContainText('agent-out/nested/hello.wasm');
  await expect(page.getByTestId('request')).toHaveCount(1);
  await expect(page.getByTestId('intake-result')).toContainText(
    'Not understood: agent-out/notes.txt'
  );
  const intakes = (await auditRecords(page)).filter((r) => r.event === 'intake');
  expect(intakes.map((r) => [r.details.channel, r.details.result ?? 'taken'])).toEqual([
    ['folder', 'refused'],
    ['folder', 'taken']
  ]);
});

test('files dropped on the Inbox are taken in like picked ones, and the drop is the channel', async ({
  page
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'a.ncb');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  const bundle = w.text('a.ncb');
  const drop = page.getByTestId('intake-drop');
  const data = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], 'dropped.ncb'));
    transfer.items.add(new File(['<b>x</b>'], '<img src=x onerror=window.pwned=1>.txt'));
    return transfer;
  }, bundle);
  await drop.dispatchEvent('dragover', { dataTransfer: data });
  await expect(drop).toHaveClass(/dragging/);
  await drop.dispatchEvent('drop', { dataTransfer: data });
  const first = page.getByTestId('request').first();
  await expect(first.getByTestId('verdict')).toHaveAttribute('data-verdict', 'verified');
  await expect(first).toContainText('dropped.ncb');
  await expect(first).toContainText('drop');
  await expect(page.getByTestId('intake-result')).toContainText(
    'Not understood: <img src=x onerror=window.pwned=1>.txt'
  );
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});

test('a large file shows reading and verifying progress before its verdict', async ({ page }) => {
  const w = workspace();
  writeFileSync(w.path('big.wasm'), bigModule(48));
  await gotoReady(page, '/inbox');
  await auditReady(page);
  // Record every progress stage the page shows, however briefly.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as { stages?: string[] }).stages = seen;
    new MutationObserver(() => {
      const stage = document
        .querySelector('[data-testid="intake-progress"]')
        ?.getAttribute('data-stage');
      if (stage && seen.at(-1) !== stage) seen.push(stage);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByTestId('intake-file').setInputFiles(w.path('big.wasm'));
  const first = page.getByTestId('request').first();
  await expect(first.getByTestId('verdict')).toHaveAttribute('data-verdict', 'unsigned', {
    timeout: 20_000
  });
  await expect(page.getByTestId('intake-progress')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { stages?: string[] }).stages)).toEqual([
    'reading',
    'verifying'
  ]);
});

test('the navigation badge counts pending requests live, in this tab and another', async ({
  page,
  context
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'a.ncb');
  await pinKey(page, w.text('alice.pub'));
  const other = await context.newPage();
  await gotoReady(other, '/keys');
  await expect(other.getByTestId('pending-count')).toHaveCount(0);

  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(w.text('a.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'pending');
  await expect(page.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  await expect(other.getByTestId('pending-count')).toHaveAttribute('data-count', '1');
  // Screen readers hear the count as part of the link.
  await expect(page.getByRole('link', { name: /^Inbox/ })).toHaveAccessibleName(
    'Inbox 1 waiting for review'
  );

  await page.getByTestId('approve').click();
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'approved');
  await expect(page.getByTestId('pending-count')).toHaveCount(0);
  await expect(other.getByTestId('pending-count')).toHaveCount(0);
});

test('a key scoped to some names and capabilities cannot vouch for others, whatever its trust', async ({
  page
}) => {
  const w = workspace();
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--version', '1.0.0', '--out', 'a.ncb');
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.1',
    '--capability',
    'clock',
    '--out',
    'clock.ncb'
  );
  await gotoReady(page, '/keys');
  await auditReady(page);
  await page.getByTestId('key-import').fill(w.text('alice.pub'));
  await page.getByTestId('key-label').fill('alice');
  await page.getByText('Restrict what this key may sign').click();
  await page.getByTestId('key-scope').fill('acme-*');
  await page.getByTestId('key-cap-clock').uncheck();
  await page.getByTestId('key-import-submit').click();
  await expect(page.getByTestId('key-import-result')).toContainText('Pinned 1 key.');
  const card = page.getByTestId('key').first();
  await expect(card.getByTestId('key-scope-names')).toHaveText('acme-*');
  await expect(card.getByTestId('key-scope-capabilities')).not.toContainText('clock');

  await gotoReady(page, '/inbox');
  const latest = () => page.getByTestId('request').first();
  await page.getByTestId('intake-paste').fill(w.text('a.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(latest()).toHaveAttribute('data-state', 'rejected');
  await expect(latest()).toContainText('policy.signer-scope');

  await gotoReady(page, '/keys');
  await card.getByTestId('key-scope-edit').click();
  await card.getByTestId('key-scope').fill('<img src=x onerror=window.pwned=1>');
  await card.getByTestId('key-scope-save').click();
  await expect(card.getByTestId('key-scope-error')).toContainText('"<img" is not a name pattern');
  await expect(card.getByTestId('key-scope-names')).toHaveText('acme-*');
  await card.getByTestId('key-scope').fill('acme-* hello');
  await card.getByTestId('key-scope-save').click();
  await expect(card.getByTestId('key-scope-names')).toHaveText('acme-* hello');

  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(w.text('a.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request')).toHaveCount(2);
  await expect(latest()).toHaveAttribute('data-state', 'pending');
  await page.getByTestId('intake-paste').fill(w.text('clock.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(page.getByTestId('request')).toHaveCount(3);
  await expect(latest()).toHaveAttribute('data-state', 'rejected');
  await expect(latest()).toContainText('policy.signer-capability');

  const changed = (await auditRecords(page)).filter((r) => r.event === 'key.changed');
  expect(changed.map((r) => r.details.scope)).toEqual([
    {
      from: {
        scope: ['acme-*'],
        capabilities: ['args', 'env', 'random', 'stdin', 'fs-read', 'fs-write']
      },
      to: {
        scope: ['acme-*', 'hello'],
        capabilities: ['args', 'env', 'random', 'stdin', 'fs-read', 'fs-write']
      }
    }
  ]);
  expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
});

test("decisions judge by the policy and mode in force now: another tab's lockdown and a block since intake stop approvals", async ({
  page,
  context
}) => {
  const w = workspace();
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.0',
    '--name',
    'evil',
    '--out',
    'evil.ncb'
  );
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'alice.key',
    '--version',
    '1.0.0',
    '--name',
    'nice',
    '--out',
    'nice.ncb'
  );
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  const requests = page.getByTestId('request');
  for (const name of ['evil', 'nice']) {
    await page.getByTestId('intake-paste').fill(w.text(`${name}.ncb`));
    await page.getByTestId('intake-submit').click();
    await expect(requests.filter({ hasText: name }).first()).toHaveAttribute(
      'data-state',
      'pending'
    );
  }
  // Same module bytes under two names: blocking one blocks the hash, so the other cannot be
  // approved (or pinned) any more, and the policy keeps the block.
  await requests.filter({ hasText: 'evil' }).getByTestId('deny-block').click();
  await expect(requests.filter({ hasText: 'evil' })).toHaveAttribute('data-state', 'denied');
  await requests.filter({ hasText: 'nice' }).getByTestId('approve-pin').click();
  await expect(page.getByTestId('intake-result')).toContainText('Cannot approve');
  await expect(requests.filter({ hasText: 'nice' })).toHaveAttribute('data-state', 'pending');
  await page.getByTestId('intake-paste').fill(w.text('nice.ncb'));
  await page.getByTestId('intake-submit').click();
  await expect(requests.first()).toHaveAttribute('data-state', 'rejected');
  await expect(requests.first()).toContainText('policy.blocked');

  // Another tab switches to lockdown; this tab, which saw "review", cannot approve.
  // Other module bytes (the hello hash is blocked now).
  copyFileSync(
    new URL('../fixtures/wasm/trap.wasm', import.meta.url).pathname,
    w.path('trap.wasm')
  );
  w.nightcore(
    'sign',
    'trap.wasm',
    '--key',
    'alice.key',
    '--version',
    '2.0.0',
    '--name',
    'other',
    '--out',
    'other.ncb'
  );
  await page.getByTestId('intake-paste').fill(w.text('other.ncb'));
  await page.getByTestId('intake-submit').click();
  const other = requests.filter({ hasText: 'other' }).first();
  await expect(other).toHaveAttribute('data-state', 'pending');
  const second = await context.newPage();
  await gotoReady(second, '/settings');
  await second.getByTestId('run-mode').getByLabel('Lockdown').check();
  await expect(second.getByTestId('run-mode')).toHaveAttribute('data-mode', 'lockdown');
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'lockdown');
  await other.getByTestId('approve').click();
  await expect(page.getByTestId('intake-result')).toContainText('Cannot approve');
  await expect(other).toHaveAttribute('data-state', 'pending');
});
