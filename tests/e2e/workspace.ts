/**
 * What the browser tests share for making real input: a temporary folder with the built
 * `nightcore` CLI and a key pair (`alice`), fixtures signed into bundles, and the few UI steps
 * (pin a key, approve a bundle, run an approved request) most specs need.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditReady, gotoReady } from './helpers';

const CLI = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
export const FIXTURES = new URL('../fixtures/wasm/', import.meta.url).pathname;

export type Workspace = ReturnType<typeof cliWorkspace>;

/** A temporary folder with the CLI ready and a key pair `alice.*` in it. */
export function cliWorkspace(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `nightcore-e2e-${prefix}-`));
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  const nightcore = (...args: string[]) => {
    const result = cli(...args);
    if (result.status !== 0) throw new Error(`nightcore ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  nightcore('keygen', '--out', 'alice');
  const path = (name: string) => join(dir, name);
  const text = (name: string) => readFileSync(path(name), 'utf8');
  /** Copies a fixture in (as NAME.wasm) and returns its path. */
  const fixture = (name: string) => {
    copyFileSync(join(FIXTURES, `${name}.wasm`), path(`${name}.wasm`));
    return path(`${name}.wasm`);
  };
  /** Signs a fixture by alice as version 1.0.0 (flags add or override) and returns the bundle. */
  const bundle = (name: string, ...flags: string[]) => {
    fixture(name);
    nightcore(
      'sign',
      `${name}.wasm`,
      '--key',
      'alice.key',
      '--version',
      '1.0.0',
      ...flags,
      '--out',
      `${name}.ncb`
    );
    return text(`${name}.ncb`);
  };
  return { dir, cli, nightcore, path, text, fixture, bundle };
}

/** Pins a public key (text in any supported format) on the Keys page. */
export async function pinKey(page: Page, keyText: string, label = 'alice') {
  await gotoReady(page, '/keys');
  await auditReady(page);
  await page.getByTestId('key-import').fill(keyText);
  await page.getByTestId('key-label').fill(label);
  await page.getByTestId('key-import-submit').click();
  await expect(page.getByTestId('key-import-result')).toContainText('Pinned 1 key.');
}

/** Takes a bundle in on the Inbox and approves it once. */
export async function approveBundle(page: Page, bundleText: string) {
  await gotoReady(page, '/inbox');
  await page.getByTestId('intake-paste').fill(bundleText);
  await page.getByTestId('intake-submit').click();
  const request = page.getByTestId('request').first();
  await expect(request).toHaveAttribute('data-state', 'pending');
  await request.getByTestId('approve').click();
  await expect(request).toHaveAttribute('data-state', 'approved');
}

/** Starts the ready request named `name` on the Runs page; returns its run element. */
export async function runReady(page: Page, name: string) {
  await gotoReady(page, '/runs');
  await page.getByTestId('run-ready').filter({ hasText: name }).getByTestId('run-start').click();
  return page.getByTestId('run').filter({ hasText: name }).first();
}

/**
 * Waits until `run` shows `status` and its outcome is stored: the card shows the outcome at once and
 * says "saving the outcome…" (data-saving) until the run's row and audit record are written. A
 * test that leaves or reloads the page before that gets the run recorded as interrupted.
 */
export async function runEnded(run: Locator, status: string, timeout = 30_000): Promise<void> {
  await expect(run).toHaveAttribute('data-status', status, { timeout });
  await expect(run).not.toHaveAttribute('data-saving', 'true', { timeout });
}

/** Lets the policy allow the file-system capabilities (fs-read, fs-write) through its JSON view. */
export async function allowFiles(page: Page) {
  await gotoReady(page, '/policy');
  const json = page.getByTestId('policy-json');
  await expect(json).not.toHaveValue('');
  const policy = JSON.parse(await json.inputValue());
  policy.allowedCapabilities = [...policy.allowedCapabilities, 'fs-read', 'fs-write'];
  await json.fill(JSON.stringify(policy, null, 2));
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-version').first()).not.toHaveAttribute(
    'data-version',
    'default'
  );
}
