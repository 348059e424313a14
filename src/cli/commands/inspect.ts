import { parseBundle } from '$lib/core/bundle';
import { sha256Hex } from '$lib/core/digest';
import { parseManifest } from '$lib/core/manifest';
import { detectInput } from '$lib/core/detect-input';
import { requiredCapabilities } from '$lib/core/wasm/capabilities';
import { inspectWasm, type WasmInspection } from '$lib/core/wasm/inspect';
import { parseArgs } from 'node:util';
import type { CliIO } from '../main';
import { CliError, UsageError, readInput } from '../io';

export const INSPECT_USAGE = `Usage: nightcore inspect FILE [--json]

Shows what a module would ask for, without running or trusting it: for a .wasm its imports (by
WASI capability group, foreign ones flagged), exports, memories, tables, start function and custom
sections; for a bundle also its manifest, UNVERIFIED (use nightcore verify to check signatures).
Exit status: 0 inspected, 1 the file does not parse, 2 usage error.`;

export async function inspectCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true,
    allowPositionals: true
  });
  if (values.help) {
    io.out(`${INSPECT_USAGE}\n`);
    return 0;
  }
  const [path, ...extra] = positionals;
  if (!path || extra.length > 0) throw new UsageError('inspect takes exactly one FILE');
  const bytes = await readInput(path);
  const kind = detectInput(bytes, path);
  let module: Uint8Array;
  let manifest: unknown = null;
  let manifestText: string | null = null;
  if (kind === 'bundle') {
    const bundle = parseBundle(bytes);
    if (!bundle.ok) {
      for (const r of bundle.reasons) io.err(`${path}: ${r.message} (${r.code})\n`);
      return 1;
    }
    module = bundle.module;
    manifestText = new TextDecoder().decode(bundle.manifestBytes);
    const parsed = parseManifest(bundle.manifestBytes);
    manifest = parsed.ok ? parsed.manifest : { invalid: parsed.reasons };
  } else if (kind === 'wasm') {
    module = bytes;
  } else {
    throw new CliError(`${path}: not a WebAssembly module or a bundle`);
  }
  const inspection = inspectWasm(module);
  const sha256 = await sha256Hex(module);
  if (values.json) {
    io.out(`${JSON.stringify({ sha256, manifest, verified: false, inspection }, bigintSafe, 2)}\n`);
  } else {
    printInspection(io, sha256, inspection, manifestText);
  }
  if (!inspection.ok) {
    for (const r of inspection.reasons) io.err(`${path}: ${r.message} (${r.code})\n`);
    return 1;
  }
  return 0;
}

/** Names come from the module: plain ones as they are, anything else JSON-quoted (escaped). */
function shown(name: string): string {
  return /^[\x21-\x7e]{1,200}$/.test(name) ? name : JSON.stringify(name.slice(0, 200));
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function printInspection(
  io: CliIO,
  sha256: string,
  w: WasmInspection,
  manifestText: string | null
): void {
  const line = (label: string, text: string) => io.out(`${label.padEnd(14)}${text}\n`);
  if (manifestText !== null) {
    // The bytes as signed, not a re-serialization (bin.ts keeps control characters off the terminal).
    io.out('manifest (UNVERIFIED: run nightcore verify to check who signed it)\n');
    // Every line prefixed, so manifest text cannot pass for the tool's own output lines.
    io.out(`${manifestText.replace(/\n$/, '').replace(/^/gm, '  | ')}\n\n`);
  }
  line('sha256', sha256);
  line('size', `${w.size} bytes`);
  line('valid', w.valid ? 'yes (WebAssembly.validate)' : 'NO');
  line('entry', w.entry === 'none' ? 'none (no _start or _initialize)' : w.entry);
  line(
    'capabilities',
    requiredCapabilities(w).join(', ') || '(none beyond stdout/stderr and exit)'
  );
  io.out('imports\n');
  for (const i of w.imports) {
    const tag = i.refused ? 'REFUSED' : (i.capability ?? (i.wasi ? 'baseline' : 'FOREIGN'));
    io.out(`  ${`${shown(i.module)}.${shown(i.name)}`.padEnd(46)} ${i.kind.padEnd(7)} ${tag}\n`);
  }
  io.out('exports\n');
  for (const e of w.exports) io.out(`  ${shown(e.name).padEnd(46)} ${e.kind}\n`);
  io.out('memories\n');
  for (const m of w.memories) {
    const max = m.max === null ? 'no maximum' : `max ${m.max} pages`;
    const flags = [
      m.imported ? 'imported' : '',
      m.shared ? 'SHARED' : '',
      m.memory64 ? 'MEMORY64' : ''
    ]
      .filter(Boolean)
      .join(' ');
    io.out(`  #${m.index} min ${m.min} pages, ${max}${flags ? ` ${flags}` : ''}\n`);
  }
  if (w.tables.length) line('tables', String(w.tables.length));
  if (w.startFunction !== null)
    line('start', `function ${w.startFunction} (runs at instantiation)`);
  if (w.customSections.length) line('custom', w.customSections.map(shown).join(', '));
  if (w.foreignImports.length) line('FOREIGN', w.foreignImports.map(shown).join(', '));
}
