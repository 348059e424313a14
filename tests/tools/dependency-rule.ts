/**
 * The architecture's dependency rule (docs/architecture.md), as code: every import in src/ is
 * checked against the layer it comes from, and src/lib/core is checked for browser globals too.
 * Run by tests/unit/dependency-rule.test.ts over the real tree and over planted violations.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export type Layer =
  'core' | 'runtime' | 'storage' | 'state' | 'ui' | 'routes' | 'cli' | 'service-worker' | 'other';

/** Which layers each layer may import from (its own included). Arrows point inward only. */
export const ALLOWED_LAYERS: Record<Layer, readonly Layer[]> = {
  core: ['core'],
  runtime: ['core', 'runtime'],
  storage: ['core', 'storage'],
  state: ['core', 'runtime', 'storage', 'state'],
  ui: ['core', 'state', 'ui'],
  // routes may import the global stylesheet (src/app.css); the CLI reads package.json's version.
  routes: ['core', 'state', 'ui', 'routes', 'other'],
  cli: ['core', 'cli', 'other'],
  'service-worker': [],
  other: ['core', 'runtime', 'storage', 'state', 'ui', 'routes', 'cli', 'service-worker', 'other']
};

/** Packages core may use: pure JavaScript that runs unchanged in Node and in the browser. */
const CORE_PACKAGES = ['@noble/ed25519', '@noble/hashes', 'fflate'];

/** Browser-only globals that must not appear in core (it runs in Node too). */
const CORE_FORBIDDEN_GLOBALS =
  /\b(document|window|indexedDB|IDB[A-Z]\w*|localStorage|sessionStorage|navigator|HTMLElement|customElements|location)\b/;

export interface Violation {
  file: string;
  line: number;
  message: string;
}

export function layerOf(srcDir: string, file: string): Layer {
  const parts = relative(srcDir, file).split(sep);
  if (parts[0] === 'lib' && parts.length > 2) {
    const layer = parts[1];
    if (layer === 'core' || layer === 'runtime' || layer === 'storage') return layer;
    if (layer === 'state' || layer === 'ui') return layer;
  }
  if (parts[0] === 'routes') return 'routes';
  if (parts[0] === 'cli') return 'cli';
  if (parts[0]?.startsWith('service-worker')) return 'service-worker';
  return 'other';
}

/** Removes comments (keeping line breaks) so examples in doc comments are not read as code. */
function stripComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function stripStrings(line: string): string {
  return line.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

const IMPORT_PATTERN =
  /(?:\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?|\bexport\s+(?:type\s+)?[\w*{}\s,$]+?\s+from\s+|\bimport\s*\(\s*)(['"])([^'"]+)\1/g;

export function checkFile(srcDir: string, file: string, source: string): Violation[] {
  const layer = layerOf(srcDir, file);
  const violations: Violation[] = [];
  const code = stripComments(file.endsWith('.svelte') ? scriptsOf(source) : source);
  const lines = code.split('\n');
  const at = (index: number) => code.slice(0, index).split('\n').length;
  const report = (line: number, message: string) =>
    violations.push({ file: relative(srcDir, file), line, message });

  for (const match of code.matchAll(IMPORT_PATTERN)) {
    const specifier = match[2] ?? '';
    const line = at(match.index ?? 0);
    const target = resolveLayer(srcDir, file, specifier);
    if (target) {
      if (!ALLOWED_LAYERS[layer].includes(target)) {
        report(line, `${layer} must not import ${target} ("${specifier}")`);
      }
    } else if (layer === 'core' && !isAllowedCorePackage(specifier)) {
      report(line, `core must not import "${specifier}" (core runs in Node and the browser)`);
    } else if (layer === 'service-worker' && !specifier.startsWith('$service-worker')) {
      report(line, `the service worker must not import "${specifier}"`);
    }
  }
  if (layer === 'core') {
    lines.forEach((text, index) => {
      const found = stripStrings(text).match(CORE_FORBIDDEN_GLOBALS);
      if (found) report(index + 1, `core must not use the browser global "${found[1]}"`);
    });
  }
  return violations;
}

function scriptsOf(svelteSource: string): string {
  // Keep line numbers: blank out everything outside <script> blocks.
  return svelteSource.replace(
    /(^|<\/script>)([\s\S]*?)(<script\b|$)/g,
    (_all, a, between, b) => `${a}${String(between).replace(/[^\n]/g, ' ')}${b}`
  );
}

function isAllowedCorePackage(specifier: string): boolean {
  return CORE_PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/** The layer an import lands in, or null when it is a package (not our source). */
function resolveLayer(srcDir: string, file: string, specifier: string): Layer | null {
  if (specifier.startsWith('$lib/'))
    return layerOf(srcDir, join(srcDir, 'lib', specifier.slice(5)));
  if (specifier.startsWith('.')) return layerOf(srcDir, resolve(dirname(file), specifier));
  if (specifier.startsWith('$app/') || specifier.startsWith('$service-worker')) return null;
  return null;
}

export function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|js|svelte)$/.test(name) && !name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

export function checkTree(srcDir: string): Violation[] {
  return sourceFiles(srcDir).flatMap((file) => checkFile(srcDir, file, readFileSync(file, 'utf8')));
}
