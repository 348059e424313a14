// Benchmarks measured from Node: those whose baseline lives outside the page (node:wasi) or
// that look at the build or drive the real app. Each returns { samples, baselineSamples?, unit,
// extra? } like a page case. `context`: { browser, appUrl, harnessUrl }.
import { appSize } from './app-size.mjs';
import { computeCases } from './compute.mjs';
import { leak } from './leak.mjs';
import { timeline } from './timeline.mjs';

/** @type {Record<string, (context: { browser: import('@playwright/test').Browser, appUrl: string, harnessUrl: string }) => Promise<{ samples: number[], baselineSamples?: number[], unit: string, extra?: Record<string, unknown> }>>} */
export const NODE_CASES = {
  'app-size': appSize,
  timeline,
  ...computeCases,
  leak
};
