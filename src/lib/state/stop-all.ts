/**
 * "Stop all" and lockdown mean every run, not one page's: a tab's Stop all is said to the other
 * tabs on a BroadcastChannel (which never echoes to its sender), and each stops its own runs.
 */
/** Why every run stopped: this tab's Stop all, another tab's, or lockdown switched on anywhere. */
export type StopAllReason = 'button' | 'another-tab' | 'lockdown';

export const STOP_MESSAGE: Record<StopAllReason, string> = {
  button: 'Stopped by Stop all.',
  'another-tab': 'Stopped by Stop all in another tab.',
  lockdown: 'Stopped: lockdown was switched on.'
};

const CHANNEL = 'nightcore-stop-all';
let port: BroadcastChannel | null | undefined;
const listeners: (() => void)[] = [];

function channel(): BroadcastChannel | null {
  if (port === undefined) {
    port = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
    port?.addEventListener('message', () => listeners.forEach((f) => f()));
  }
  return port;
}

/** Tells the other tabs to stop their runs. */
export function announceStopAll(): void {
  channel()?.postMessage('stop-all');
}

/** Listens for another tab's Stop all (from now on: the channel opens here). */
export function onStopAllElsewhere(listener: () => void): void {
  listeners.push(listener);
  channel();
}
