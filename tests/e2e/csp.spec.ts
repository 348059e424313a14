import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { gotoReady } from './helpers';

const HELLO_WASM = readFileSync(new URL('../fixtures/wasm/hello.wasm', import.meta.url));

test('the Content-Security-Policy is the one the design calls for', async ({ page }) => {
  await gotoReady(page, '/');
  const policy = await page
    .locator('meta[http-equiv="content-security-policy"]')
    .getAttribute('content');
  const directives = Object.fromEntries(
    policy!.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name, values];
    })
  );
  expect(directives['script-src']).toEqual(
    expect.arrayContaining(["'self'", "'wasm-unsafe-eval'"])
  );
  // Nothing else may be allowed to run: only self, wasm and SvelteKit's own hashed bootstrap.
  for (const source of directives['script-src']) {
    expect(source).toMatch(/^('self'|'wasm-unsafe-eval'|'sha256-[A-Za-z0-9+/=]+')$/);
  }
  expect(directives['connect-src']).toEqual(["'self'"]);
  expect(directives['object-src']).toEqual(["'none'"]);
  expect(directives['base-uri']).toEqual(["'none'"]);
  expect(directives['worker-src']).toEqual(["'self'"]);
});

test('an injected inline script, inline handler and eval are blocked; WebAssembly compiles', async ({
  page
}) => {
  await gotoReady(page, '/');
  const result = await page.evaluate(
    async (wasm) => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        violations.push(`${event.violatedDirective}`)
      );
      const w = window as unknown as Record<string, unknown>;
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__handler = true');
      img.src = 'data:image/png;base64,AAAA';
      document.body.append(img);
      // String code is eval. (A direct eval() here would not tell: DevTools-evaluated code is
      // exempt from the page's CSP, but a timer's string runs as the page's own.)
      (setTimeout as unknown as (code: string, ms: number) => void)('window.__evaluated = true', 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const module = await WebAssembly.compile(new Uint8Array(wasm));
      return {
        injected: w.__injected === true,
        handler: w.__handler === true,
        evaluated: w.__evaluated === true,
        violations,
        wasmExports: WebAssembly.Module.exports(module).map((e) => e.name)
      };
    },
    [...HELLO_WASM]
  );
  expect(result.injected).toBe(false);
  expect(result.handler).toBe(false);
  expect(result.evaluated).toBe(false);
  // One report each: the inline <script>, the inline handler, the string timer.
  expect(result.violations).toEqual(
    expect.arrayContaining(['script-src-elem', 'script-src-attr', 'script-src'])
  );
  expect(result.wasmExports).toContain('_start');
});
