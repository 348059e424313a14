/**
 * The watched agent folder, driven through an Origin Private File System directory (the same
 * FileSystemDirectoryHandle code path as a folder picked on disk): the test plays the agent,
 * writing bundles into inbox/ and reading outbox/<file>.result.json.
 */
import { expect, test, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRecords, gotoReady, putAgentFile } from './helpers';
import { allowFiles, cliWorkspace, pinKey, type Workspace } from './workspace';

/** Writes a file under the private `agent/` folder (creating folders on the way). */
const put = putAgentFile;

/** A file's text under `agent/`, or null when it is not there. */
async function read(page: Page, path: string): Promise<string | null> {
  return page.evaluate(async (path) => {
    try {
      let dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('agent');
      const parts = path.split('/');
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
      return await (await (await dir.getFileHandle(parts.at(-1)!)).getFile()).text();
    } catch {
      return null;
    }
  }, path);
}

async function list(page: Page, folder: string): Promise<string[]> {
  return page.evaluate(async (folder) => {
    const names: string[] = [];
    try {
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('agent');
      for await (const name of (await root.getDirectoryHandle(folder)).keys()) names.push(name);
    } catch {
      // not created yet
    }
    return names.sort();
  }, folder);
}

interface Result {
  status: string;
  final: boolean;
  file: string;
  movedTo: string | null;
  message: string;
  verdict: { kind: string; reasons: { code: string }[] } | null;
  decision: { policy: string | null; reviewer: string | null } | null;
  run: { status: string; exitCode: number | null; stdout: string; truncated: boolean } | null;
  receipt: { receipt: { outcome: { status: string; exitCode: number | null } } } | null;
  receiptText: string | null;
}

/** Waits until the result file of `file` says `status`, and returns it. */
async function resultOf(page: Page, file: string, status: string): Promise<Result> {
  let result: Result | null = null;
  await expect
    .poll(
      async () => {
        const text = await read(page, `outbox/${file}.result.json`);
        result = text ? (JSON.parse(text) as Result) : null;
        return result?.status ?? null;
      },
      { timeout: 20_000, intervals: [250] }
    )
    .toBe(status);
  return result!;
}

async function watchPrivateFolder(page: Page) {
  await gotoReady(page, '/inbox');
  await page.getByTestId('watch-folder-private').click();
  await expect(page.getByTestId('watch-folder')).toHaveAttribute('data-status', 'watching');
}

/** Alice pinned at trust auto, Auto mode: what the policy lets through runs without a click. */
async function autoSetup(page: Page, w: Workspace) {
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/keys');
  await page.getByTestId('key').first().getByRole('combobox').selectOption('auto');
  await expect(page.getByTestId('key').first()).toHaveAttribute('data-trust', 'auto');
  await page.getByTestId('run-mode').getByLabel('Auto').check();
  await expect(page.getByTestId('run-mode')).toHaveAttribute('data-mode', 'auto');
}

test('a good bundle runs and ends in processed/ with its result; stdin beside it reaches the module', async ({
  page
}) => {
  const w = cliWorkspace('watch');
  await autoSetup(page, w);
  await watchPrivateFolder(page);

  await put(page, 'inbox/hello.ncb', w.bundle('hello'));
  await put(page, 'inbox/cat-stdin.ncb', w.bundle('cat-stdin'));
  await put(page, 'inbox/cat-stdin.ncb.stdin', 'from the agent ✓\n');

  const hello = await resultOf(page, 'hello.ncb', 'done');
  expect(hello).toMatchObject({
    final: true,
    movedTo: 'processed/hello.ncb',
    verdict: { kind: 'verified' },
    decision: { policy: 'auto-approve', reviewer: null },
    run: { status: 'exited', exitCode: 0, stdout: 'hello from wasm\n', truncated: false }
  });
  expect(hello.receipt?.receipt.outcome).toMatchObject({ status: 'exited', exitCode: 0 });
  const cat = await resultOf(page, 'cat-stdin.ncb', 'done');
  expect(cat.run?.stdout).toBe('from the agent ✓\n');
  expect(await list(page, 'processed')).toEqual([
    'cat-stdin.ncb',
    'cat-stdin.ncb.stdin',
    'hello.ncb'
  ]);
  expect(await list(page, 'inbox')).toEqual([]);
  expect(await list(page, 'pending')).toEqual([]);

  // The receipt in the result verifies with the device key, like a downloaded one.
  await gotoReady(page, '/settings');
  const vkey = await page.getByTestId('device-vkey').textContent();
  writeFileSync(join(w.dir, 'device.vkey'), `${vkey}\n`);
  // The exact signed text is in receiptText (the parsed `receipt` is for reading).
  writeFileSync(join(w.dir, 'hello.receipt.json'), hello.receiptText!);
  const verified = w.cli('receipt', 'verify', 'hello.receipt.json', '--key', 'device.vkey');
  expect(verified.stderr).toBe('');
  expect(verified.status).toBe(0);

  // The intake is audited with its channel.
  const intakes = (await auditRecords(page)).filter(
    (r) => r.event === 'intake' && r.details.channel === 'watched-folder'
  );
  expect(intakes.map((r) => r.details.fileName).sort()).toEqual(['cat-stdin.ncb', 'hello.ncb']);
});

