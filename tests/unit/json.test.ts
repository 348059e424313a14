import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJson, parseJsonBytes, type JsonResult } from '../../src/lib/core/json';

const enc = new TextEncoder();

function value(result: JsonResult): unknown {
  if (!result.ok) throw new Error(`expected ok, got ${result.kind}: ${result.message}`);
  return result.value;
}
function failure(result: JsonResult) {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result;
}

describe('strict JSON: what it accepts', () => {
  it.each([
    ['null', null],
    ['true', true],
    ['false', false],
    ['0', 0],
    ['-12.5e-3', -12.5e-3],
    ['1E+2', 100],
    ['"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"', 'a"\\/\b\f\n\r\té'],
    ['"\\ud83d\\ude00"', '😀'],
    ['"😀 raw"', '😀 raw'],
    [' \t\r\n[1, [2, {"a": []}]] \n', [1, [2, { a: [] }]]],
    ['{}', {}],
    ['{"a":{"b":{"c":"d"}}}', { a: { b: { c: 'd' } } }]
  ])('%s', (text, expected) => {
    expect(value(parseJson(text))).toEqual(expected);
    expect(value(parseJson(text))).toEqual(JSON.parse(text));
  });

  it('numbers become exactly what JSON.parse makes (1e400 is Infinity, -0 is -0)', () => {
    expect(value(parseJson('1e400'))).toBe(Infinity);
    expect(Object.is(value(parseJson('-0')), -0)).toBe(true);
    expect(value(parseJson('9007199254740993'))).toBe(JSON.parse('9007199254740993'));
  });

  it('objects have a null prototype: "__proto__" is an ordinary key, nothing is polluted', () => {
    const parsed = value(parseJson('{"__proto__": {"polluted": true}, "constructor": 1}'));
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.keys(parsed as object)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(
    'parses a 100 MB string quickly (bundles carry big base64 modules)',
    { timeout: 60_000 },
    () => {
      const big = `"${'A'.repeat(100_000_000)}"`;
      const started = performance.now();
      expect((value(parseJson(big)) as string).length).toBe(100_000_000);
      expect(performance.now() - started).toBeLessThan(20_000);
    }
  );
});

describe('strict JSON: duplicate keys are an error', () => {
  it('at the top level, with the offset of the second key', () => {
    const result = failure(parseJson('{"a":1, "a":2}'));
    expect(result.kind).toBe('duplicate-key');
    expect(result.offset).toBe(8);
    expect(result.message).toContain('"a"');
  });

  it('nested, and inside arrays', () => {
    expect(failure(parseJson('{"x":{"k":1,"j":2,"k":3}}')).kind).toBe('duplicate-key');
    expect(failure(parseJson('[{"k":1},{"k":1,"k":1}]')).kind).toBe('duplicate-key');
  });

  it('when the keys differ only in how they are escaped', () => {
    expect(failure(parseJson('{"a":1,"\\u0061":2}')).kind).toBe('duplicate-key');
    expect(failure(parseJson('{"__proto__":1,"__proto__":2}')).kind).toBe('duplicate-key');
  });

  it('the same key in sibling objects is fine', () => {
    expect(value(parseJson('[{"k":1},{"k":2}]'))).toEqual([{ k: 1 }, { k: 2 }]);
  });
});

describe('strict JSON: what it refuses', () => {
  it.each([
    ['empty input', ''],
    ['only whitespace', '  \n'],
    ['trailing garbage', '{} x'],
    ['two values', '1 2'],
    ['trailing comma in an array', '[1,]'],
    ['trailing comma in an object', '{"a":1,}'],
    ['a comment', '{} // no'],
    ['single quotes', "{'a':1}"],
    ['an unquoted key', '{a:1}'],
    ['a leading zero', '01'],
    ['a bare minus', '-'],
    ['a trailing dot', '1.'],
    ['a leading dot', '.5'],
    ['a plus sign', '+1'],
    ['an empty exponent', '1e'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['a truncated literal', 'tru'],
    ['a capitalized literal', 'True'],
    ['a raw tab inside a string', '"a\tb"'],
    ['a raw newline inside a string', '"a\nb"'],
    ['an unknown escape', '"\\x41"'],
    ['a short \\u escape', '"\\u12"'],
    ['a non-hex \\u escape', '"\\u12G4"'],
    ['an unterminated string', '"abc'],
    ['an unterminated array', '[1, 2'],
    ['an unterminated object', '{"a": 1'],
    ['a missing colon', '{"a" 1}'],
    ['form feed as whitespace', '\f1'],
    ['a no-break space as whitespace', '\u00a01'],
    ['a vertical tab as whitespace', '\v1']
  ])('%s', (_label, text) => {
    const result = failure(parseJson(text));
    expect(result.kind).toBe('syntax');
    expect(result.message.length).toBeGreaterThan(5);
    expect(JSON.parse.bind(null, text)).toThrow();
  });

  it('a lone high or low surrogate in a \\u escape (decision: I-JSON, RFC 7493)', () => {
    for (const text of [
      '"\\ud800"',
      '"\\udc00"',
      '"\\ud800x"',
      '"\\ud800\\u0041"',
      '"\\ude00\\ud83d"'
    ]) {
      const result = failure(parseJson(text));
      expect(result.kind, text).toBe('syntax');
      expect(result.message, text).toMatch(/surrogate/);
    }
  });

  it('a byte order mark, as text or bytes', () => {
    expect(failure(parseJson('\ufeff{}')).kind).toBe('encoding');
    expect(failure(parseJsonBytes(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))).kind).toBe(
      'encoding'
    );
  });

  it('invalid UTF-8, with the byte offset of the bad sequence', () => {
    for (const [bytes, offset] of [
      [[0x22, 0x61, 0xff, 0x22], 2],
      [[0x22, 0xc0, 0xaf, 0x22], 1], // overlong '/'
      [[0x22, 0xed, 0xa0, 0x80, 0x22], 1], // a surrogate encoded in UTF-8
      [[0x22, 0xe2, 0x82], 1] // truncated sequence
    ] as const) {
      const result = failure(parseJsonBytes(new Uint8Array(bytes)));
      expect(result.kind).toBe('encoding');
      expect(result.offset).toBe(offset);
    }
  });

  it('reports byte offsets for bytes and code unit offsets for text', () => {
    expect(failure(parseJsonBytes(enc.encode('{"é": x}'))).offset).toBe(7);
    expect(failure(parseJson('{"é": x}')).offset).toBe(6);
  });

  it('nesting deeper than the limit (default 64), without exhausting the stack', () => {
    expect(value(parseJson('['.repeat(64) + ']'.repeat(64)))).toBeDefined();
    expect(failure(parseJson('['.repeat(65) + ']'.repeat(65))).kind).toBe('depth');
    expect(failure(parseJson('{"a":'.repeat(65) + '1' + '}'.repeat(65))).kind).toBe('depth');
    expect(failure(parseJson('['.repeat(1_000_000))).kind).toBe('depth');
    expect(failure(parseJson('[[1]]', { maxDepth: 1 })).kind).toBe('depth');
    expect(value(parseJson('[[1]]', { maxDepth: 2 }))).toEqual([[1]]);
    expect(failure(parseJson('[]', { maxDepth: 0 })).kind).toBe('depth');
    expect(value(parseJson('"scalar"', { maxDepth: 0 }))).toBe('scalar');
  });

  it('input over the size limit, before reading it', () => {
    expect(failure(parseJson('[1,2,3]', { maxSize: 6 })).kind).toBe('size');
    expect(value(parseJson('[1,2,3]', { maxSize: 7 }))).toEqual([1, 2, 3]);
    expect(failure(parseJsonBytes(enc.encode('"é"'), { maxSize: 3 })).kind).toBe('size');
    expect(value(parseJsonBytes(enc.encode('"é"'), { maxSize: 4 }))).toBe('é');
  });

  it('non-string and non-byte input, without throwing', () => {
    expect(failure(parseJson(42 as unknown as string)).kind).toBe('syntax');
    expect(failure(parseJsonBytes('{}' as unknown as Uint8Array)).kind).toBe('syntax');
  });
});

describe('strict JSON: properties', { timeout: 60_000 }, () => {
  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const result = parseJson(text);
        if (typeof result.ok !== 'boolean') throw new Error('no result');
      }),
      { numRuns: 1000 }
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = parseJsonBytes(bytes);
        if (!result.ok) expect(result.offset).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 }
    );
  });

  it('agrees with JSON.parse on generated JSON (no duplicate keys there)', () => {
    fc.assert(
      fc.property(fc.json({ stringUnit: 'grapheme', maxDepth: 10 }), (text) => {
        expect(value(parseJson(text))).toEqual(JSON.parse(text));
        expect(value(parseJsonBytes(enc.encode(text)))).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 }
    );
  });

  it('accepts exactly what JSON.parse accepts, except duplicate keys and lone surrogates', () => {
    const token = fc.constantFrom(
      ...'{ } [ ] , : " \\ \\u00 d8 dc 0 1 9 - + . e E true false null a é \n \t  '.split(' '),
      ' '
    );
    const jsonish = fc.array(token, { maxLength: 24 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(jsonish, (text) => {
        let native: { ok: true; value: unknown } | { ok: false };
        try {
          native = { ok: true, value: JSON.parse(text) };
        } catch {
          native = { ok: false };
        }
        const ours = parseJson(text);
        if (!ours.ok && (ours.kind === 'duplicate-key' || /surrogate/.test(ours.message))) return;
        expect(ours.ok, text).toBe(native.ok);
        if (ours.ok && native.ok) expect(ours.value).toEqual(native.value);
      }),
      { numRuns: 5000 }
    );
  });
});
