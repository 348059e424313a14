import { describe, expect, it } from 'vitest';
import { stripAnsi } from '../../src/lib/core/ansi';

describe('stripAnsi', () => {
  it.each([
    ['\u001b[31mred\u001b[0m plain', 'red plain'],
    ['\u001b[1;32;40mbold\u001b[m', 'bold'],
    ['\u001b]0;pwned title\u0007after', 'after'],
    ['\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\', 'link'],
    ['a\u001b[2Jb\u001b[Hc', 'abc'],
    ['bell\u0007 nul\u0000 del\u007f', 'bell nul del'],
    ['tab\tline\ncr\r', 'tab\tline\ncr\r'],
    ['\u009b31mc1\u009b0m', 'c1'],
    ['<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>']
  ])('%j -> %j', (input, expected) => {
    expect(stripAnsi(input)).toBe(expected);
  });
});
