/**
 * Text from a bundle (names, comments, import names) is attacker-chosen. Before it reaches a
 * terminal, every control character but newline and tab becomes U+FFFD, so no escape sequence can
 * recolour, hide or rewrite what the user reads. JSON output is unaffected: JSON.stringify already
 * escapes control characters.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}
