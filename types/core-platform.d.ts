/**
 * The platform APIs src/lib/core may use: those that Node 20 and every supported browser both
 * provide as globals. tsconfig.core.json checks core against this file and ES2023 only, so
 * anything else (DOM, IndexedDB, Node built-ins) is a type error in core.
 */
type CoreBufferSource = ArrayBufferView | ArrayBuffer;

declare class TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: CoreBufferSource, options?: { stream?: boolean }): string;
}

interface CoreSubtleCrypto {
  digest(
    algorithm: 'SHA-256' | 'SHA-384' | 'SHA-512',
    data: CoreBufferSource
  ): Promise<ArrayBuffer>;
}

declare var crypto: {
  readonly subtle: CoreSubtleCrypto;
  getRandomValues<T extends ArrayBufferView>(array: T): T;
};

declare namespace WebAssembly {
  function validate(bytes: CoreBufferSource): boolean;
  // Compile and instantiate, for core's BLAKE2b module (core/digest.ts).
  function instantiate(
    bytes: CoreBufferSource,
    imports: object
  ): Promise<{ instance: { readonly exports: Record<string, unknown> } }>;
}
