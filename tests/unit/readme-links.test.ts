/**
 * Every relative link and image in README.md, docs/ and the repository's other Markdown files
 * points at a file that exists, and every committed screenshot is shown by the README in both
 * themes. Links to the web and anchors within a page are not checked (no network here; GitHub's
 * heading slugs are its own).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = normalize(join(import.meta.dirname, '..', '..'));
const SCREENSHOTS = 'docs/screenshots';

/** Markdown files under `dir`, as paths from the repository root. */
function markdownUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/**
 * The link targets in one Markdown text: inline links and images, reference definitions, and the
 * `href`, `src` and `srcset` attributes of inline HTML (the README's <picture>). Code is skipped:
 * a `[x](y)` in a code span or block is an example, not a link.
 */
function linkTargets(markdown: string): string[] {
  const prose = markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    targets.push(m[1] ?? '');
  for (const m of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm))
    targets.push(m[1] ?? '');
  for (const m of prose.matchAll(/\b(?:href|src)\s*=\s*"([^"]+)"/g)) targets.push(m[1] ?? '');
  for (const m of prose.matchAll(/\bsrcset\s*=\s*"([^"]+)"/g)) {
    // A srcset lists "url [descriptor]" candidates separated by commas.
    for (const candidate of (m[1] ?? '').split(','))
      targets.push(candidate.trim().split(/\s+/)[0] ?? '');
  }
  return targets.filter((t) => t !== '');
}

/** A target as a path from the repository root, or null when it is not a local file. */
function localPath(from: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//'))
    return null;
  const path = decodeURIComponent(target.replace(/[?#].*$/, ''));
  return normalize(path.startsWith('/') ? path.slice(1) : join(dirname(from), path));
}

// The README, the documents beside it, and the READMEs of the folders it links to.
const FILES = [
  'README.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'demo/README.md',
  'tests/fixtures/wasm/README.md',
  'tests/fixtures/wycheproof/README.md',
  ...markdownUnder('docs')
];

describe('links in README.md and docs/', () => {
  it('finds the links it is meant to check, and only those', () => {
    const sample = [
      'See [the format](docs/bundle-format.md#signatures) and ![a picture](img/a.png "title").',
      '[ref]: ../SECURITY.md',
      '<picture><source srcset="dark/a.png 1x, dark/a@2x.png 2x"><img src="a.png" alt=""></picture>',
      'Code is not a link: `[x](nowhere.md)`, nor the web: [w](https://example.com), [top](#top).',
      '```md',
      '[also code](nowhere-either.md)',
      '```'
    ].join('\n');
    expect(linkTargets(sample)).toEqual([
      'docs/bundle-format.md#signatures',
      'img/a.png',
      'https://example.com',
      '#top',
      '../SECURITY.md',
      'a.png',
      'dark/a.png',
      'dark/a@2x.png'
    ]);
    expect(localPath('docs/x.md', '../README.md#one-minute')).toBe('README.md');
    expect(localPath('docs/x.md', 'https://example.com/a.md')).toBeNull();
  });

  it.each(FILES)('%s: every relative link and image exists', (file) => {
    const targets = linkTargets(readFileSync(join(ROOT, file), 'utf8'));
    const missing = targets
      .map((target) => ({ target, path: localPath(file, target) }))
      .filter(({ path }) => path !== null && !existsSync(join(ROOT, path)))
      .map(({ target, path }) => `${target} (${path})`);
    expect(missing).toEqual([]);
  });

  it('README shows every committed screenshot, each in the light and the dark theme', () => {
    const pictures = (dir: string) =>
      readdirSync(join(ROOT, dir))
        .filter((name) => name.endsWith('.png'))
        .sort();
    const light = pictures(SCREENSHOTS);
    expect(light).toEqual(['audit.png', 'inbox.png', 'overview.png', 'review.png', 'runs.png']);
    expect(pictures(`${SCREENSHOTS}/dark`)).toEqual(light);

    const shown = new Set(
      linkTargets(readFileSync(join(ROOT, 'README.md'), 'utf8'))
        .map((target) => localPath('README.md', target))
        .filter((path): path is string => path !== null)
    );
    const unshown = [
      ...light.map((name) => `${SCREENSHOTS}/${name}`),
      ...light.map((name) => `${SCREENSHOTS}/dark/${name}`)
    ].filter((path) => !shown.has(path));
    expect(unshown).toEqual([]);
  });
});
