/**
 * A strict JSON parser (RFC 8259) for input an attacker may have written.
 *
 * Differences from JSON.parse, each on purpose:
 * - A duplicate key in an object is an error. JSON.parse keeps the last one, so two readers of
 *   the same bytes can disagree about what they say; here there is one answer or none.
 * - Nesting deeper than `maxDepth` (default 64) is an error, so a hostile `[[[[…` cannot
 *   exhaust the stack.
 * - Input longer than `maxSize` is refused before it is read (bytes for parseJsonBytes,
 *   UTF-16 code units for parseJson).
 * - A `\u` escape that leaves a lone surrogate (`"\ud800"`) is an error (the I-JSON rule of
 *   RFC 7493): such a string has no UTF-8 encoding, so it cannot be shown, stored or hashed
 *   faithfully. Raw text cannot contain one in parseJsonBytes (strict UTF-8 decoding); in
 *   parseJson (a JavaScript string) a raw one inside a string is refused the same way.
 * - A byte order mark is an error (RFC 8259 section 8.1: implementations must not add one), as
 *   is anything but whitespace after the value.
 * Numbers follow the RFC grammar and become JavaScript numbers exactly as JSON.parse makes them
 * (`1e400` is Infinity, `-0` is -0); callers that want integers check Number.isSafeInteger.
 * Objects have a null prototype, so a key such as `__proto__` is an ordinary own property.
 * Errors are values with a byte (or code unit) offset; the parser never throws.
 */
import { DecodeError, fromUtf8, utf8 } from './bytes';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export type JsonErrorKind = 'syntax' | 'duplicate-key' | 'depth' | 'size' | 'encoding';

export type JsonResult =
  | { ok: true; value: JsonValue }
  | { ok: false; kind: JsonErrorKind; message: string; offset: number };

export interface JsonOptions {
  /** Deepest nesting of arrays and objects allowed; default 64, at most 512. */
  maxDepth?: number;
  /** Longest input accepted (bytes or code units); default unlimited. */
  maxSize?: number;
}

export const DEFAULT_MAX_DEPTH = 64;
const HARD_MAX_DEPTH = 512;

/** Parses JSON text. Offsets in errors are UTF-16 code unit indexes into `text`. */
export function parseJson(text: string, options: JsonOptions = {}): JsonResult {
  if (typeof text !== 'string') return fail('syntax', 'the input is not text', 0);
  const limit = options.maxSize;
  if (limit !== undefined && text.length > limit) {
    return fail('size', `the JSON text is ${text.length} characters, over the ${limit} limit`, 0);
  }
  if (text.charCodeAt(0) === 0xfeff) {
    return fail('encoding', 'the JSON text starts with a byte order mark', 0);
  }
  const maxDepth = Math.min(
    Math.max(Math.floor(options.maxDepth ?? DEFAULT_MAX_DEPTH), 0),
    HARD_MAX_DEPTH
  );
  try {
    return new Parser(text, maxDepth).parseDocument();
  } catch (error) {
    if (error instanceof JsonError) return fail(error.kind, error.message, error.offset);
    // Only a stack or memory exhaustion can land here; report it rather than throw.
    return fail('syntax', `the JSON text could not be parsed (${String(error)})`, 0);
  }
}

/**
 * Parses JSON bytes: strict UTF-8 (no invalid sequences, no BOM), then parseJson. Offsets in
 * errors are byte offsets.
 */
export function parseJsonBytes(bytes: Uint8Array, options: JsonOptions = {}): JsonResult {
  if (!(bytes instanceof Uint8Array)) return fail('syntax', 'the input is not bytes', 0);
  const limit = options.maxSize;
  if (limit !== undefined && bytes.length > limit) {
    return fail('size', `the JSON text is ${bytes.length} bytes, over the ${limit}-byte limit`, 0);
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return fail('encoding', 'the JSON text starts with a byte order mark', 0);
  }
  let text: string;
  try {
    text = fromUtf8(bytes, 'JSON text');
  } catch (error) {
    const message = error instanceof DecodeError ? error.message : 'JSON text: not valid UTF-8';
    return fail('encoding', message, firstInvalidUtf8(bytes));
  }
  const inner: JsonOptions = {};
  if (options.maxDepth !== undefined) inner.maxDepth = options.maxDepth;
  const result = parseJson(text, inner);
  if (result.ok || result.offset === 0) return result;
  return { ...result, offset: utf8(text.slice(0, result.offset)).length };
}

function fail(kind: JsonErrorKind, message: string, offset: number): JsonResult {
  return { ok: false, kind, message, offset };
}

class JsonError extends Error {
  constructor(
    readonly kind: JsonErrorKind,
    message: string,
    readonly offset: number
  ) {
    super(message);
  }
}

