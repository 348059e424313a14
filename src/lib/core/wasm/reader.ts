/**
 * A bounds-checked reader for the WebAssembly binary format. It never reads outside
 * [start, end) of the array it was given, and every read that would is a WasmReadError carrying
 * the byte offset where the bad item starts. Parsers in core/wasm catch WasmReadError and turn it
 * into a Reason; nothing else is ever thrown for bad input.
 *
 * LEB128 follows the spec (Binary Format, "Integers") exactly: an N-bit integer takes at most
 * ceil(N / 7) bytes; in the last byte allowed, the bits beyond N must be zero (unsigned) or copies
 * of the sign bit (signed). Non-minimal encodings within that byte budget (e.g. `80 00` for 0)
 * are valid, as the spec says, and are accepted.
 */
import { DecodeError, fromUtf8 } from '../bytes';

/** The reason codes reading a module's structure can fail with. */
export type WasmReadCode =
  | 'wasm.magic'
  | 'wasm.version'
  | 'wasm.truncated'
  | 'wasm.leb128-too-long'
  | 'wasm.leb128-unused-bits'
  | 'wasm.name-utf8'
  | 'wasm.section-unknown'
  | 'wasm.section-overflow'
  | 'wasm.section-duplicate'
  | 'wasm.section-order'
  | 'wasm.section-size'
  | 'wasm.malformed'
  | 'wasm.unsupported';

/** A malformed or truncated item, with where it starts. */
export class WasmReadError extends Error {
  override name = 'WasmReadError';
  constructor(
    readonly code: WasmReadCode,
    readonly detail: string,
    readonly offset: number
  ) {
    super(`${detail} (at byte ${offset})`);
  }
}

