/** The signed-in frame: skip link, header with navigation, theme and logout, and the current page. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { AuthClient } from '../api/auth';
import { Api } from '../api/client';
import type { User } from '../api/types';
import { Link } from '../components/Link';
import { ThemeToggle } from '../components/ThemeToggle';
import { ApprovalsPage } from '../pages/ApprovalsPage';
import { ChatPage } from '../pages/ChatPage';
import { AdminPage } from '../pages/admin/AdminPage';
import { parseRoute, usePath } from '../lib/router';
import { AppContext, type AppServices } from './context';

const PENDING_POLL_MS = 10_000;

/** The app for signed-in `user`. */
export function Shell({ auth, user }: { auth: AuthClient; user: User }) {
  const api = useMemo(() => new Api(auth), [auth]);
  const [historyVersion, setHistoryVersion] = useState(0);
  const [approvalsVersion, setApprovalsVersion] = useState(0);
  const [pending, setPending] = useState<number | null>(null);
  const bumpHistory = useCallback(() => setHistoryVersion((v) => v + 1), []);
  const bumpApprovals = useCallback(() => setApprovalsVersion((v) => v + 1), []);
  const services: AppServices = useMemo(
    () => ({ auth, api, user, historyVersion, bumpHistory, approvalsVersion, bumpApprovals }),
    [auth, api, user, historyVersion, bumpHistory, approvalsVersion, bumpApprovals],
  );
  const route = parseRoute(usePath());

  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .approvals('pending')
        .then((a) => alive && setPending(a.length))
        .catch(() => {});
    void load();
    const t = setInterval(load, PENDING_POLL_MS);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [api, approvalsVersion]);

  useEffect(() => {
    const names: Record<string, string> = { chat: 'Chat', approvals: 'Approvals', admin: 'Administration', not_found: 'Not found' };
    document.title = `${names[route.name]} · Binnacle`;
  }, [route.name]);

  return (
    <AppContext.Provider value={services}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span aria-hidden="true">⎈</span> Binnacle
        </Link>
        <nav aria-label="Main" className="mainnav">
          <Link href="/" aria-current={route.name === 'chat' ? 'page' : undefined}>
            Chat
          </Link>
          <Link href="/approvals" aria-current={route.name === 'approvals' ? 'page' : undefined}>
            Approvals
            {pending !== null && pending > 0 && (
              <span className="count" aria-label={`${pending} pending`}>
                {pending}
              </span>
            )}
          </Link>
          {user.role === 'admin' && (
            <Link href="/admin/users" aria-current={route.name === 'admin' ? 'page' : undefined}>
              Admin
            </Link>
          )}
        </nav>
        <span className="spacer" />
        <ThemeToggle />
        <span className="who">
          <span className="sr-only">Signed in as </span>
          {user.username} <span className="badge">{user.role}</span>
        </span>
        <button type="button" className="btn btn-small" onClick={() => void auth.logout()}>
          Log out
        </button>
      </header>
      <main id="main" className={route.name === 'chat' ? 'main main-chat' : 'main'}>
        {route.name === 'chat' && <ChatPage conversationId={route.conversationId} />}
        {route.name === 'approvals' && <ApprovalsPage />}
        {route.name === 'admin' &&
          (user.role === 'admin' ? (
            <AdminPage tab={route.tab} />
          ) : (
            <div className="page">
              <h1>Administration</h1>
              <p className="error-text">This needs the admin role; you are {user.role}.</p>
            </div>
          ))}
        {route.name === 'not_found' && (
          <div className="page">
            <h1>Not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. <Link href="/">Back to the chat</Link>.
            </p>
          </div>
        )}
      </main>
    </AppContext.Provider>
  );
}
