/** The root: restores the session from the refresh cookie, then shows the login, the expired screen or the app. */
import { useEffect, useState, useSyncExternalStore } from 'react';
import { AuthClient, type AuthState } from './api/auth';
import { Shell } from './app/Shell';
import { LoginPage } from './pages/LoginPage';

/** The app. */
export function App() {
  const [auth] = useState(() => new AuthClient());
  const state: AuthState = useSyncExternalStore(
    (l) => auth.subscribe(l),
    () => auth.state,
  );

  useEffect(() => {
    void auth.restore();
  }, [auth]);

  switch (state.kind) {
    case 'loading':
      return (
        <main className="splash" id="main" aria-busy="true">
          <p className="muted">Loading Binnacle…</p>
        </main>
      );
    case 'anonymous':
      return <LoginPage auth={auth} />;
    case 'expired':
      return <LoginPage auth={auth} expired={state.message} />;
    case 'signed_in':
      return <Shell key={state.user.id} auth={auth} user={state.user} />;
  }
}
