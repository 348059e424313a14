// npm test: install when needed, build the app, run the unit tests (vitest), the hostile suite
// (vitest again, vite.hostile.config.ts: property-based tests and the mutation corpus) and the
// browser tests (Playwright on the production build), then print one closing line summing all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { ensureDependencies } from './ensure-deps.mjs';

ensureDependencies();
const REPORTS = 'reports'; // not test-results/: Playwright wipes that at start
rmSync(REPORTS, { recursive: true, force: true });
mkdirSync(REPORTS, { recursive: true });

const run = (command, args, env = {}) =>
  spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1;

const build = run('npm', ['run', 'build', '--silent']);
if (build !== 0) {
  console.error('\nThe build failed, so no test ran.');
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const vitestRun = (report, extra = []) =>
  run('npx', [
    'vitest',
    'run',
    ...extra,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${REPORTS}/${report}`
  ]);
const vitestStatus = vitestRun('vitest.json');
const hostileStatus = vitestRun('vitest-hostile.json', ['--config', 'vite.hostile.config.ts']);
const playwrightStatus = run('npx', ['playwright', 'test', ...process.argv.slice(2)], {
  PLAYWRIGHT_JSON_OUTPUT_NAME: `${REPORTS}/playwright.json`
});

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];

/** Adds one vitest JSON report to the totals; false when the run wrote none. */
function addVitest(file) {
  if (!existsSync(`${REPORTS}/${file}`)) return false;
  const report = JSON.parse(readFileSync(`${REPORTS}/${file}`, 'utf8'));
  totals.passed += report.numPassedTests ?? 0;
  totals.failed += report.numFailedTests ?? 0;
  totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A file that fails to load has no tests in the count: count it as a failure.
  totals.failed += (report.testResults ?? []).filter(
    (file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0
  ).length;
  return true;
}
if (!addVitest('vitest.json')) problems.push('vitest wrote no report');
if (!addVitest('vitest-hostile.json')) problems.push('the hostile vitest pass wrote no report');

if (existsSync(`${REPORTS}/playwright.json`)) {
  const { stats, errors = [] } = JSON.parse(readFileSync(`${REPORTS}/playwright.json`, 'utf8'));
  totals.passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
  totals.failed += stats.unexpected ?? 0;
  totals.skipped += stats.skipped ?? 0;
  totals.failed += errors.length; // global errors (e.g. a test file that does not load)
} else problems.push('Playwright wrote no report');

if (vitestStatus !== 0 && totals.failed === 0) problems.push(`vitest exited with ${vitestStatus}`);
if (hostileStatus !== 0 && totals.failed === 0)
  problems.push(`the hostile vitest pass exited with ${hostileStatus}`);
if (playwrightStatus !== 0 && totals.failed === 0)
  problems.push(`Playwright exited with ${playwrightStatus}`);
for (const problem of problems) console.error(`test runner problem: ${problem}`);
if (problems.length) totals.failed += problems.length;

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