test('a forged bundle and a stray file end in rejected/ with the reason', async ({ page }) => {
  const w = cliWorkspace('watch-forged');
  await autoSetup(page, w);
  const good = JSON.parse(w.bundle('hello'));
  w.nightcore('keygen', '--out', 'mallory');
  w.nightcore('sign', 'hello.wasm', '--key', 'mallory.key', '--version', '1.0.0', '--out', 'm.ncb');
  const mallory = JSON.parse(w.text('m.ncb'));
  // Mallory's signature relabelled with alice's key id.
  const forged = JSON.stringify({
    ...mallory,
    envelope: {
      ...mallory.envelope,
      signatures: [{ ...mallory.envelope.signatures[0], keyid: good.envelope.signatures[0].keyid }]
    }
  });
  await watchPrivateFolder(page);
  await put(page, 'inbox/forged.ncb', forged);
  await put(page, 'inbox/notes.txt', '<img src=x onerror=alert(1)>');

  const result = await resultOf(page, 'forged.ncb', 'rejected');
  expect(result).toMatchObject({ final: true, movedTo: 'rejected/forged.ncb', run: null });
  expect(result.verdict?.reasons.map((r) => r.code)).toContain('signature.invalid');
  const stray = await resultOf(page, 'notes.txt', 'refused');
  expect(stray.message).toContain('not a bundle');
  expect(await list(page, 'rejected')).toEqual(['forged.ncb', 'notes.txt']);
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'rejected');
  await expect(page.getByTestId('watch-event').filter({ hasText: 'notes.txt' })).toHaveAttribute(
    'data-status',
    'refused'
  );
  const refused = (await auditRecords(page)).filter(
    (r) => r.event === 'intake' && r.details.result === 'refused'
  );
  expect(refused.map((r) => String(r.details.reason))).toContainEqual(
    expect.stringContaining('notes.txt')
  );
});

test('bundles that need review wait, survive a reload, and complete after approval in the UI; input files beside one are mounted', async ({
  page
}) => {
  test.setTimeout(60_000);
  const w = cliWorkspace('watch-review');
  await pinKey(page, w.text('alice.pub'));
  await allowFiles(page);
  await watchPrivateFolder(page);
  await put(page, 'inbox/hello.ncb', w.bundle('hello'));
  await put(page, 'inbox/read-file.ncb', w.bundle('read-file', '--arg', '/input/notes.txt'));
  await put(page, 'inbox/read-file.ncb.input/notes.txt', 'from the agent ✓\n');
  const waiting = await resultOf(page, 'hello.ncb', 'waiting-review');
  expect(waiting).toMatchObject({ final: false, decision: { policy: 'review' }, run: null });
  await resultOf(page, 'read-file.ncb', 'waiting-review');
  expect(await list(page, 'pending')).toEqual([
    'hello.ncb',
    'read-file.ncb',
    'read-file.ncb.input'
  ]);

  // The grant and the jobs survive a reload (an OPFS folder needs no renewal).
  await page.reload();
  await expect(page.getByTestId('watch-folder')).toHaveAttribute('data-status', 'watching');
  for (const name of ['hello', 'read-file']) {
    const request = page.getByTestId('request').filter({ hasText: `${name}.ncb` });
    await expect(request).toHaveAttribute('data-state', 'pending');
    await request.getByTestId('approve').click();
  }

  const done = await resultOf(page, 'hello.ncb', 'done');
  expect(done).toMatchObject({
    decision: { policy: 'review', reviewer: 'approve' },
    run: { exitCode: 0, stdout: 'hello from wasm\n' }
  });
  const read = await resultOf(page, 'read-file.ncb', 'done');
  expect(read.run).toMatchObject({ exitCode: 0, stdout: 'from the agent ✓\n' });
  expect(await list(page, 'processed')).toEqual([
    'hello.ncb',
    'read-file.ncb',
    'read-file.ncb.input'
  ]);
});

