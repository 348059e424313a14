// Key labels refuse the characters that can make one label read as another, naming the character
// and where it is; signed comments show the same characters as visible markers instead.
import { describe, expect, it } from 'vitest';
import { checkKeyLabel, MAX_LABEL_LENGTH } from '../../src/lib/core/keys/label';
import {
  escapeHidden,
  firstHiddenCharacter,
  visibleLine,
  visibleParts,
  hiddenCharacters,
  MAX_MARKERS
} from '../../src/lib/core/hidden-text';

describe('checkKeyLabel', () => {
  it.each([
    ['alice\u202e', 'U+202E RIGHT-TO-LEFT OVERRIDE at character 6'],
    ['\u202aalice', 'U+202A LEFT-TO-RIGHT EMBEDDING at character 1'],
    ['a\u202db', 'U+202D LEFT-TO-RIGHT OVERRIDE at character 2'],
    ['ci \u2066key\u2069', 'U+2066 LEFT-TO-RIGHT ISOLATE at character 4'],
    ['x\u2067y', 'U+2067 RIGHT-TO-LEFT ISOLATE at character 2'],
    ['x\u2068y', 'U+2068 FIRST STRONG ISOLATE at character 2'],
    ['release\u200fkey', 'U+200F RIGHT-TO-LEFT MARK at character 8'],
    ['al\u200bice', 'U+200B ZERO WIDTH SPACE at character 3'],
    ['red\u001b[31m', 'U+001B ESCAPE at character 4'],
    ['bell\u0007', 'U+0007 (a control character) at character 5'],
    ['c1\u0085', 'U+0085 (a control character) at character 3'],
    ['tab\tkey', 'U+0009 CHARACTER TABULATION at character 4'],
    // Format characters and fillers that render as nothing: each makes "alice" look like "alice".
    ['alice\u2060', 'U+2060 WORD JOINER at character 6'],
    ['al\u00adice', 'U+00AD SOFT HYPHEN at character 3'],
    ['alice\u{e0061}', 'U+E0061 (an invisible character) at character 6'],
    ['alice\u3164', 'U+3164 HANGUL FILLER at character 6'],
    ['ali\u034fce', 'U+034F COMBINING GRAPHEME JOINER at character 4'],
    ['alice\ufe0e', 'U+FE0E (an invisible character) at character 6'],
    ['a\u2064b', 'U+2064 (an invisible character) at character 2'],
    // Positions count characters, not UTF-16 units: the emoji before is one.
    ['🔑\u202e', 'U+202E RIGHT-TO-LEFT OVERRIDE at character 2']
  ])('refuses %j: %s', (label, expected) => {
    const result = checkKeyLabel(label);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason.code).toBe('key.label');
    expect(result.reason.message).toContain(`The label contains ${expected}`);
  });

  it('keeps the zero-width joiners some scripts and emoji need', () => {
    for (const label of ['dev 👩\u200d💻', 'कि\u200cसी']) {
      expect(checkKeyLabel(label)).toEqual({ ok: true, label });
    }
  });

  it('names the label source it was given', () => {
    const result = checkKeyLabel('ci\u202e@example', 'The label taken from the principals');
    expect(!result.ok && result.reason.message).toMatch(
      /^The label taken from the principals contains U\+202E/
    );
  });

  it.each([
    ['  alice  ', 'alice'],
    ['<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>'],
    ['שלום key', 'שלום key'],
    ['team 👩‍💻', 'team 👩‍💻'], // a zero-width joiner inside an emoji is kept
    ['', '']
  ])('accepts %j as %j', (label, expected) => {
    expect(checkKeyLabel(label)).toEqual({ ok: true, label: expected });
  });

  it('cuts a long label to the limit', () => {
    const result = checkKeyLabel('k'.repeat(500));
    expect(result.ok && result.label.length).toBe(MAX_LABEL_LENGTH);
  });
});

describe('hidden characters in shown text', () => {
  it('finds none in plain text', () => {
    expect(firstHiddenCharacter('timestamp:1700000000 file:hello.wasm')).toBeNull();
  });

  it('cuts text into plain runs and one marker per hidden character', () => {
    expect(visibleParts('a\u202eb\u001b[1mc')).toEqual([
      { text: 'a', hidden: false },
      { text: 'U+202E', hidden: true, description: 'U+202E RIGHT-TO-LEFT OVERRIDE' },
      { text: 'b', hidden: false },
      { text: 'U+001B', hidden: true, description: 'U+001B ESCAPE' },
      { text: '[1mc', hidden: false }
    ]);
    expect(visibleParts('')).toEqual([]);
  });

  it('keeps tabs and line breaks as layout only when asked (a description), else marks them', () => {
    const text = 'line one\n\tline\u200btwo\r';
    expect(visibleLine(text, { keepLayout: true })).toBe('line one\n\tlineU+200BtwoU+000D');
    expect(visibleLine(text)).toBe('line oneU+000AU+0009lineU+200BtwoU+000D');
    expect(hiddenCharacters(text, { keepLayout: true })).toEqual([
      'U+200B ZERO WIDTH SPACE',
      'U+000D CARRIAGE RETURN'
    ]);
    expect(hiddenCharacters('a\u200bb\u200bc')).toEqual(['U+200B ZERO WIDTH SPACE']);
    expect(hiddenCharacters('plain')).toEqual([]);
  });

  it('makes a run of one hidden character one marker, and at most MAX_MARKERS markers in all', () => {
    expect(visibleParts(`a${'\u200b'.repeat(5000)}b`)).toEqual([
      { text: 'a', hidden: false },
      {
        text: 'U+200B ×5000',
        hidden: true,
        description: 'U+200B ZERO WIDTH SPACE, 5000 in a row'
      },
      { text: 'b', hidden: false }
    ]);
    const many = 'x\u200b'.repeat(MAX_MARKERS + 50);
    const parts = visibleParts(many);
    expect(parts.filter((p) => p.hidden)).toHaveLength(MAX_MARKERS);
    // Nothing is dropped: past the cap the labels are written inline.
    expect(parts.map((p) => p.text).join('')).toBe('xU+200B'.repeat(MAX_MARKERS + 50));
    expect(hiddenCharacters(many)).toEqual(['U+200B ZERO WIDTH SPACE']);
  });

  it('writes the markers into one line for summaries', () => {
    expect(visibleLine('evil\u202eexe.doc')).toBe('evilU+202Eexe.doc');
  });

  it('escapes hidden characters for sentences, leaving the rest', () => {
    expect(escapeHidden('x\u2066y\u2028<b>')).toBe('x\\u2066y\\u2028<b>');
  });
});
