/** A small history router: the app's few routes, parsed from and written to the URL path. */
import { useSyncExternalStore } from 'react';

/** An admin tab. */
export type AdminTab = 'users' | 'integrations' | 'audit' | 'usage';

/** Where the app is. */
export type Route =
  | { name: 'chat'; conversationId: string | null }
  | { name: 'approvals' }
  | { name: 'admin'; tab: AdminTab }
  | { name: 'not_found'; path: string };

const ADMIN_TABS: AdminTab[] = ['users', 'integrations', 'audit', 'usage'];

/** Parses a URL path into a route. */
export function parseRoute(path: string): Route {
  const clean = path.replace(/\/+$/, '') || '/';
  if (clean === '/' || clean === '/chat') return { name: 'chat', conversationId: null };
  const conv = /^\/c\/([^/]+)$/.exec(clean);
  if (conv) return { name: 'chat', conversationId: decodeURIComponent(conv[1]) };
  if (clean === '/approvals') return { name: 'approvals' };
  if (clean === '/admin') return { name: 'admin', tab: 'users' };
  const admin = /^\/admin\/([a-z]+)$/.exec(clean);
  if (admin && (ADMIN_TABS as string[]).includes(admin[1])) return { name: 'admin', tab: admin[1] as AdminTab };
  return { name: 'not_found', path };
}

/** The URL path of a route. */
export function pathOf(route: Route): string {
  switch (route.name) {
    case 'chat':
      return route.conversationId ? `/c/${encodeURIComponent(route.conversationId)}` : '/';
    case 'approvals':
      return '/approvals';
    case 'admin':
      return `/admin/${route.tab}`;
    case 'not_found':
      return route.path;
  }
}

const listeners = new Set<() => void>();

function notify(): void {
  for (const l of listeners) l();
}

if (typeof window !== 'undefined') window.addEventListener('popstate', notify);

/** Goes to `path` (a new history entry, or replacing the current one). */
export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (opts.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  notify();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The current path, re-rendering on navigation. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname, () => '/');
}
