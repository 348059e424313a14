/**
 * Compiled modules kept alive in the page, by approved SHA-256 and memory cap: a later run of the
 * same approved bytes under the same cap posts this `WebAssembly.Module` to its fresh worker
 * instead of bytes, skipping re-hashing and compiling and starting from the code V8 has already
 * tiered up (TOOLCHAIN.md, "Speed facts"). Only modules a worker compiled from bytes it re-hashed
 * against the approval get here (`RunResult.prepared`), so the cache never holds unchecked code.
 * Shared by the app's Runs state and the benchmark harness, so both run the same path.
 */
import type { PreparedModule } from './protocol';

const compiled = new Map<string, PreparedModule>();
/** Compiled code is large (a few times the wasm size); keep only the most recent few. */
const MAX_COMPILED = 16;

const keyOf = (sha256: string, memoryMiB: number) => `${sha256}:${memoryMiB}`;

/** The module compiled earlier from these approved bytes under this memory cap, or null. */
export function compiledModule(sha256: string, memoryMiB: number): PreparedModule | null {
  return compiled.get(keyOf(sha256, memoryMiB)) ?? null;
}

/** Keeps what a worker prepared (most recent last; the oldest goes past MAX_COMPILED). */
export function rememberCompiled(sha256: string, memoryMiB: number, prepared: PreparedModule) {
  const key = keyOf(sha256, memoryMiB);
  compiled.delete(key);
  compiled.set(key, prepared);
  if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
}

/** Drops every compiled module (the benchmark's cold runs; storage cleared). */
export function forgetCompiled(): void {
  compiled.clear();
}
