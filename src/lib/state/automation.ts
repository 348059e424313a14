/**
 * `window.nightcoreAutomation`: a small, documented surface for browser automation (Playwright
 * tests, agents driving the app through a real browser). It goes through the same state classes
 * as the UI, so nothing it does skips the audit log. Only the app's own scripts can reach it
 * (the Content-Security-Policy allows no other script); whoever drives the browser through
 * DevTools controls the profile anyway (out of scope in SECURITY.md).
 */
import type { AuditRecordInput } from '$lib/core/audit/record';
import { auditLog } from './audit-log.svelte';

export interface NightcoreAutomation {
  audit: {
    append(input: Omit<AuditRecordInput, 'time'> & { time?: number }): Promise<number>;
    appendMany(inputs: AuditRecordInput[]): Promise<number>;
    check(): Promise<{ status: string; brokenSeq: number | null; problem: string | null }>;
    status(): { status: string; brokenSeq: number | null; count: number };
  };
}

export function installAutomation(): void {
  const automation: NightcoreAutomation = {
    audit: {
      append: (input) => auditLog.record(input),
      async appendMany(inputs) {
        const count = await (await auditLog.store()).appendMany(inputs);
        await auditLog.refresh();
        return count;
      },
      async check() {
        await auditLog.check();
        return {
          status: auditLog.status,
          brokenSeq: auditLog.brokenSeq,
          problem: auditLog.problem
        };
      },
      status: () => ({
        status: auditLog.status,
        brokenSeq: auditLog.brokenSeq,
        count: auditLog.count
      })
    }
  };
  (globalThis as { nightcoreAutomation?: NightcoreAutomation }).nightcoreAutomation = automation;
}
