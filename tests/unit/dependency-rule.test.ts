import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTree, layerOf } from '../tools/dependency-rule';

const SRC = new URL('../../src', import.meta.url).pathname;

describe('dependency rule', () => {
  it('holds for the real source tree', () => {
    expect(checkTree(SRC)).toEqual([]);
  });

  it('knows the layers', () => {
    expect(layerOf(SRC, join(SRC, 'lib/core/units.ts'))).toBe('core');
    expect(layerOf(SRC, join(SRC, 'lib/storage/db.ts'))).toBe('storage');
    expect(layerOf(SRC, join(SRC, 'routes/+page.svelte'))).toBe('routes');
    expect(layerOf(SRC, join(SRC, 'cli/main.ts'))).toBe('cli');
  });

  describe('fails on planted violations', () => {
    const root = mkdtempSync(join(tmpdir(), 'nightcore-layers-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const plant = (path: string, source: string) => {
      const file = join(root, path);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, source);
      const found = checkTree(root);
      rmSync(file);
      return found;
    };

    it.each([
      ['Svelte', `import { mount } from 'svelte';`, /core must not import "svelte"/],
      ['idb', `import { openDB } from 'idb';`, /core must not import "idb"/],
      ['$app', `import { page } from '$app/state';`, /core must not import "\$app\/state"/],
      [
        'storage',
        `import { openNightCoreDB } from '$lib/storage/db';`,
        /core must not import storage/
      ],
      ['runtime', `import type { X } from '../runtime/host';`, /core must not import runtime/],
      [
        'state (dynamic)',
        `const s = await import('$lib/state/x.svelte');`,
        /core must not import state/
      ],
      [
        'ui (re-export)',
        `export { default } from '$lib/ui/Nav.svelte';`,
        /core must not import ui/
      ],
      [
        'node built-in',
        `import { readFile } from 'node:fs/promises';`,
        /core must not import "node:fs/
      ],
      ['document', `export const title = () => document.title;`, /browser global "document"/],
      ['indexedDB', `export const open = () => indexedDB.open('x');`, /browser global "indexedDB"/],
      ['window', `export const w = window.innerWidth;`, /browser global "window"/]
    ])('core importing or using %s', (_name, source, message) => {
      const found = plant(
        'lib/core/bad.ts',
        `// a comment mentioning document is fine\n${source}\n`
      );
      expect(found).toHaveLength(1);
      expect(found[0]?.message).toMatch(message);
      expect(found[0]?.line).toBe(2);
    });

    it('lets core import core and its crypto packages, and mention globals in comments/strings', () => {
      const found = plant(
        'lib/core/good.ts',
        `import { x } from './units';\nimport { sha512 } from '@noble/hashes/sha2.js';\n` +
          `/* window */ export const s = 'document';\n`
      );
      expect(found).toEqual([]);
    });

    it('stops storage importing state and routes importing storage or runtime', () => {
      expect(plant('lib/storage/x.ts', `import { a } from '$lib/state/b';`)[0]?.message).toMatch(
        /storage must not import state/
      );
      expect(
        plant(
          'routes/x/+page.svelte',
          `<script>\nimport { a } from '$lib/storage/db';\n</script>\n<p>hi</p>`
        )[0]?.message
      ).toMatch(/routes must not import storage/);
      expect(
        plant(
          'lib/ui/X.svelte',
          `<script lang="ts">\nimport { r } from '$lib/runtime/host';\n</script>`
        )[0]?.line
      ).toBe(2);
    });
  });
});
