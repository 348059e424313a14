import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: undefined, strict: true }),
    // The app registers its service worker itself so it can show a "new version" prompt.
    serviceWorker: { register: false },
    // Prerendered pages get the policy as a <meta http-equiv>; SvelteKit hashes its own inline
    // bootstrap script, so nothing inline runs without a hash.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self', 'wasm-unsafe-eval'],
        // Style attributes: SvelteKit's route announcer sets one; styles cannot run script.
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'worker-src': ['self'],
        'manifest-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['none'],
        'form-action': ['self']
      }
    },
    version: { pollInterval: 0 }
  }
};

export default config;
