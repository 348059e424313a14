/**
 * "Stop all" and lockdown mean every run, in every tab (DESIGN: "Stop-all kills every running
 * worker"; lockdown: "nothing runs"). A run started in one tab is stopped by Stop all pressed in
 * another, and by lockdown switched on in another; each stop says why, and each tab records what
 * it stopped.
 */
import { expect, test } from '@playwright/test';
import { auditReady, auditRecords, gotoReady } from './helpers';
import { approveBundle, cliWorkspace, pinKey, runEnded, runReady } from './workspace';

for (const [how, message] of [
  ['Stop all', 'Stopped by Stop all in another tab.'],
  ['lockdown', 'Stopped: lockdown was switched on.']
] as const) {
  test(`${how} in another tab stops a run in this one, says why and is audited`, async ({
    page,
    context
  }) => {
    test.setTimeout(60_000);
    const w = cliWorkspace('stop-all-tabs');
    await pinKey(page, w.text('alice.pub'));
    await approveBundle(page, w.bundle('loop', '--timeout-ms', '30000'));
    const run = await runReady(page, 'loop');
    await expect(run).toHaveAttribute('data-status', 'running');

    const other = await context.newPage();
    await gotoReady(other, '/runs');
    await auditReady(other);
    if (how === 'Stop all') await other.getByTestId('stop-all').click();
    else await other.getByTestId('run-mode').getByLabel('Lockdown').check();

    await runEnded(run, 'killed');
    await expect(run).toContainText(message);
    const stops = (await auditRecords(page))
      .filter((r) => r.event === 'run.stop-all')
      .map((r) => r.details)
      // Two tabs write their records at once: the order between them is not defined.
      .sort((a, b) => String(a.reason).localeCompare(String(b.reason)));
    expect(stops).toEqual(
      how === 'Stop all'
        ? [
            { runs: 1, reason: 'another-tab' },
            { runs: 0, reason: 'button' }
          ]
        : [{ runs: 1, reason: 'lockdown' }]
    );
    const killed = (await auditRecords(page)).filter((r) => r.event === 'run.killed');
    expect(killed.map((r) => r.details.message)).toEqual([message]);
  });
}
