// leak: the harness page's JS heap after 200 hello runs through the app's runner minus after the
// first 20 (each measured after two forced GCs over CDP). Workers are separate heaps and are
// terminated after each run; what this catches is the page keeping something per run (listeners,
// handles, compiled modules, output).
const MiB = 1024 * 1024;

export async function leak({ browser, harnessUrl }) {
  const page = await browser.newPage();
  try {
    await page.goto(harnessUrl);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    const cdp = await page.context().newCDPSession(page);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    const runs = async (n) => {
      const exited = await page.evaluate((k) => window.nightcoreRuntime.hello(k), n);
      if (exited !== n) throw new Error(`${n - exited} of ${n} hello runs did not exit`);
    };
    const before = await heap();
    await runs(20);
    const after20 = await heap();
    await runs(180);
    const after200 = await heap();
    return {
      samples: [(after200 - after20) / MiB],
      unit: 'MiB',
      extra: {
        'heap before': `${(before / MiB).toFixed(2)} MiB`,
        'after 20 runs': `${(after20 / MiB).toFixed(2)} MiB`,
        'after 200 runs': `${(after200 / MiB).toFixed(2)} MiB`,
        'per run (20 to 200)': `${((after200 - after20) / 180 / 1024).toFixed(1)} KiB`
      }
    };
  } finally {
    await page.close();
  }
}
