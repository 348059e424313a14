/**
 * The benchmark harness page: every page-side case by name, for scripts/bench.mjs to call through
 * `window.nightcoreBench.run(name)`.
 */
import { auditCases } from './audit';
import type { BenchCase, PageResult } from './measure';
import { runtimeCases } from './runtime';
import { verifyCases } from './verify';

const cases: Record<string, BenchCase> = { ...verifyCases, ...runtimeCases, ...auditCases };

declare global {
  interface Window {
    nightcoreBench: { names: string[]; run(name: string): Promise<PageResult> };
  }
}

window.nightcoreBench = {
  names: Object.keys(cases),
  run: async (name) => {
    const bench = cases[name];
    if (!bench) throw new Error(`no page benchmark named ${name}`);
    return bench();
  }
};
document.documentElement.dataset.ready = 'true';
