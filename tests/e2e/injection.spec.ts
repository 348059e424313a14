/**
 * Injection: an XSS corpus pushed through every text field that reaches a page (manifest fields,
 * minisign comments, file names of every intake path, tenant zip entries, watched-folder files,
 * run output, key labels, policy names, search boxes, URL fragments). Each payload that ran would
 * set `window.__pwned`, fetch a `/__pwned/` marker or an element tagged `data-pwn` would appear;
 * a CSP report would mean something tried. After each step every page is swept for all of them,
 * and the payload must be shown as the literal text it is.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { zipSync } from 'fflate';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  PAGES,
  auditReady,
  auditRecords,
  gotoReady,
  putAgentFile,
  watchForProblems
} from './helpers';
import {
  FIXTURES,
  approveBundle,
  cliWorkspace,
  pinKey,
  runReady,
  type Workspace
} from './workspace';

/** Each would set window.__pwned = N, request /__pwned/N, or leave a [data-pwn] element. */
const XSS: readonly string[] = [
  `<img data-pwn src=x onerror="window.__pwned=1">`,
  `<svg data-pwn onload="window.__pwned=2"></svg>`,
  `"><script data-pwn>window.__pwned=3</script>`,
  `'><img data-pwn src="/__pwned/4">`,
  `javascript:window.__pwned=5`,
  `<a data-pwn href="javascript:window.__pwned=6">click</a>`,
  `</textarea><img data-pwn src=x onerror="window.__pwned=7">`,
  `</title></style></pre><script data-pwn>window.__pwned=8</script>`,
  `{@html '<img data-pwn src=x onerror="window.__pwned=9">'}`,
  '${window.__pwned=10}`+(window.__pwned=10)+`',
  `{{constructor.constructor('window.__pwned=11')()}}`,
  `<iframe data-pwn srcdoc="<script>parent.__pwned=12</script>"></iframe>`,
  `<style data-pwn>*{background:url("/__pwned/13")}</style>`,
  `x" style="background:url(/__pwned/14)" data-pwn="`,
  `<math data-pwn><mtext><table><mglyph><style><img src=x onerror="window.__pwned=15">`,
  `<details data-pwn open ontoggle="window.__pwned=16">`,
  `<base data-pwn href="http://pwned.invalid/">`,
  `<meta data-pwn http-equiv="refresh" content="0;url=/__pwned/18">`,
  `<object data-pwn data="/__pwned/19"></object>`,
  `%3Cimg%20data-pwn%20src%3Dx%20onerror%3D%22window.__pwned%3D20%22%3E`,
  `&lt;img data-pwn src=x onerror="window.__pwned=21"&gt;`,
  `<img data-pwn src="data:image/svg+xml,<svg onload=window.__pwned=22>">`,
  `<!--<img data-pwn src="--><img data-pwn src=x onerror=window.__pwned=23>-->`,
  `<form data-pwn action="javascript:window.__pwned=24"><button>go</button></form>`,
  `<link data-pwn rel=stylesheet href="http://pwned.invalid/25.css">`,
  `<input data-pwn autofocus onfocus="window.__pwned=26">`
];
/** Long text that ends in markup: shown whole (or refused for its length), never cut into tags. */
const LONG = `${'A'.repeat(3000)}<img data-pwn src=x onerror="window.__pwned=27">`;
/** A right-to-left override and terminal escapes: refused or neutralized where text is shown. */
const BIDI = 'invoice\u202egpj.exe';
const ANSI = '\u001b[31mred\u001b[0m\u001b]0;pwned\u0007\u001b[2J';
/** File names cannot hold "/" (it is a folder separator in every intake path). */
const NAMES = XSS.filter((p) => !p.includes('/'));

interface Guard {
  csp: string[];
  dialogs: string[];
  markers: string[];
}

