/**
 * Text from a bundle (names, comments, import names) is attacker-chosen. Before it reaches a
 * terminal, every control character but newline and tab becomes U+FFFD, so no escape sequence can
 * recolour, hide or rewrite what the user reads. JSON output is unaffected: JSON.stringify already
 * escapes control characters.
 */
const CONTROL =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}
