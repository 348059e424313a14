// Builds the benchmark harness (bench/harness) into dist/bench: a page that imports the same
// src/lib modules as the app, built by the same Vite in production mode, so `npm run bench`
// measures production code. Not part of the app's build or its service worker.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import pkg from './package.json' with { type: 'json' };

export default defineConfig({
  root: fileURLToPath(new URL('./bench/harness', import.meta.url)),
  base: '/',
  resolve: { alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) } },
  define: { __NIGHTCORE_VERSION__: JSON.stringify(pkg.version) },
  worker: { format: 'es' },
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist/bench', import.meta.url)),
    emptyOutDir: true,
    target: 'esnext'
  }
});
