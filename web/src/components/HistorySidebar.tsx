/** The conversation history: search, open, rename, delete. */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { messageOf } from '../api/errors';
import type { Conversation } from '../api/types';
import { useApp } from '../app/context';
import { formatAgo } from '../lib/format';
import { navigate } from '../lib/router';
import { Link } from './Link';

/** The sidebar; `currentId` is the open conversation. */
export function HistorySidebar({ currentId, onNavigate }: { currentId: string | null; onNavigate?: () => void }) {
  const { api, user, historyVersion, bumpHistory } = useApp();
  const [search, setSearch] = useState('');
  const [everyone, setEveryone] = useState(false);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [items, setItems] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const searchId = useId();

  useEffect(() => {
    let alive = true;
    const t = setTimeout(
      () => {
        api
          .conversations(search, everyone)
          .then((list) => {
            if (!alive) return;
            setItems(list);
            setError(null);
          })
          .catch((e) => alive && setError(messageOf(e)));
      },
      search ? 250 : 0,
    );
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [api, search, everyone, historyVersion]);

  useEffect(() => {
    if (!everyone) return;
    api
      .users()
      .then((us) => setNames(new Map(us.map((u) => [u.id, u.username]))))
      .catch(() => {});
  }, [api, everyone]);

  async function rename(c: Conversation, title: string) {
    setEditing(null);
    if (!title.trim() || title.trim() === c.title) return;
    try {
      await api.rename(c.id, title.trim());
      bumpHistory();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  async function remove(c: Conversation) {
    setConfirming(null);
    try {
      await api.deleteConversation(c.id);
      if (c.id === currentId) navigate('/');
      bumpHistory();
    } catch (e) {
      setError(messageOf(e));
    }
  }

  return (
    <nav className="history" aria-label="Conversations">
      <div className="history-head">
        <Link href="/" className="btn btn-primary new-chat" onClick={onNavigate}>
          New conversation
        </Link>
        <label htmlFor={searchId} className="sr-only">
          Search conversations
        </label>
        <input id={searchId} type="search" placeholder="Search conversations" value={search} onChange={(e) => setSearch(e.target.value)} />
        {user.role === 'admin' && (
          <label className="check">
            <input type="checkbox" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} /> Everyone’s conversations
          </label>
        )}
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p className="muted pad">Loading…</p>}
      {items && items.length === 0 && <p className="muted pad">{search ? 'No conversation matches.' : 'No conversations yet.'}</p>}
      <ul className="history-list">
        {items?.map((c) => (
          <li key={c.id} className={c.id === currentId ? 'current' : undefined}>
            {editing === c.id ? (
              <RenameForm conversation={c} onDone={(t) => void rename(c, t)} />
            ) : (
              <Link href={`/c/${c.id}`} aria-current={c.id === currentId ? 'page' : undefined} onClick={onNavigate} className="history-link">
                <span className="history-title">{c.title}</span>
                <span className="muted history-when">
                  {formatAgo(c.updatedAt)}
                  {c.userId !== user.id && <> · by {names.get(c.userId) ?? 'another user'}</>}
                </span>
              </Link>
            )}
            {confirming === c.id ? (
              <span className="history-confirm" role="group" aria-label={`Delete ${c.title}?`}>
                <span>Delete?</span>
                <button type="button" className="btn btn-small btn-deny" onClick={() => void remove(c)}>
                  Delete
                </button>
                <button type="button" className="btn btn-small" onClick={() => setConfirming(null)}>
                  Keep
                </button>
              </span>
            ) : (
              editing !== c.id && (
                <span className="history-actions">
                  <button type="button" className="icon-btn" onClick={() => setEditing(c.id)} aria-label={`Rename ${c.title}`} title="Rename">
                    Rename
                  </button>
                  <button type="button" className="icon-btn" onClick={() => setConfirming(c.id)} aria-label={`Delete ${c.title}`} title="Delete">
                    Delete
                  </button>
                </span>
              )
            )}
          </li>
        ))}
      </ul>
    </nav>
  );
}

function RenameForm({ conversation, onDone }: { conversation: Conversation; onDone: (title: string) => void }) {
  const [title, setTitle] = useState(conversation.title);
  const id = useId();
  function submit(e: FormEvent) {
    e.preventDefault();
    onDone(title);
  }
  return (
    <form className="rename" onSubmit={submit}>
      <label htmlFor={id} className="sr-only">
        New title
      </label>
      <input
        id={id}
        autoFocus
        value={title}
        maxLength={200}
        onChange={(e) => setTitle(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onDone(conversation.title);
          }
        }}
      />
      <button type="submit" className="btn btn-small">
        Save
      </button>
    </form>
  );
}
