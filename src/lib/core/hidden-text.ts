/**
 * Characters that can make text look like other text: controls (C0, DEL, C1, which include the
 * ESC that starts terminal escape sequences), the bidirectional embeddings, overrides and isolates
 * of "Trojan Source" (the manifest's own FORBIDDEN_TEXT), and the invisible marks and separators
 * that do the same work more quietly. Key labels refuse them (keys/label.ts); signed comments,
 * which must be shown exactly as signed, show each one as a visible marker instead.
 *
 * Zero-width joiners (U+200C, U+200D) are left alone: several scripts and emoji need them. Every
 * other format character (Unicode category Cf: soft hyphen, word joiner, the invisible operators,
 * tag characters…) is hidden, and so are the fillers and selectors that render as nothing (Hangul
 * fillers, the combining grapheme joiner, variation selectors).
 */
import { FORBIDDEN_TEXT } from './manifest';

// Format characters (bidi marks, zero-width space, word joiner, tags, byte-order mark…), line and
// paragraph separators, Hangul fillers, the combining grapheme joiner and variation selectors.
const INVISIBLE =
  /[\p{Cf}\u2028\u2029\u115f\u1160\u3164\uffa0\u034f\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/u;
const JOINERS = /^[\u200c\u200d]$/;

const NAMES: Readonly<Record<number, string>> = {
  0x09: 'CHARACTER TABULATION',
  0x0a: 'LINE FEED',
  0x0d: 'CARRIAGE RETURN',
  0x1b: 'ESCAPE',
  0x7f: 'DELETE',
  0xad: 'SOFT HYPHEN',
  0x034f: 'COMBINING GRAPHEME JOINER',
  0x061c: 'ARABIC LETTER MARK',
  0x200b: 'ZERO WIDTH SPACE',
  0x200e: 'LEFT-TO-RIGHT MARK',
  0x200f: 'RIGHT-TO-LEFT MARK',
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
  0x2060: 'WORD JOINER',
  0x3164: 'HANGUL FILLER',
  0xfeff: 'ZERO WIDTH NO-BREAK SPACE'
};

/** True for one character (code point) that text shown to a person must not carry silently. */
export function isHiddenCharacter(char: string): boolean {
  return FORBIDDEN_TEXT.test(char) || (INVISIBLE.test(char) && !JOINERS.test(char));
}

/** `U+202E`: the code point in the form Unicode charts use. */
export function codePointLabel(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `U+202E RIGHT-TO-LEFT OVERRIDE`, `U+0007 (a control character)`, `U+E0061 (an invisible character)`. */
export function describeCharacter(char: string): string {
  const name = NAMES[char.codePointAt(0) ?? 0];
  const kind = FORBIDDEN_TEXT.test(char) ? '(a control character)' : '(an invisible character)';
  return `${codePointLabel(char)} ${name ?? kind}`;
}

export interface HiddenCharacter {
  char: string;
  /** 1-based position in characters (code points), as a person counts them. */
  position: number;
  description: string;
}

/** Every distinct hidden character in `text`, in order of first appearance, described. */
export function hiddenCharacters(text: string, options: { keepLayout?: boolean } = {}): string[] {
  const seen = new Set<string>();
  for (const char of text) {
    if (options.keepLayout === true && (char === '\n' || char === '\t')) continue;
    if (isHiddenCharacter(char)) seen.add(char);
  }
  return [...seen].map(describeCharacter);
}

/** The first hidden character in `text`, or null when there is none. */
export function firstHiddenCharacter(text: string): HiddenCharacter | null {
  let position = 0;
  for (const char of text) {
    position++;
    if (isHiddenCharacter(char)) return { char, position, description: describeCharacter(char) };
  }
  return null;
}

/** Text cut into runs of plain text and single hidden characters, for showing each visibly. */
export type TextPart =
  { text: string; hidden: false } | { text: string; hidden: true; description: string };

/** At most this many markers in one text; past them the code point labels are written inline. */
export const MAX_MARKERS = 100;

export function visibleParts(text: string, options: { keepLayout?: boolean } = {}): TextPart[] {
  const parts: TextPart[] = [];
  let plain = '';
  let markers = 0;
  // A run of one hidden character is one marker (`U+200B ×5000`), so a long run costs one node.
  let run: { char: string; count: number } | null = null;
  const endRun = () => {
    if (run === null) return;
    const { char, count } = run;
    run = null;
    const times = count > 1 ? ` ×${count}` : '';
    if (markers >= MAX_MARKERS) {
      plain += `${codePointLabel(char)}${times}`;
      return;
    }
    if (plain) parts.push({ text: plain, hidden: false });
    plain = '';
    markers++;
    const description = `${describeCharacter(char)}${count > 1 ? `, ${count} in a row` : ''}`;
    parts.push({ text: `${codePointLabel(char)}${times}`, hidden: true, description });
  };
  for (const char of text) {
    // A description may break lines and indent (the manifest allows tab and line feed there).
    const layout = options.keepLayout === true && (char === '\n' || char === '\t');
    if (layout || !isHiddenCharacter(char)) {
      endRun();
      plain += char;
      continue;
    }
    if (run !== null && run.char === char) run.count++;
    else {
      endRun();
      run = { char, count: 1 };
    }
  }
  endRun();
  if (plain) parts.push({ text: plain, hidden: false });
  return parts;
}

/** visibleParts as one string (`evilU+202Eexe`), for a one-line summary where markup won't do. */
export function visibleLine(text: string, options: { keepLayout?: boolean } = {}): string {
  return visibleParts(text, options)
    .map((part) => part.text)
    .join('');
}

/** One line of text with every hidden character written as `\u202e` (for sentences and logs). */
export function escapeHidden(text: string): string {
  let out = '';
  for (const char of text) {
    out += isHiddenCharacter(char)
      ? `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`
      : char;
  }
  return out;
}
