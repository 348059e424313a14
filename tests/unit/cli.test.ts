import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main';
import pkg from '../../package.json' with { type: 'json' };

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('nightcore CLI', () => {
  it('prints help with every command, also with no arguments', async () => {
    for (const argv of [[], ['help'], ['--help']]) {
      const { code, out } = await cli(...argv);
      expect(code).toBe(0);
      expect(out).toMatch(/Usage: nightcore <command>/);
      expect(out).toMatch(/^ {2}version {2}/m);
    }
  });

  it('prints the package version', async () => {
    expect(await cli('version')).toEqual({ code: 0, out: `nightcore ${pkg.version}\n`, err: '' });
    expect((await cli('--version')).out).toBe(`nightcore ${pkg.version}\n`);
  });

  it('rejects an unknown command with exit code 2 and says what to do', async () => {
    const { code, out, err } = await cli('frobnicate');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain('unknown command "frobnicate"');
    expect(err).toContain('nightcore help');
  });

  const built = new URL('../../dist/cli/nightcore.js', import.meta.url).pathname;
  it('the built bin (npm run build:cli) runs under plain Node', () => {
    expect(existsSync(built), 'dist/cli/nightcore.js is missing: run npm run build').toBe(true);
    expect(execFileSync(built, ['version'], { encoding: 'utf8' })).toBe(
      `nightcore ${pkg.version}\n`
    );
    const bad = spawnSync(process.execPath, [built, 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});

describe('terminal output', () => {
  it('turns control and bidi characters from untrusted text into U+FFFD, keeping newlines and tabs', async () => {
    const { terminalSafe } = await import('../../src/cli/terminal');
    expect(terminalSafe('name\u001b[31mred\u0007\n\tok\u202etxt.exe\r')).toBe(
      'name\uFFFD[31mred\uFFFD\n\tok\uFFFDtxt.exe\uFFFD'
    );
  });
});
