// The hostile suite (issue 9): property-based tests and the mutation corpus over every core
// parser, run on their own by `npm run test:hostile` (and as a second pass by `npm test`), in
// Node. The SvelteKit plugin is here only because it writes .svelte-kit/tsconfig.json, which
// tsconfig.json extends and the TypeScript transform reads (a fresh checkout has none).
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  test: {
    include: ['tests/hostile/**/*.test.ts'],
    environment: 'node',
    // Generous: the machine is shared and slow; the per-input bound is asserted inside the tests.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['tests/hostile/global-setup.ts']
  }
});
