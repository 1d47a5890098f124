/** The login form; also the "session expired" screen, with the reason. */
import { type FormEvent, useState } from 'react';
import type { AuthClient } from '../api/auth';
import { messageOf } from '../api/errors';
import { expiryReason } from '../lib/text';

/** Props of [`LoginPage`]. */
export interface LoginPageProps {
  auth: AuthClient;
  /** Set when a session just ended: the screen says so. */
  expired?: string | null;
}

/** Log in. */
export function LoginPage({ auth, expired }: LoginPageProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.login(username.trim(), password);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }

  return (
    <main className="login" id="main">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <p className="brand-mark" aria-hidden="true">
          ⎈
        </p>
        <h1 id="login-title">{expired ? 'Your session expired' : 'Binnacle Command Center'}</h1>
        {expired ? (
          <p className="note warn-note" role="alert">
            {expiryReason(expired)} Log in again to continue; your conversations are kept.
          </p>
        ) : (
          <p className="muted">Log in to ask about your clusters and approve changes.</p>
        )}
        <label htmlFor="username">Username</label>
        <input id="username" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
