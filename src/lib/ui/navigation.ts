/** The console's pages, in navigation order. */
export interface NavItem {
  href: string;
  label: string;
  /** One line saying what the page is for (navigation tooltip and overview). */
  purpose: string;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { href: '/', label: 'Overview', purpose: 'What Night Core guards and what it has seen.' },
  { href: '/inbox', label: 'Inbox', purpose: 'Bring in signed modules and review requests.' },
  {
    href: '/runs',
    label: 'Runs',
    purpose: 'Approved modules running in the sandbox, and history.'
  },
  { href: '/keys', label: 'Keys', purpose: 'Publisher keys you pin, with their trust.' },
  { href: '/publish', label: 'Publish', purpose: 'Sign a module into a bundle, in this tab.' },
  { href: '/policy', label: 'Policy', purpose: 'The rules every request is judged by.' },
  { href: '/audit', label: 'Audit', purpose: 'The tamper-evident log of every decision.' },
  { href: '/settings', label: 'Settings', purpose: 'Storage, offline use and this device.' }
];

/** Whether `href` is the current page (exact match, ignoring a trailing slash). */
export function isCurrent(href: string, pathname: string): boolean {
  const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname;
  return path === href;
}
