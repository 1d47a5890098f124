/**
 * The chat: the history sidebar, the open conversation replayed from the store, the live run followed
 * over SSE (reattached after a reload), and the composer.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { messageOf } from '../api/errors';
import { type FollowStatus, type RunEvent, followRun } from '../api/follow';
import { useApp } from '../app/context';
import { Composer } from '../components/Composer';
import { HistorySidebar } from '../components/HistorySidebar';
import { Markdown } from '../components/Markdown';
import { RunView } from '../components/RunView';
import { frameBatcher } from '../lib/batch';
import { navigate } from '../lib/router';
import { type Exchange, replayConversation } from '../state/replay';
import { applyEvent, emptyRun, isActive } from '../state/run';

const NOT_LOADED = Symbol('not loaded');

/** The chat page for conversation `conversationId` (`null`: a new one). */
export function ChatPage({ conversationId }: { conversationId: string | null }) {
  const { api, auth, bumpHistory, bumpApprovals } = useApp();
  const [exchanges, setExchanges] = useState<Exchange[]>([]);
  const [title, setTitle] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [connection, setConnection] = useState<FollowStatus | null>(null);
  const [sending, setSending] = useState(false);
  const [stopping, setStopping] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);
  const [contexts, setContexts] = useState<string[]>([]);
  const [context, setContext] = useState('');
  const [historyOpen, setHistoryOpen] = useState(false);
  const loaded = useRef<string | null | typeof NOT_LOADED>(NOT_LOADED);
  const unfollow = useRef<(() => void) | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  const follow = useCallback(
    (runId: string, after: number) => {
      unfollow.current?.();
      setConnection({ kind: 'connecting' });
      // Deltas can arrive faster than frames: apply them in one state update per frame.
      const batch = frameBatcher<RunEvent>((events) => {
        setExchanges((xs) =>
          xs.map((x) => (x.run?.runId === runId ? { ...x, run: events.reduce((r, e) => applyEvent(r, e.seq, e.event, e.data), x.run) } : x)),
        );
        if (events.some((e) => e.event === 'approval.required' || e.event === 'approval.resolved')) bumpApprovals();
      });
      const stopFollowing = followRun(auth, runId, after, {
        onEvent: (e) => batch.push(e),
        onStatus: (s) => {
          if (s.kind === 'done' || s.kind === 'failed') batch.flush();
          setConnection(s);
          if (s.kind === 'done') {
            setStopping(false);
            bumpHistory();
            bumpApprovals();
          }
        },
      });
      unfollow.current = () => {
        stopFollowing();
        batch.cancel();
      };
    },
    [auth, bumpHistory, bumpApprovals],
  );

  useEffect(() => {
    api
      .clusters()
      .then((c) => {
        setContexts(c.contexts);
        setContext(c.default ?? c.contexts[0] ?? '');
      })
      .catch(() => {});
  }, [api]);

  useEffect(
    () => () => {
      unfollow.current?.();
      unfollow.current = null;
      loaded.current = NOT_LOADED;
    },
    [],
  );

  useEffect(() => {
    if (loaded.current === conversationId) return;
    loaded.current = conversationId;
    unfollow.current?.();
    unfollow.current = null;
    setConnection(null);
    setSendError(null);
    setLoadError(null);
    setStopping(false);
    atBottom.current = true;
    if (!conversationId) {
      setExchanges([]);
      setTitle(null);
      return;
    }
    setLoading(true);
    setExchanges([]);
    api
      .conversation(conversationId)
      .then((r) => {
        if (loaded.current !== conversationId) return;
        const xs = replayConversation(r);
        const live = xs.find((x) => x.run && isActive(x.run.status));
        if (live?.run) {
          // Reattach: replay the live run from its first event, so it shows exactly what it streamed.
          live.run = emptyRun(live.run.runId, live.run.status);
          follow(live.run.runId, 0);
        }
        setTitle(r.conversation.title);
        setExchanges(xs);
      })
      .catch((e) => {
        if (loaded.current === conversationId) setLoadError(messageOf(e));
      })
      .finally(() => setLoading(false));
  }, [api, conversationId, follow]);

  const last = exchanges[exchanges.length - 1];
  const activeRun = last?.run && isActive(last.run.status) ? last.run : null;

  const stop = useCallback(async () => {
    if (!activeRun) return;
    setStopping(true);
    try {
      await api.stop(activeRun.runId);
    } catch (e) {
      setSendError(`Could not stop the run: ${messageOf(e)}`);
      setStopping(false);
    }
  }, [api, activeRun]);

  useEffect(() => {
    if (!activeRun) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        void stop();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [activeRun, stop]);

  async function send(text: string): Promise<boolean> {
    setSendError(null);
    setSending(true);
    try {
      const ctx = contexts.length > 1 ? context : undefined;
      const r = await api.send(conversationId, text, ctx);
      const x: Exchange = {
        key: r.run.id,
        message: { content: text, context: ctx ?? null, createdAt: Date.now() },
        run: emptyRun(r.run.id, r.run.status),
      };
      atBottom.current = true;
      if (!conversationId) {
        loaded.current = r.conversation.id;
        setExchanges([x]);
        setTitle(r.conversation.title);
        navigate(`/c/${encodeURIComponent(r.conversation.id)}`);
      } else {
        setExchanges((xs) => [...xs, x]);
      }
      bumpHistory();
      follow(r.run.id, 0);
      return true;
    } catch (e) {
      setSendError(`Not sent: ${messageOf(e)}`);
      return false;
    } finally {
      setSending(false);
    }
  }

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [exchanges]);

  function onScroll() {
    const el = scroller.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  return (
    <div className={historyOpen ? 'chat-layout history-open' : 'chat-layout'}>
      <aside className="sidebar" id="history-panel">
        <HistorySidebar currentId={conversationId} onNavigate={() => setHistoryOpen(false)} />
      </aside>
      <section className="chat" aria-labelledby="chat-title">
        <div className="chat-head">
          <button
            type="button"
            className="btn btn-small history-toggle"
            aria-expanded={historyOpen}
            aria-controls="history-panel"
            onClick={() => setHistoryOpen((o) => !o)}
          >
            History
          </button>
          <h1 id="chat-title" className="chat-title">
            {title ?? 'New conversation'}
          </h1>
        </div>
        <div className="transcript" ref={scroller} onScroll={onScroll}>
          {loading && <p className="muted pad">Loading the conversation…</p>}
          {loadError && (
            <p className="error-text pad" role="alert">
              {loadError}
            </p>
          )}
          {!conversationId && exchanges.length === 0 && <Welcome />}
          <ol className="exchanges">
            {exchanges.map((x) => (
              <li key={x.key} className="exchange">
                <div className="user-msg">
                  <span className="sr-only">You asked:</span>
                  <Markdown text={x.message.content} />
                  {x.message.context && <span className="chip">{x.message.context}</span>}
                </div>
                {x.run && <RunView run={x.run} connection={x === last ? connection : null} />}
              </li>
            ))}
          </ol>
        </div>
        <Composer
          onSend={send}
          onStop={() => void stop()}
          active={activeRun !== null}
          sending={sending}
          stopping={stopping}
          error={sendError}
          contexts={contexts}
          context={context}
          onContext={setContext}
        />
      </section>
    </div>
  );
}

function Welcome() {
  return (
    <div className="welcome">
      <h2>What do you want to know about your cluster?</h2>
      <p className="muted">
        Ask in plain language: “what is broken in namespace payments?”, “show the logs of payments-api”, “scale cart to 4”.
        Every change waits for your approval, with the dry-run diff in front of you.
      </p>
    </div>
  );
}