export class WasmReader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  #pos: number;

  /** Reads bytes[start, end). Bounds are clamped to the array. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#end = Math.max(0, Math.min(end, bytes.length));
    this.#pos = Math.max(0, Math.min(start, this.#end));
  }

  /** Absolute offset of the next byte to read. */
  get offset(): number {
    return this.#pos;
  }

  /** Absolute offset one past the last readable byte. */
  get end(): number {
    return this.#end;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  atEnd(): boolean {
    return this.#pos >= this.#end;
  }

  fail(code: WasmReadCode, detail: string, offset = this.#pos): never {
    throw new WasmReadError(code, detail, offset);
  }

  u8(what: string): number {
    if (this.#pos >= this.#end) this.fail('wasm.truncated', `${what}: unexpected end`);
    return this.#bytes[this.#pos++]!;
  }

  /** The next byte, without consuming it. */
  peek(what: string): number {
    if (this.#pos >= this.#end) this.fail('wasm.truncated', `${what}: unexpected end`);
    return this.#bytes[this.#pos]!;
  }

  /** Unsigned LEB128, 32 bits (at most 5 bytes). */
  u32(what: string): number {
    return this.#lebNumber(32, false, what);
  }

  /** Signed LEB128, 32 bits (at most 5 bytes). */
  s32(what: string): number {
    return this.#lebNumber(32, true, what);
  }

  /** Signed LEB128, 33 bits (block types and heap types; at most 5 bytes). */
  s33(what: string): number {
    return this.#lebNumber(33, true, what);
  }

  /** Unsigned LEB128, 64 bits (at most 10 bytes). */
  u64(what: string): bigint {
    return this.#lebBig(false, what);
  }

  /** Signed LEB128, 64 bits (at most 10 bytes). */
  s64(what: string): bigint {
    return this.#lebBig(true, what);
  }

  /** The next `length` bytes, as a view (no copy). */
  bytes(length: number, what: string): Uint8Array {
    const start = this.#pos;
    this.skip(length, what);
    return this.#bytes.subarray(start, this.#pos);
  }

  skip(length: number, what: string): void {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.#end - this.#pos) {
      this.fail('wasm.truncated', `${what}: ${length} bytes run past the end`);
    }
    this.#pos += length;
  }

  /** A name: u32 byte length, then strict UTF-8 (no replacement characters). */
  name(what: string): string {
    const start = this.#pos;
    const length = this.u32(`${what} length`);
    const raw = this.bytes(length, what);
    try {
      return fromUtf8(raw, what);
    } catch (error) {
      if (error instanceof DecodeError) this.fail('wasm.name-utf8', `${what}: not UTF-8`, start);
      throw error;
    }
  }

  /**
   * A vector length. Every element takes at least `minBytesEach` bytes, so a count the remaining
   * bytes cannot hold is refused here, before any loop runs (loops stay bounded by input length).
   */
  count(what: string, minBytesEach = 1): number {
    const start = this.#pos;
    const n = this.u32(`${what} count`);
    if (n * minBytesEach > this.#end - this.#pos) {
      this.fail(
        'wasm.truncated',
        `${what}: ${n} entries cannot fit in ${this.remaining} bytes`,
        start
      );
    }
    return n;
  }

  /** Fails (wasm.section-size) unless every byte up to the end was consumed. */
  expectEnd(what: string): void {
    if (this.#pos !== this.#end) {
      this.fail(
        'wasm.section-size',
        `${what}: ${this.#end - this.#pos} bytes left over at the end`
      );
    }
  }

  #lebNumber(bits: 32 | 33, signed: boolean, what: string): number {
    const start = this.#pos;
    const maxBytes = Math.ceil(bits / 7);
    const lastBits = bits - 7 * (maxBytes - 1);
    let result = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.#pos >= this.#end) {
        this.fail('wasm.truncated', `${what}: LEB128 runs past the end`, start);
      }
      const byte = this.#bytes[this.#pos++]!;
      if (i === maxBytes - 1) this.#checkLast(byte, lastBits, signed, maxBytes, what, start);
      result += (byte & 0x7f) * scale; // exact: at most 35 bits, well inside 2^53
      scale *= 128;
      if ((byte & 0x80) === 0) return signed && (byte & 0x40) !== 0 ? result - scale : result;
    }
    return this.fail(
      'wasm.leb128-too-long',
      `${what}: LEB128 longer than ${maxBytes} bytes`,
      start
    );
  }

  #lebBig(signed: boolean, what: string): bigint {
    const start = this.#pos;
    const maxBytes = 10;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < maxBytes; i++) {
      if (this.#pos >= this.#end) {
        this.fail('wasm.truncated', `${what}: LEB128 runs past the end`, start);
      }
      const byte = this.#bytes[this.#pos++]!;
      if (i === maxBytes - 1) this.#checkLast(byte, 1, signed, maxBytes, what, start);
      result |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) {
        return signed && (byte & 0x40) !== 0 ? BigInt.asIntN(64, result - (1n << shift)) : result;
      }
    }
    return this.fail(
      'wasm.leb128-too-long',
      `${what}: LEB128 longer than ${maxBytes} bytes`,
      start
    );
  }

  /** The last byte allowed: no continuation, and unused bits zero (or the sign, when signed). */
  #checkLast(
    byte: number,
    usedBits: number,
    signed: boolean,
    maxBytes: number,
    what: string,
    start: number
  ): void {
    if ((byte & 0x80) !== 0) {
      this.fail('wasm.leb128-too-long', `${what}: LEB128 longer than ${maxBytes} bytes`, start);
    }
    // Unsigned: bits usedBits..6 must be 0. Signed: bits (usedBits - 1)..6 must all be equal.
    const mask = signed ? (0x7f << (usedBits - 1)) & 0x7f : (0x7f << usedBits) & 0x7f;
    const high = byte & mask;
    if (high !== 0 && !(signed && high === mask)) {
      this.fail(
        'wasm.leb128-unused-bits',
        `${what}: LEB128 sets bits beyond ${signed ? 'the sign of ' : ''}${maxBytes === 10 ? 64 : usedBits + 28} bits`,
        start
      );
    }
  }
}

/** Unsigned LEB128 encoding of a u32, shortest form. */
export function encodeU32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`encodeU32: expected an integer in [0, 2^32), got ${value}`);
  }
  const out: number[] = [];
  let rest = value;
  do {
    const byte = rest % 128;
    rest = Math.floor(rest / 128);
    out.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return Uint8Array.from(out);
}

// Binary types shared by the inspector and the memory rewrite.

