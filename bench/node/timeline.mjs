// timeline: how soon the Audit page shows its first rows when the log holds 100,000 records.
// The real app (production build, service worker controlling, as for a returning user): the log
// is seeded through the app's own append path (window.nightcoreAutomation), then /audit is
// loaded repeatedly and the app's mark `nightcore:audit-first-rows` (set in the animation frame
// after the first real rows render) is read: milliseconds after navigation start.
const RECORDS = 100_000;
const LOADS = 9;

export async function timeline({ browser, appUrl }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${appUrl}/audit`);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
      timeout: 30_000
    });
    const seeded = await page.evaluate(async (total) => {
      const audit = window.nightcoreAutomation.audit;
      while (audit.status().status === 'loading') await new Promise((r) => setTimeout(r, 50));
      const start = performance.now();
      for (let done = 0; done < total; done += 10_000) {
        await audit.appendMany(
          Array.from({ length: 10_000 }, (_, k) => ({
            event: (done + k) % 3 === 0 ? 'run.finished' : 'settings.changed',
            time: Date.now() - (total - done - k) * 1000,
            subject: (done + k) % 3 === 0 ? { runId: `run-${done + k}` } : {},
            details: { i: done + k, name: `record ${done + k}` }
          }))
        );
      }
      return { count: audit.status().count, ms: performance.now() - start };
    }, RECORDS);
    const loads = [];
    const sinceOpen = [];
    const boots = [];
    for (let i = 0; i < LOADS + 1; i++) {
      await page.goto(`${appUrl}/audit`);
      const marks = await page.evaluate(async () => {
        for (let k = 0; k < 500; k++) {
          const rows = performance.getEntriesByName('nightcore:audit-first-rows')[0];
          if (rows) {
            const open = performance.getEntriesByName('nightcore:audit-first-paint')[0];
            const opened = performance.getEntriesByName('nightcore:audit-open')[0];
            return {
              rows: rows.startTime,
              open: open?.duration ?? null,
              boot: opened?.startTime ?? null
            };
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        return null;
      });
      if (!marks) throw new Error('the Audit page never marked its first rows');
      if (i === 0) continue; // the first load after seeding warms the caches
      loads.push(marks.rows);
      if (marks.open !== null) sinceOpen.push(marks.open);
      if (marks.boot !== null) boots.push(marks.boot);
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {
      samples: loads,
      unit: 'ms',
      extra: {
        records: seeded.count,
        'app start (navigation to the Audit view opening)': `${median(boots)?.toFixed(0)} ms`,
        'Audit view opening to first rows': `${median(sinceOpen)?.toFixed(0)} ms`,
        seeding: `${(seeded.ms / 1000).toFixed(1)} s`
      }
    };
  } finally {
    await context.close();
  }
}
