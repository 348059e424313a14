// npm run bench [-- NAME…] [--no-build]: the performance benchmarks of docs/performance.md, in
// real Chromium against production builds (the app, and bench/harness built by the same Vite).
// Each benchmark measures its baseline in the same page and run; the table reports medians,
// spread (p25-p75), ratios and targets. Writes bench/results.json and the table in
// docs/performance.md. Not part of npm test: its figures are measurements, not assertions.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { ensureDependencies } from './ensure-deps.mjs';
import { startServer } from './serve.mjs';
import { chromiumArgs, chromiumPath } from './chromium.mjs';
import { TARGETS } from '../bench/targets.mjs';
import { NODE_CASES } from '../bench/node/cases.mjs';

const argv = process.argv.slice(2);
const only = argv.filter((a) => !a.startsWith('--'));
const skipBuild = argv.includes('--no-build');
const unknown = only.filter((n) => !TARGETS.some((t) => t.name === n));
if (unknown.length) {
  console.error(
    `no benchmark named ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}`
  );
  process.exit(64);
}
const selected = TARGETS.filter((t) => only.length === 0 || only.includes(t.name));

ensureDependencies();
const run = (cmd, args) => {
  const status = spawnSync(cmd, args, { stdio: 'inherit' }).status;
  if (status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${status})`);
};
if (!skipBuild) {
  run('npm', ['run', 'build', '--silent']);
  run('npx', ['vite', 'build', '-c', 'vite.bench.config.ts']);
}

const started = Date.now();
const app = await startServer({ port: 0 });
const harness = await startServer({
  port: 0,
  dir: new URL('../dist/bench', import.meta.url).pathname
});
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
const context = { browser, appUrl: app.url, harnessUrl: harness.url };

const rows = [];
try {
  for (const target of selected) {
    process.stdout.write(`${target.name} … `);
    const t0 = Date.now();
    let measured;
    try {
      measured = NODE_CASES[target.name]
        ? await NODE_CASES[target.name](context)
        : await pageCase(target.name);
      rows.push(summarize(target, measured));
      const row = rows.at(-1);
      console.log(
        `${fmt(row.value)} ${row.unit}${row.ratio === null ? '' : ` (ratio ${row.ratio.toFixed(2)})`} ${row.pass ? 'pass' : 'MISS'} [${((Date.now() - t0) / 1000).toFixed(1)} s]`
      );
    } catch (error) {
      console.log(`error: ${error instanceof Error ? error.message : error}`);
      rows.push({
        ...base(target),
        // One line: the table cell cannot hold a stack.
        error: String(error instanceof Error ? error.message : error).split('\n')[0],
        pass: false
      });
    }
  }
} finally {
  await browser.close();
  await app.close();
  await harness.close();
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  chromium: browser.version(),
  node: process.version
};
const date = new Date().toISOString();
const results = {
  date,
  machine,
  seconds: Math.round((Date.now() - started) / 1000),
  results: rows
};
if (only.length === 0) {
  writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  updateDocs(results);
} else {
  writeFileSync('bench/results.partial.json', `${JSON.stringify(results, null, 2)}\n`);
}
console.log(`\n${table(results)}`);
console.log(
  `\n${rows.filter((r) => r.pass).length} of ${rows.length} targets met in ${results.seconds} s` +
    (only.length === 0
      ? ' (bench/results.json, docs/performance.md)'
      : ' (bench/results.partial.json)')
);

async function pageCase(name) {
  const page = await browser.newPage();
  try {
    await page.goto(harness.url);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    return await page.evaluate((n) => window.nightcoreBench.run(n), name);
  } finally {
    await page.close();
  }
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return null;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
}

function base(target) {
  return {
    name: target.name,
    measuredAs: target.measuredAs,
    unit: target.unit,
    target: target.target,
    kind: target.kind,
    strict: target.strict === true,
    stat: target.stat ?? 'median'
  };
}

function summarize(target, m) {
  const stat = target.stat ?? 'median';
  const value =
    stat === 'p95'
      ? quantile(m.samples, 0.95)
      : stat === 'value'
        ? m.samples[0]
        : quantile(m.samples, 0.5);
  const baseline = m.baselineSamples?.length ? quantile(m.baselineSamples, 0.5) : null;
  const ratio = target.kind === 'ratio' && baseline ? value / baseline : null;
  const figure = target.kind === 'ratio' ? ratio : value;
  const pass =
    figure !== null && (target.strict ? figure < target.target : figure <= target.target);
  return {
    ...base(target),
    stat,
    value: round(value),
    baseline: baseline === null ? null : round(baseline),
    ratio: ratio === null ? null : round(ratio, 3),
    pass,
    spread: {
      n: m.samples.length,
      p25: round(quantile(m.samples, 0.25)),
      p75: round(quantile(m.samples, 0.75)),
      ...(m.baselineSamples?.length
        ? {
            baselineP25: round(quantile(m.baselineSamples, 0.25)),
            baselineP75: round(quantile(m.baselineSamples, 0.75))
          }
        : {})
    },
    unit: m.unit ?? target.unit,
    extra: m.extra ?? {}
  };
}

function round(x, digits = 2) {
  return x === null || x === undefined ? null : Number(x.toFixed(digits));
}

function fmt(x) {
  return x === null || x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(2);
}

function table({ results: rows }) {
  const lines = [
    '| benchmark | measured as | value | baseline | ratio | target | spread (p25–p75) | details | met |',
    '|---|---|---|---|---|---|---|---|---|'
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.name} | ${r.measuredAs} | error: ${r.error} | | | | | | no |`);
      continue;
    }
    const target =
      r.kind === 'ratio'
        ? `<= ${r.target}`
        : `${r.stat === 'p95' ? 'p95 ' : ''}${r.strict ? '<' : '<='} ${r.target} ${r.unit}`;
    const spread =
      r.spread.n > 1 ? `${fmt(r.spread.p25)}–${fmt(r.spread.p75)} ${r.unit} (n=${r.spread.n})` : '';
    const details = Object.entries(r.extra)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    lines.push(
      `| ${r.name} | ${r.measuredAs} | ${fmt(r.value)} ${r.unit} | ${r.baseline === null ? '' : `${fmt(r.baseline)} ${r.unit}`} | ${r.ratio === null ? '' : r.ratio.toFixed(2)} | ${target} | ${spread} | ${details} | ${r.pass ? 'yes' : '**no**'} |`
    );
  }
  return lines.join('\n');
}

function updateDocs(results) {
  const path = 'docs/performance.md';
  const text = readFileSync(path, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const m = results.machine;
  const block = [
    start,
    '',
    `Measured ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB), Chromium ${m.chromium}, Node ${m.node}; the whole run took ${results.seconds} s.`,
    '',
    table(results),
    '',
    end
  ].join('\n');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) throw new Error(`${path} lacks the ${start} … ${end} markers`);
  writeFileSync(path, text.slice(0, i) + block + text.slice(j + end.length));
}
