/**
 * Merges what each hostile test file counted (reports/hostile/*.json) into
 * reports/hostile-counts.json and prints the two summary tables once every file has run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const DIR = 'reports/hostile';
const OUT = 'reports/hostile-counts.json';

interface FileCounts {
  seed: number;
  runs: number;
  parsers: Record<
    string,
    { inputs: number; properties: string[]; roundTrips: number; slowestMs: number }
  >;
  mutations: Record<
    string,
    {
      tried: number;
      rejected: number;
      acceptedUnsigned: number;
      acceptedWhere: Record<string, number>;
    }
  >;
}

export function setup(): void {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
}

export function teardown(): void {
  if (!existsSync(DIR)) return;
  const merged: FileCounts = { seed: 0, runs: 0, parsers: {}, mutations: {} };
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const counts = JSON.parse(readFileSync(`${DIR}/${file}`, 'utf8')) as FileCounts;
    merged.seed = counts.seed;
    merged.runs = counts.runs;
    for (const [name, c] of Object.entries(counts.parsers)) {
      const into = (merged.parsers[name] ??= {
        inputs: 0,
        properties: [],
        roundTrips: 0,
        slowestMs: 0
      });
      into.inputs += c.inputs;
      into.properties = [...new Set([...into.properties, ...c.properties])].sort();
      into.roundTrips += c.roundTrips;
      into.slowestMs = Math.max(into.slowestMs, c.slowestMs);
    }
    for (const [name, c] of Object.entries(counts.mutations)) {
      const into = (merged.mutations[name] ??= {
        tried: 0,
        rejected: 0,
        acceptedUnsigned: 0,
        acceptedWhere: {}
      });
      into.tried += c.tried;
      into.rejected += c.rejected;
      into.acceptedUnsigned += c.acceptedUnsigned;
      for (const [where, n] of Object.entries(c.acceptedWhere)) {
        into.acceptedWhere[where] = (into.acceptedWhere[where] ?? 0) + n;
      }
    }
  }
  writeFileSync(OUT, `${JSON.stringify(merged, null, 2)}\n`);
  const lines = [`\nhostile suite: seed ${merged.seed}, ${merged.runs} runs per property (${OUT})`];
  lines.push('parser | inputs tried | properties | round trips | slowest ms');
  for (const [name, c] of Object.entries(merged.parsers).sort()) {
    lines.push(
      `${name} | ${c.inputs} | ${c.properties.join(', ')} | ${c.roundTrips} | ${c.slowestMs}`
    );
  }
  lines.push('format | mutations tried | rejected | accepted (unsigned text only)');
  for (const [name, c] of Object.entries(merged.mutations).sort()) {
    const where = Object.entries(c.acceptedWhere)
      .map(([w, n]) => `${w}: ${n}`)
      .join(', ');
    lines.push(
      `${name} | ${c.tried} | ${c.rejected} | ${c.acceptedUnsigned}${where ? ` (${where})` : ''}`
    );
  }
  console.log(lines.join('\n'));
}
