// Builds the "Try it" demo set in static/demo/ from tests/fixtures/wasm, signed by the public demo
// key in demo/ with the real CLI (dist/cli: run `npm run build` first).
//   node scripts/make-demo.mjs          writes static/demo/
//   node scripts/make-demo.mjs --check  rebuilds in a temporary folder; exit 1 if static/demo differs
// Deterministic: Ed25519 signatures are, and every manifest fixes its `created` time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const CLI = join(root, 'dist/cli/nightcore.js');
const KEY = join(root, 'demo/demo.key');
const FIXTURES = join(root, 'tests/fixtures/wasm');
const OUT = join(root, 'static/demo');
const CREATED = '2026-01-01T00:00:00Z';
const PUBLISHER = 'Night Core demo (public demo key: never trust it for anything else)';

/** The set: what each bundle is and what the app must make of it (the e2e test checks each). */
const DEMOS = [
  {
    file: 'hello.ncb',
    fixture: 'hello',
    description: 'Prints a greeting and exits.',
    expect: { verdict: 'verified', state: 'pending', run: 'exited', stdout: 'hello from wasm\n' }
  },
  {
    file: 'sha256-job.ncb',
    fixture: 'sha256-stdin',
    name: 'sha256-job',
    description: 'A compute job: SHA-256 of 1 MiB of bytes it generates itself.',
    args: ['--generate', '1'],
    expect: {
      verdict: 'verified',
      state: 'pending',
      run: 'exited',
      stdout: '06b7bbfb7824aa03382051691630eb26de85102d1b08a81e907ec0744cd8a286\n'
    }
  },
  {
    file: 'loop.ncb',
    fixture: 'loop',
    description: 'An infinite loop: the watchdog stops it after one second.',
    limits: { timeoutMs: 1000 },
    expect: { verdict: 'verified', state: 'pending', run: 'timeout' }
  },
  {
    file: 'memory-bomb.ncb',
    fixture: 'memory-bomb',
    description: 'Grows its memory without end: stopped at its 8 MiB cap.',
    limits: { memoryMiB: 8 },
    expect: { verdict: 'verified', state: 'pending', run: 'memory-cap' }
  },
  {
    file: 'forged.ncb',
    fixture: 'hello',
    name: 'forged',
    description: 'Signed by the demo key, then its module was swapped for another.',
    // After signing, the module is replaced (see forge): the signature no longer covers it.
    forgeWith: 'loop',
    expect: { verdict: 'rejected', state: 'rejected', reason: 'module.digest-mismatch' }
  }
];

function nightcore(cwd, ...args) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`nightcore ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Writes every demo file into `out`. */
function build(out) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  if (!existsSync(KEY))
    throw new Error(`${KEY} is missing (make it: nightcore keygen --out demo/demo)`);
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'nightcore-demo-'));
  try {
    const publicKey = readFileSync(join(root, 'demo/demo.pub'), 'utf8');
    writeFileSync(join(out, 'demo.pub'), publicKey);
    for (const demo of DEMOS) {
      const manifest = {
        name: demo.name ?? demo.fixture,
        version: '1.0.0',
        publisher: PUBLISHER,
        description: demo.description,
        created: CREATED,
        ...(demo.args ? { args: demo.args } : {}),
        ...(demo.limits ? { limits: demo.limits } : {})
      };
      writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
      const bundlePath = join(work, demo.file);
      nightcore(
        work,
        'sign',
        join(FIXTURES, `${demo.fixture}.wasm`),
        '--key',
        KEY,
        '--manifest',
        'manifest.json',
        '--out',
        bundlePath
      );
      let text = readFileSync(bundlePath, 'utf8');
      if (demo.forgeWith) text = forge(text, join(FIXTURES, `${demo.forgeWith}.wasm`));
      writeFileSync(join(out, demo.file), text);
    }
    const keyId = nightcore(
      work,
      'verify',
      join(out, 'hello.ncb'),
      '--key',
      join(out, 'demo.pub'),
      '--json'
    );
    const index = {
      note: 'Demo data: signed by a public demo key. Never trust this key for anything else.',
      key: {
        file: 'demo.pub',
        id: JSON.parse(keyId).signers[0],
        label: 'Demo publisher (demo data)'
      },
      bundles: DEMOS.map((d) => ({ file: d.file, name: d.name ?? d.fixture, expect: d.expect }))
    };
    writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Swaps the bundle's module for another one, leaving the signed manifest as it was. */
function forge(bundleText, otherModule) {
  const bundle = JSON.parse(bundleText);
  bundle.module = readFileSync(otherModule).toString('base64');
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

if (process.argv.includes('--check')) {
  const temp = mkdtempSync(join(tmpdir(), 'nightcore-demo-check-'));
  try {
    build(temp);
    const names = [...new Set([...readdirSync(temp), ...readdirSync(OUT)])].sort();
    const differ = names.filter((name) => {
      const [a, b] = [join(temp, name), join(OUT, name)];
      return !existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b));
    });
    if (differ.length > 0) {
      console.error(
        `static/demo is out of date: ${differ.join(', ')} (run node scripts/make-demo.mjs)`
      );
      process.exit(1);
    }
    console.log(`static/demo is up to date (${names.length} files)`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
} else {
  build(OUT);
  console.log(`wrote static/demo (${DEMOS.length} bundles, index.json, demo.pub)`);
}