test('pausing the auto lane holds new bundles from the folder; resuming runs them', async ({
  page
}) => {
  const w = cliWorkspace('watch-pause');
  await autoSetup(page, w);
  await watchPrivateFolder(page);
  await page.getByTestId('auto-lane-toggle').click();
  await expect(page.getByTestId('auto-lane')).toHaveAttribute('data-paused', 'true');

  await put(page, 'inbox/hello.ncb', w.bundle('hello'));
  const held = await resultOf(page, 'hello.ncb', 'held');
  expect(held.message).toContain('paused');
  await expect(page.getByTestId('request').first()).toHaveAttribute('data-state', 'auto-approved');
  expect(await list(page, 'pending')).toEqual(['hello.ncb']);

  await page.getByTestId('auto-lane-toggle').click();
  await expect(page.getByTestId('auto-lane')).toHaveAttribute('data-paused', 'false');
  const done = await resultOf(page, 'hello.ncb', 'done');
  expect(done.run?.exitCode).toBe(0);
});

test("the example agent script signs, drops, waits and exits with the module's exit code", async ({
  page
}) => {
  test.setTimeout(60_000);
  const w = cliWorkspace('watch-script');
  await autoSetup(page, w);
  await watchPrivateFolder(page);
  w.fixture('exit-code');
  const folder = join(w.dir, 'agent');
  mkdirSync(join(folder, 'outbox'), { recursive: true });
  mkdirSync(join(folder, 'inbox'), { recursive: true });
  const script = new URL('../../examples/nightcore-agent.mjs', import.meta.url).pathname;
  const cli = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [
      script,
      folder,
      'exit-code.wasm',
      '--key',
      'alice.key',
      '--nightcore',
      cli,
      '--timeout',
      '40',
      '--',
      '--arg',
      '7'
    ],
    { cwd: w.dir }
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let code: number | null | undefined;
  // The test is the file sync between the disk folder the script uses and the browser's private
  // folder Night Core watches (a real disk folder needs the directory picker, which a headless
  // browser cannot click): inbox/ one way, outbox/ the other.
  while (code === undefined) {
    for (const name of readdirSync(join(folder, 'inbox'))) {
      if (name.startsWith('.')) continue;
      await put(page, `inbox/${name}`, readFileSync(join(folder, 'inbox', name), 'utf8'));
      rmSync(join(folder, 'inbox', name));
    }
    for (const name of await list(page, 'outbox')) {
      const text = await read(page, `outbox/${name}`);
      if (text) writeFileSync(join(folder, 'outbox', name), text);
    }
    code = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, 250))]);
  }
  expect(stderr).toContain('nightcore-agent: done: Ran and exited with code 7.');
  expect(stdout).toBe('exit 7\n');
  expect(code).toBe(7);
  // The receipt the script saved verifies with the CLI.
  copyFileSync(join(folder, 'outbox', 'exit-code.ncb.receipt.json'), join(w.dir, 'r.json'));
  expect(JSON.parse(w.text('r.json')).receipt.outcome).toMatchObject({ exitCode: 7 });
});

test('a reload mid-run ends the job: the result says the run was interrupted', async ({ page }) => {
  const w = cliWorkspace('watch-reload');
  await autoSetup(page, w);
  await watchPrivateFolder(page);
  await put(page, 'inbox/loop.ncb', w.bundle('loop'));
  await resultOf(page, 'loop.ncb', 'running');
  await page.reload();
  const done = await resultOf(page, 'loop.ncb', 'done');
  expect(done).toMatchObject({ final: true, movedTo: 'processed/loop.ncb' });
  expect(done.run?.status).toBe('interrupted');
});
