/** Jenkins servers (admin writes): a URL and a reference to the Secret that holds the credentials. */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { messageOf } from '../../api/errors';
import type { Integration } from '../../api/types';
import { useApp } from '../../app/context';
import { formatTime } from '../../lib/format';
import { isSecretRef } from '../../lib/text';

/** The integrations page. */
export function IntegrationsPage() {
  const { api, user } = useApp();
  const [items, setItems] = useState<Integration[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Integration | null>(null);
  const isAdmin = user.role === 'admin';

  const load = useCallback(() => {
    api
      .integrations()
      .then((i) => (setItems(i), setError(null)))
      .catch((e) => setError(messageOf(e)));
  }, [api]);
  useEffect(load, [load]);

  async function remove(i: Integration) {
    if (!window.confirm(`Remove the integration ${i.name}?`)) return;
    try {
      await api.deleteIntegration(i.id);
      load();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <section aria-labelledby="int-title">
      <h2 id="int-title">Integrations</h2>
      <p className="muted">
        Jenkins servers the Jenkins tools can use. Credentials never come here: name the Kubernetes Secret (<code>namespace/name</code>) that
        holds <code>username</code> and <code>token</code>.
      </p>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {items?.length === 0 && <p className="empty">No integrations yet.</p>}
      {items && items.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Integrations list">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">URL</th>
                <th scope="col">Credentials Secret</th>
                <th scope="col">Updated</th>
                {isAdmin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.id}>
                  <th scope="row">{i.name}</th>
                  <td>{i.kind}</td>
                  <td>
                    <code>{i.url}</code>
                  </td>
                  <td>
                    <code>{i.credentialsSecret}</code>
                  </td>
                  <td>{formatTime(i.updatedAt)}</td>
                  {isAdmin && (
                    <td className="actions">
                      <button type="button" className="btn btn-small" onClick={() => setEditing(i)}>
                        Edit
                      </button>
                      <button type="button" className="btn btn-small btn-deny" onClick={() => void remove(i)}>
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {isAdmin && (
        <IntegrationForm
          key={editing?.id ?? 'new'}
          editing={editing}
          onCancel={() => setEditing(null)}
          onSave={async (v) => {
            await api.saveIntegration(editing?.id ?? null, v);
            setEditing(null);
            load();
          }}
        />
      )}
    </section>
  );
}

interface FormValues {
  name: string;
  url: string;
  credentialsSecret: string;
}

function IntegrationForm({ editing, onSave, onCancel }: { editing: Integration | null; onSave: (v: FormValues) => Promise<void>; onCancel: () => void }) {
  const [v, setV] = useState<FormValues>({ name: editing?.name ?? '', url: editing?.url ?? '', credentialsSecret: editing?.credentialsSecret ?? '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const secretBad = v.credentialsSecret !== '' && !isSecretRef(v.credentialsSecret);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSave({ name: v.name.trim(), url: v.url.trim(), credentialsSecret: v.credentialsSecret.trim() });
      if (!editing) setV({ name: '', url: '', credentialsSecret: '' });
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form-grid" onSubmit={submit} aria-labelledby="int-form-title">
      <h3 id="int-form-title">{editing ? `Edit ${editing.name}` : 'Add a Jenkins server'}</h3>
      <label>
        Name
        <input value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} required maxLength={100} />
      </label>
      <label>
        URL
        <input type="url" value={v.url} onChange={(e) => setV({ ...v, url: e.target.value })} required placeholder="https://jenkins.example.com" />
      </label>
      <label>
        Credentials Secret (namespace/name)
        <input
          value={v.credentialsSecret}
          onChange={(e) => setV({ ...v, credentialsSecret: e.target.value })}
          required
          placeholder="ci/jenkins-credentials"
          aria-invalid={secretBad || undefined}
          aria-describedby="secret-help"
        />
      </label>
      <p id="secret-help" className={secretBad ? 'error-text' : 'muted'}>
        {secretBad ? 'Use namespace/name in lowercase (a Kubernetes Secret).' : 'The Secret holds the keys username and token.'}
      </p>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="buttons">
        <button type="submit" className="btn btn-primary" disabled={busy || secretBad}>
          {editing ? 'Save' : 'Add integration'}
        </button>
        {editing && (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
