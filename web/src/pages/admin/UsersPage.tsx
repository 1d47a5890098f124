/** Team members and their roles (admin): add, change role, disable, reset a password, remove. */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { messageOf } from '../../api/errors';
import type { Role, User } from '../../api/types';
import { useApp } from '../../app/context';
import { formatTime } from '../../lib/format';

const ROLES: Role[] = ['admin', 'operator', 'viewer'];

/** The users page. */
export function UsersPage() {
  const { api, user: me } = useApp();
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [resetting, setResetting] = useState<string | null>(null);

  const load = useCallback(() => {
    api
      .users()
      .then((u) => (setUsers(u), setError(null)))
      .catch((e) => setError(messageOf(e)));
  }, [api]);
  useEffect(load, [load]);

  async function act(what: () => Promise<unknown>, done: string) {
    setError(null);
    setNotice(null);
    try {
      await what();
      setNotice(done);
      load();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users and roles</h2>
      <p className="muted">
        <strong>admin</strong>: everything, including this page. <strong>operator</strong>: chat, approve, stop.{' '}
        <strong>viewer</strong>: chat with read-only tools, no approvals.
      </p>
      <div aria-live="polite">
        {notice && <p className="note ok-note">{notice}</p>}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
      </div>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Users">
        <table className="users">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Added</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users?.map((u) => (
              <tr key={u.id} data-user={u.username}>
                <th scope="row">
                  {u.username}
                  {u.id === me.id && <span className="muted"> (you)</span>}
                </th>
                <td>
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    disabled={u.id === me.id}
                    onChange={(e) => void act(() => api.updateUser(u.id, { role: e.target.value as Role }), `${u.username} is now ${e.target.value}.`)}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{u.disabled ? <span className="badge badge-failed">disabled</span> : <span className="badge badge-succeeded">active</span>}</td>
                <td>{formatTime(u.createdAt)}</td>
                <td className="actions">
                  {u.id !== me.id && (
                    <>
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => void act(() => api.updateUser(u.id, { disabled: !u.disabled }), `${u.username} is ${u.disabled ? 'enabled' : 'disabled'}.`)}
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                      </button>
                      <button type="button" className="btn btn-small" onClick={() => setResetting(resetting === u.id ? null : u.id)} aria-expanded={resetting === u.id}>
                        Reset password
                      </button>
                      <button
                        type="button"
                        className="btn btn-small btn-deny"
                        onClick={() => {
                          if (window.confirm(`Remove ${u.username}? Their conversations are deleted too.`)) {
                            void act(() => api.deleteUser(u.id), `${u.username} was removed.`);
                          }
                        }}
                      >
                        Remove
                      </button>
                    </>
                  )}
                  {resetting === u.id && (
                    <PasswordForm
                      username={u.username}
                      onSubmit={(pw) => {
                        setResetting(null);
                        void act(() => api.updateUser(u.id, { password: pw }), `${u.username}'s password was reset; they are signed out everywhere.`);
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <NewUserForm onCreate={(name, pw, role) => act(() => api.createUser(name, pw, role), `${name} was added as ${role}.`)} />
    </section>
  );
}

function PasswordForm({ username, onSubmit }: { username: string; onSubmit: (pw: string) => void }) {
  const [pw, setPw] = useState('');
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(pw);
      }}
    >
      <label>
        New password for {username}
        <input type="password" autoComplete="new-password" minLength={10} required value={pw} onChange={(e) => setPw(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-small btn-primary">
        Set
      </button>
    </form>
  );
}

function NewUserForm({ onCreate }: { onCreate: (name: string, pw: string, role: Role) => Promise<void> }) {
  const [name, setName] = useState('');
  const [pw, setPw] = useState('');
  const [role, setRole] = useState<Role>('operator');
  async function submit(e: FormEvent) {
    e.preventDefault();
    await onCreate(name.trim(), pw, role);
    setName('');
    setPw('');
  }
  return (
    <form className="form-grid" onSubmit={submit} aria-labelledby="new-user-title">
      <h3 id="new-user-title">Add a user</h3>
      <label>
        Username
        <input value={name} onChange={(e) => setName(e.target.value)} required pattern="[a-z0-9._\-]{3,64}" title="3–64 of a-z, 0-9, '.', '_' or '-'" autoComplete="off" />
      </label>
      <label>
        Initial password (10+ characters)
        <input type="password" value={pw} onChange={(e) => setPw(e.target.value)} required minLength={10} autoComplete="new-password" />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="btn btn-primary">
        Add user
      </button>
    </form>
  );
}