// Runs of string characters that need no attention: not a quote, backslash or control char.
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
/** A UTF-16 surrogate that is not half of a pair (with the u flag, pairs are one code point). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t'
};

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number
  ) {}

  parseDocument(): JsonResult {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos < this.text.length) {
      throw this.error('syntax', `unexpected ${this.describe()} after the JSON value`);
    }
    return { ok: true, value };
  }

  private parseValue(depth: number): JsonValue {
    const char = this.text[this.pos];
    switch (char) {
      case '{':
        return this.parseObject(depth + 1);
      case '[':
        return this.parseArray(depth + 1);
      case '"':
        return this.parseString();
      case 't':
        return this.parseLiteral('true', true);
      case 'f':
        return this.parseLiteral('false', false);
      case 'n':
        return this.parseLiteral('null', null);
      default:
        if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) {
          return this.parseNumber();
        }
        throw this.error('syntax', `expected a JSON value, found ${this.describe()}`);
    }
  }

  private parseObject(depth: number): JsonObject {
    this.checkDepth(depth);
    const object = Object.create(null) as JsonObject;
    this.pos++; // {
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return object;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') {
        throw this.error('syntax', `expected a string key, found ${this.describe()}`);
      }
      const keyOffset = this.pos;
      const key = this.parseString();
      if (Object.hasOwn(object, key)) {
        throw new JsonError('duplicate-key', `duplicate key ${JSON.stringify(key)}`, keyOffset);
      }
      this.skipWhitespace();
      this.expect(':');
      this.skipWhitespace();
      object[key] = this.parseValue(depth);
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      this.expect('}');
      return object;
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.checkDepth(depth);
    const array: JsonValue[] = [];
    this.pos++; // [
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return array;
    }
    for (;;) {
      array.push(this.parseValue(depth));
      this.skipWhitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      this.expect(']');
      return array;
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      PLAIN_RUN.lastIndex = this.pos;
      PLAIN_RUN.test(this.text);
      if (PLAIN_RUN.lastIndex > this.pos) {
        const run = this.text.slice(this.pos, PLAIN_RUN.lastIndex);
        // Raw text (parseJson of a string) can hold a lone surrogate too: refused like the escape.
        // A pair never straddles two runs: a run ends only at a quote, backslash or control.
        const lone = LONE_SURROGATE.exec(run);
        if (lone !== null) {
          throw new JsonError('syntax', 'a lone surrogate in a string', this.pos + lone.index);
        }
        out += run;
        this.pos = PLAIN_RUN.lastIndex;
      }
      const char = this.text[this.pos];
      if (char === '"') {
        this.pos++;
        return out;
      }
      if (char === undefined) {
        throw new JsonError('syntax', 'unterminated string', start);
      }
      if (char !== '\\') {
        throw this.error('syntax', 'a control character must be escaped inside a string');
      }
      out += this.parseEscape();
    }
  }

  private parseEscape(): string {
    const escapeStart = this.pos;
    const kind = this.text[this.pos + 1];
    if (kind !== 'u') {
      const simple = kind === undefined ? undefined : ESCAPES[kind];
      if (simple === undefined) throw this.error('syntax', 'invalid escape in a string');
      this.pos += 2;
      return simple;
    }
    const unit = this.readHex4(this.pos + 2);
    this.pos += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      throw new JsonError('syntax', 'a \\u escape leaves a lone low surrogate', escapeStart);
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low =
        this.text[this.pos] === '\\' && this.text[this.pos + 1] === 'u'
          ? this.readHex4(this.pos + 2)
          : -1;
      if (low < 0xdc00 || low > 0xdfff) {
        throw new JsonError('syntax', 'a \\u escape leaves a lone high surrogate', escapeStart);
      }
      this.pos += 6;
      return String.fromCharCode(unit, low);
    }
    return String.fromCharCode(unit);
  }

  private readHex4(at: number): number {
    const hex = this.text.slice(at, at + 4);
    if (!HEX4.test(hex)) throw new JsonError('syntax', 'invalid \\u escape in a string', at - 2);
    return Number.parseInt(hex, 16);
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) throw this.error('syntax', 'invalid number');
    const end = this.pos + match[0].length;
    const next = this.text[end];
    if (next !== undefined && /[0-9.eE+-]/.test(next)) {
      throw new JsonError('syntax', 'invalid number', this.pos);
    }
    this.pos = end;
    return Number(match[0]);
  }

  private parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) {
      throw this.error('syntax', `invalid literal (expected ${word})`);
    }
    this.pos += word.length;
    return value;
  }

  private checkDepth(depth: number): void {
    if (depth > this.maxDepth) {
      throw this.error('depth', `nesting is deeper than ${this.maxDepth} levels`);
    }
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) {
      throw this.error('syntax', `expected '${char}', found ${this.describe()}`);
    }
    this.pos++;
  }

  private skipWhitespace(): void {
    for (;;) {
      const code = this.text.charCodeAt(this.pos);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
      this.pos++;
    }
  }

  private describe(): string {
    const char = this.text[this.pos];
    if (char === undefined) return 'the end of the input';
    const code = char.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    return `'${char}'`;
  }

  private error(kind: JsonErrorKind, message: string): JsonError {
    return new JsonError(kind, message, this.pos);
  }
}

/** Byte offset of the first invalid UTF-8 sequence (for error messages), or 0. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return 0;
}

/** Type guards and a type name for messages, shared by the parsers that read parsed JSON. */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isJsonArray(value: JsonValue | undefined): value is JsonValue[] {
  return Array.isArray(value);
}

export function isJsonString(value: JsonValue | undefined): value is string {
  return typeof value === 'string';
}

/** "null", "an array", "an object", "a string", …: what a value is, for a reason's sentence. */
export function jsonKindOf(value: JsonValue | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
