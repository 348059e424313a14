// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
  namespace App {
    // interface Error {}
    // interface Locals {}
    // interface PageData {}
    // interface PageState {}
    // interface Platform {}
  }

  /** package.json version, inlined at build time. */
  const __NIGHTCORE_VERSION__: string;
}

export {};