/** Listens for every sign of execution in the page's context, across navigations. */
async function guard(page: Page): Promise<Guard> {
  const g: Guard = { csp: [], dialogs: [], markers: [] };
  const context = page.context();
  await context.exposeBinding('__injectionCsp', (_s, text: string) => g.csp.push(text));
  await context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (event) =>
      (window as unknown as { __injectionCsp(t: string): void }).__injectionCsp(
        `${event.violatedDirective} ${event.blockedURI} ${event.sample}`
      )
    )
  );
  page.on('dialog', (dialog) => {
    g.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  context.on('request', (request) => {
    // The payloads' own targets (a test's navigation may carry a payload in its query).
    const url = new URL(request.url());
    if (url.pathname.includes('/__pwned/') || url.hostname === 'pwned.invalid')
      g.markers.push(url.href);
  });
  return g;
}

/** Nothing ran and nothing of a payload became markup on the page as it is now. */
async function sweep(page: Page, g: Guard, where: string) {
  const found = await page.evaluate(() => ({
    flag: (window as { __pwned?: unknown }).__pwned ?? null,
    tagged: document.querySelectorAll('[data-pwn]').length,
    handlers: [...document.querySelectorAll('*')].flatMap((el) =>
      [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`)
    ),
    scriptUrls: document.querySelectorAll(
      '[href^="javascript:" i], [src^="javascript:" i], [action^="javascript:" i]'
    ).length,
    embeds: document.querySelectorAll('iframe, object, embed, base, meta[http-equiv="refresh" i]')
      .length
  }));
  expect(found, where).toEqual({ flag: null, tagged: 0, handlers: [], scriptUrls: 0, embeds: 0 });
  expect(g, where).toEqual({ csp: [], dialogs: [], markers: [] });
}

/** The payload is on show as text: as it is, or quoted as a JSON string (reason messages). */
async function shows(where: Locator, payload: string) {
  const escaped = payload.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/"/g, '\\\\?"');
  await expect(where, payload).toContainText(new RegExp(escaped));
}

/** Loads every page (and any extra path), lets it settle, and sweeps it. */
async function sweepAll(page: Page, g: Guard, extra: string[] = []) {
  for (const path of [...PAGES.map((p) => p.path), ...extra]) {
    await gotoReady(page, path);
    await auditReady(page);
    // The lists load after hydration: give them their turn before looking.
    await page.waitForLoadState('networkidle');
    await sweep(page, g, path);
  }
}

/** A manifest file signed into a bundle (the CLI checks it as the verifier would). */
function signManifest(w: Workspace, fixture: string, manifest: object, out: string): Buffer {
  w.fixture(fixture);
  writeFileSync(w.path(`${out}.json`), JSON.stringify(manifest));
  w.nightcore(
    'sign',
    `${fixture}.wasm`,
    '--key',
    'alice.key',
    '--manifest',
    `${out}.json`,
    '--out',
    `${out}.ncb`
  );
  return readFileSync(w.path(`${out}.ncb`));
}

const file = (
  name: string,
  buffer: Buffer | Uint8Array,
  mimeType = 'application/octet-stream'
) => ({
  name,
  mimeType,
  buffer: Buffer.from(buffer)
});

test('manifest fields, file names, minisign comments and tenant zips stay text on every page', async ({
  page
}) => {
  test.setTimeout(120_000);
  const g = await guard(page);
  const problems = watchForProblems(page);
  const w = cliWorkspace('inject');
  await pinKey(page, w.text('alice.pub'), XSS[0]);

  // Manifests: every free-text field, args, env (names and values) and unknown keys.
  const publisherChunks: string[][] = [[]];
  for (const p of XSS) {
    const chunk = publisherChunks.at(-1)!;
    if ([...chunk, p].join(' ').length > 256) publisherChunks.push([p]);
    else chunk.push(p);
  }
  const bundles = publisherChunks.map((chunk, i) =>
    file(
      `${NAMES[i % NAMES.length]}.ncb`,
      signManifest(
        w,
        'echo-args',
        {
          name: `inj-${i}`,
          version: '1.0.0',
          publisher: chunk.join(' '),
          description: i === 0 ? XSS.join('\n') : LONG,
          args: XSS,
          env: {
            ...Object.fromEntries(XSS.map((p, j) => [`V${j}`, p])),
            '<script data-pwn>alert(30)</script>': 'name',
            '<b data-pwn>V</b>': XSS[1]
          },
          capabilities: ['args', 'env'],
          [XSS[0]!]: XSS[1],
          [XSS[6]!]: XSS[7]
        },
        `inj-${i}`
      ),
      'application/json'
    )
  );

  // Minisign: the trusted comment (signed) and the untrusted one (edited after signing).
  w.fixture('hello');
  w.nightcore(
    'sign',
    'hello.wasm',
    '--key',
    'alice.key',
    '--detached',
    'minisign',
    '--trusted-comment',
    XSS[2]!
  );
  const minisig = w.text('hello.wasm.minisig').split('\n');
  minisig[0] = `untrusted comment: ${XSS[5]}`;
  const hello = readFileSync(`${FIXTURES}/hello.wasm`);
  const detached = [
    file(`${NAMES[2]}.wasm`, hello, 'application/wasm'),
    file(`${NAMES[2]}.wasm.minisig`, Buffer.from(minisig.join('\n')))
  ];

  // The old console's tenant zip: folder and entry names, and its unsigned manifest.json.
  w.nightcore('sign', 'hello.wasm', '--key', 'alice.key', '--detached', 'raw');
  const folder = NAMES[3]!;
  const tenant = zipSync({
    [`${folder}/module.wasm`]: hello,
    [`${folder}/module.sig`]: readFileSync(w.path('hello.wasm.ed25519')),
    [`${folder}/manifest.json`]: Buffer.from(JSON.stringify({ name: XSS[4], note: XSS[8] })),
    [`${folder}/pubkey.b64`]: Buffer.from(w.text('alice.pub')),
    [`${folder}/${NAMES[4]}.txt`]: Buffer.from(XSS[9]!)
  });
  // And one refused for an entry name, whose message quotes the name.
  const traversal = zipSync({ [`../${NAMES[5]}`]: hello, 'module.wasm': hello });

  await gotoReady(page, '/inbox');
  await page
    .getByTestId('intake-file')
    .setInputFiles([
      ...bundles,
      ...detached,
      file(`${NAMES[6]}.zip`, tenant, 'application/zip'),
      file(`${NAMES[7]}.zip`, traversal, 'application/zip')
    ]);
  await expect(page.getByTestId('intake-result')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('request')).toHaveCount(bundles.length + 3, { timeout: 20_000 });
  await sweep(page, g, 'inbox after intake');
  const inbox = page.locator('main');
  for (const name of [
    ...bundles.map((b) => b.name),
    `${NAMES[2]}.wasm`,
    `${NAMES[6]}.zip`,
    `${NAMES[7]}.zip`,
    `../${NAMES[5]}`, // quoted in the refusal of the traversal zip
    XSS[5]!, // the untrusted comment
    XSS[0]!, // the key label, and an unknown manifest key
    XSS[6]!
  ])
    await shows(inbox, name);

  // Every request's review page.
  const links = await page
    .getByTestId('request-review')
    .evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
  for (const href of links) {
    await page.goto(href);
    await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
    await sweep(page, g, href);
  }
  // Each manifest field on its review page, as the text it is.
  await gotoReady(page, '/inbox');
  await page
    .getByTestId('request')
    .filter({ hasText: 'inj-0' })
    .getByTestId('request-review')
    .click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  const fields = page.getByTestId('review-manifest');
  await expect(fields.locator('[data-field="publisher"]')).toHaveText(
    publisherChunks[0]!.join(' ')
  );
  await expect(fields.locator('[data-field="description"]')).toHaveText(XSS.join('\n'));
  for (const payload of XSS) {
    await shows(fields.locator('[data-field="args"]'), payload);
    await shows(fields.locator('[data-field="env"]'), payload);
  }
  await shows(fields.locator('[data-field="env"]'), '<script data-pwn>alert(30)</script>=name');
  await shows(page.getByTestId('review-notes'), XSS[6]!); // an unknown key
  await shows(page.getByTestId('review-signers'), XSS[0]!); // the key label
  await gotoReady(page, '/inbox');
  await page
    .getByTestId('request')
    .filter({ hasText: 'inj-1' })
    .getByTestId('request-review')
    .click();
  await expect(page.getByTestId('review')).toHaveAttribute('data-state', 'ready');
  await expect(
    page.getByTestId('review-manifest').locator('[data-field="description"]')
  ).toHaveText(LONG);
  await sweep(page, g, 'review inj-1');
  await sweepAll(page, g);
  expect(problems.problems).toEqual([]);
});

test('run output, key labels, policy names, search boxes and links stay text on every page', async ({
  page
}) => {
  test.setTimeout(150_000);
  const g = await guard(page);
  const problems = watchForProblems(page);
  const w = cliWorkspace('inject-runs');
  // Key labels: typed by the user, and taken from an allowed_signers principal.
  await pinKey(page, w.text('alice.pub'), XSS[12]);
  w.nightcore('keygen', '--out', 'bob');
  const principal = `<img/data-pwn/src=x/onerror=window.__pwned=31>`;
  await page.getByTestId('key-import').fill(`${principal} ${w.text('bob.ssh.pub')}`);
  await page.getByTestId('key-label').fill('');
  await page.getByTestId('key-import-submit').click();
  await expect(page.getByTestId('key-import-result')).toContainText('Pinned 1 key.');
  await expect(page.getByTestId('key')).toHaveCount(2);
  await sweep(page, g, 'keys');
  await shows(page.locator('main'), XSS[12]!);
  await shows(page.locator('main'), principal);

  // Output: the args echoed to stdout, a bad argument quoted on stderr, stdin copied out.
  await approveBundle(
    page,
    w.bundle('echo-args', ...[...XSS, LONG, ANSI, BIDI].flatMap((a) => ['--arg', a]))
  );
  await approveBundle(page, w.bundle('exit-code', '--arg', XSS[1]!));
  await approveBundle(page, w.bundle('cat-stdin'));
  const echo = await runReady(page, 'echo-args');
  await expect(echo).toHaveAttribute('data-status', 'exited');
  const stdout = echo.getByTestId('run-stdout');
  for (const payload of [...XSS, LONG]) await shows(stdout, payload);
  // Terminal escapes are stripped (their text stays); the override is kept as the module wrote it.
  expect(await stdout.textContent()).not.toContain('\u001b');
  await expect(stdout).toContainText('red');
  await expect(stdout).toContainText(BIDI);
  const bad = await runReady(page, 'exit-code');
  await expect(bad).toHaveAttribute('data-status', 'exited');
  await expect(bad).toHaveAttribute('data-exit-code', '2');
  await expect(bad.getByTestId('run-stderr')).toHaveText(`exit-code: bad status: ${XSS[1]}\n`);
  await gotoReady(page, '/runs');
  const ready = page.getByTestId('run-ready').filter({ hasText: 'cat-stdin' });
  await ready.getByTestId('run-stdin').fill(XSS.join('\n'));
  await ready.getByTestId('run-start').click();
  const cat = page.getByTestId('run').filter({ hasText: 'cat-stdin' }).first();
  await expect(cat).toHaveAttribute('data-status', 'exited');
  await expect(cat.getByTestId('run-stdout')).toHaveText(XSS.join('\n'));
  await expect(cat.getByTestId('run-receipt')).toBeVisible(); // on record before the next load
  await sweep(page, g, 'runs');
  for (const payload of XSS) {
    await page.getByTestId('runs-search').fill(payload);
    await sweep(page, g, `runs search ${payload}`);
  }

  // Policy names: markup is text; an override is refused with the field named.
  await gotoReady(page, '/policy');
  await expect(page.getByTestId('policy-form')).toBeVisible();
  await page.locator('#policy-name').fill(XSS[3]!);
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-message')).toContainText('Saved as version 2');
  await shows(page.locator('main'), XSS[3]!);
  await page.locator('#policy-name').fill(BIDI);
  await page.getByTestId('policy-save').click();
  await expect(page.getByTestId('policy-errors').locator('[data-field="name"]')).toBeVisible();
  await sweep(page, g, 'policy');

  // The audit search box, and each record's detail.
  await gotoReady(page, '/audit');
  await expect(page.getByTestId('audit-status')).toHaveAttribute('data-chain', 'ok');
  for (const payload of [...XSS, LONG, BIDI, ANSI]) {
    await page.locator('#audit-search').fill(payload);
    await sweep(page, g, `audit search ${payload}`);
  }
  await page.locator('#audit-search').fill('');
  const rows = page.getByTestId('audit-row');
  const count = await rows.count();
  for (let i = 0; i < count; i++) {
    await rows.nth(i).click();
    await expect(page.getByTestId('audit-detail')).toBeVisible();
    await sweep(page, g, `audit record ${i}`);
  }

  // Links: a hostile fragment or request id gets a clear refusal, as text.
  for (const [path, refusal] of [
    [`/inbox#import=${encodeURIComponent(XSS[0]!)}`, 'The import link is not valid base64url'],
    [`/inbox#share-refused=${encodeURIComponent(XSS[1]!)}`, 'The share was refused.'],
    [`/inbox#shared=${encodeURIComponent(XSS[2]!)}`, 'The share link is not valid.'],
    [`/review?id=${encodeURIComponent(XSS[0]!)}`, 'No such request.']
  ] as const) {
    await gotoReady(page, path);
    await expect(page.locator('main'), path).toContainText(refusal);
    await sweep(page, g, path);
  }
  await sweepAll(page, g);
  expect(problems.problems).toEqual([]);
});

test('file names in the watched agent folder stay text on every page', async ({ page }) => {
  test.setTimeout(90_000);
  const g = await guard(page);
  const problems = watchForProblems(page);
  const w = cliWorkspace('inject-watch');
  await pinKey(page, w.text('alice.pub'));
  await gotoReady(page, '/inbox');
  await page.getByTestId('watch-folder-private').click();
  await expect(page.getByTestId('watch-folder')).toHaveAttribute('data-status', 'watching');
  // Folder entries cannot hold "\" either; three good bundles and one that is not a bundle.
  const names = NAMES.filter((n) => !n.includes('\\')).slice(0, 4);
  for (const [i, name] of names.slice(0, 3).entries())
    await putAgentFile(page, `inbox/${name}.ncb`, w.bundle('hello', '--name', `w${i}`, '--force'));
  await putAgentFile(page, `inbox/${names[3]}.ncb`, XSS[3]!);
  await page.getByTestId('watch-folder-check').click();
  await expect(page.getByTestId('watch-event')).toHaveCount(4, { timeout: 20_000 });
  await expect(page.getByTestId('request')).toHaveCount(3);
  // The one that is not a bundle is refused, said so, and on record under its name.
  await expect(page.locator('[data-testid="watch-event"][data-status="refused"]')).toHaveCount(1);
  const refused = (await auditRecords(page)).filter((r) =>
    JSON.stringify(r.details).includes(JSON.stringify(`${names[3]}.ncb`).slice(1, -1))
  );
  expect(refused.map((r) => r.event)).not.toEqual([]);
  const panel = page.getByTestId('watch-folder');
  for (const name of names) await shows(panel, `${name}.ncb`);
  for (const name of names.slice(0, 3))
    await shows(page.getByTestId('request').locator('xpath=..'), `${name}.ncb`);
  await sweep(page, g, 'inbox, watched folder');
  await sweepAll(page, g);
  expect(problems.problems).toEqual([]);
});
