// The benchmark targets of issue 8. `ratio`: median of the subject / median of its baseline,
// measured in the same run; `absolute`: the subject's own figure (`stat` says which).
/** @typedef {{ name: string, kind: 'ratio' | 'absolute', target: number, strict?: boolean, stat?: 'median' | 'p95' | 'value', unit: string, measuredAs: string }} Target */

/** @type {Target[]} */
export const TARGETS = [
  {
    name: 'verify-wasm-10MiB',
    kind: 'ratio',
    target: 1.3,
    unit: 'ms',
    measuredAs:
      'time to verdict, 10 MiB .wasm + detached minisign signature / crypto.subtle SHA-256 of the same bytes'
  },
  {
    name: 'verify-bundle-10MiB',
    kind: 'ratio',
    target: 2.0,
    unit: 'ms',
    measuredAs: 'time to verdict, .ncb with a 10 MiB module / the same SHA-256 baseline'
  },
  {
    name: 'verify-small',
    kind: 'absolute',
    target: 5,
    strict: true,
    stat: 'median',
    unit: 'ms',
    measuredAs: 'time to verdict, 100 KiB bundle (median)'
  },
  {
    name: 'run-latency',
    kind: 'ratio',
    target: 1.0,
    unit: 'ms',
    measuredAs:
      "start-to-exit of hello through the app's runner / a bare Worker + instantiate + minimal inline WASI"
  },
  {
    name: 'compute-cold',
    kind: 'ratio',
    target: 1.1,
    unit: 'ms',
    measuredAs: 'SHA-256 of 64 MiB inside the module, first run, runner / node:wasi first run'
  },
  {
    name: 'compute-warm',
    kind: 'ratio',
    target: 1.1,
    unit: 'ms',
    measuredAs: 'the same, repeated runs, runner / node:wasi repeated runs'
  },
  {
    name: 'kill-latency',
    kind: 'absolute',
    target: 50,
    stat: 'p95',
    unit: 'ms',
    measuredAs: 'infinite loop, 500 ms timeout: deadline to the recorded timeout outcome (p95)'
  },
  {
    name: 'output',
    kind: 'ratio',
    target: 1.5,
    unit: 'ms',
    measuredAs: '64 MiB to stdout under a 1 MiB cap / the same module with stdout to a no-op sink'
  },
  {
    name: 'audit-append',
    kind: 'ratio',
    target: 3.0,
    unit: 'ms',
    measuredAs: '10,000 audit records appended / raw IndexedDB puts of the same records'
  },
  {
    name: 'audit-verify',
    kind: 'ratio',
    target: 2.0,
    unit: 'ms',
    measuredAs: 'full chain check of 100,000 records / SHA-256 over the same encoded bytes'
  },
  {
    name: 'timeline',
    kind: 'absolute',
    target: 300,
    strict: true,
    stat: 'median',
    unit: 'ms',
    measuredAs: 'first rows painted for a 100,000-record log'
  },
  {
    name: 'app-size',
    kind: 'absolute',
    target: 150,
    stat: 'value',
    unit: 'KiB',
    measuredAs: 'gzip JS + CSS of the first page'
  },
  {
    name: 'leak',
    kind: 'absolute',
    target: 5,
    strict: true,
    stat: 'value',
    unit: 'MiB',
    measuredAs: 'JS heap after 200 runs minus after 20 runs'
  }
];
