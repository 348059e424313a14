// Vite's `?url` imports (the fixtures the runtime benchmarks fetch, straight from
// tests/fixtures/wasm so the harness never holds its own copies).
declare module '*.wasm?url' {
  const url: string;
  export default url;
}
