// Builds the Node CLI (src/cli/bin.ts) into one ES module, dist/cli/nightcore.js, from the same
// src/lib/core sources the app uses. Node 20 cannot run .ts itself, hence a build.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: { alias: { $lib: fileURLToPath(new URL('./src/lib', import.meta.url)) } },
  build: {
    ssr: 'src/cli/bin.ts',
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: { output: { entryFileNames: 'nightcore.js', format: 'es' } }
  },
  ssr: { noExternal: true, target: 'node' }
});