export function readMutability(s: WasmReader, what: string): void {
  const at = s.offset;
  const mut = s.u8(`${what} mutability`);
  if (mut > 1) s.fail('wasm.malformed', `${what}: bad mutability 0x${hex(mut)}`, at);
}

export interface Limits {
  min: number | bigint;
  max: number | bigint | null;
  shared: boolean;
  is64: boolean;
}

/** Limits flags: bit 0 = max present, bit 1 = shared, bit 2 = 64-bit. Others are refused. */
export function readLimits(s: WasmReader, what: string, allowShared: boolean): Limits {
  const at = s.offset;
  const flags = s.u8(`${what} limits flags`);
  if (flags > 7 || (!allowShared && (flags & 2) !== 0)) {
    s.fail('wasm.malformed', `${what}: unsupported limits flags 0x${hex(flags)}`, at);
  }
  const is64 = (flags & 4) !== 0;
  const read = (label: string) => (is64 ? s.u64(`${what} ${label}`) : s.u32(`${what} ${label}`));
  const min = read('minimum');
  const max = (flags & 1) !== 0 ? read('maximum') : null;
  return { min, max, shared: (flags & 2) !== 0, is64 };
}

/**
 * Skips a constant expression up to its `end`: the MVP, extended-const, reference and SIMD
 * constant instructions. Anything else (e.g. GC struct.new) is wasm.unsupported. Each step
 * consumes at least one byte of a bounded reader, so the loop ends.
 */
export function skipConstExpr(s: WasmReader, what: string): void {
  for (;;) {
    const at = s.offset;
    const op = s.u8(`${what} opcode`);
    if (op === 0x0b) return;
    if (op === 0x41) s.s32(what);
    else if (op === 0x42) s.s64(what);
    else if (op === 0x43) s.skip(4, what);
    else if (op === 0x44) s.skip(8, what);
    else if (op === 0x23 || op === 0xd2) s.u32(what);
    else if (op === 0xd0) s.s33(what);
    else if ([0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) continue;
    else if (op === 0xfd && s.u32(what) === 12) s.skip(16, what);
    else s.fail('wasm.unsupported', `${what}: opcode 0x${hex(op)} not supported`, at);
  }
}

const ABSTRACT_HEAP_TYPES = new Map<number, string>([
  [0x70, 'func'],
  [0x6f, 'extern'],
  [0x6e, 'any'],
  [0x6d, 'eq'],
  [0x6c, 'i31'],
  [0x6b, 'struct'],
  [0x6a, 'array'],
  [0x71, 'none'],
  [0x72, 'noextern'],
  [0x73, 'nofunc'],
  [0x69, 'exn'],
  [0x74, 'noexn']
]);
const NUM_TYPES = new Map<number, string>([
  [0x7f, 'i32'],
  [0x7e, 'i64'],
  [0x7d, 'f32'],
  [0x7c, 'f64'],
  [0x7b, 'v128']
]);

export function readRefType(s: WasmReader, what: string): string {
  const at = s.offset;
  const byte = s.u8(what);
  const short = ABSTRACT_HEAP_TYPES.get(byte);
  if (short !== undefined) return `${short}ref`;
  if (byte === 0x63 || byte === 0x64) {
    const heapAt = s.offset;
    const heap = s.s33(`${what} heap type`);
    const name = heap >= 0 ? String(heap) : ABSTRACT_HEAP_TYPES.get(heap + 128);
    if (name === undefined) s.fail('wasm.malformed', `${what}: unknown heap type ${heap}`, heapAt);
    return byte === 0x63 ? `(ref null ${name})` : `(ref ${name})`;
  }
  return s.fail('wasm.malformed', `${what}: not a reference type (0x${hex(byte)})`, at);
}

export function readValType(s: WasmReader, what: string): string {
  const num = NUM_TYPES.get(s.peek(what));
  if (num === undefined) return readRefType(s, what);
  s.u8(what);
  return num;
}

/**
 * A name from a module, for a message: JSON-quoted (control characters escaped) and clipped to 64
 * characters, since names are attacker-controlled and may be megabytes long.
 */
export function quoteName(name: string): string {
  const clipped = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(clipped);
}

export function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
