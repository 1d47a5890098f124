/** Every approval waiting for a decision, in one place (refreshed every few seconds). */
import { useEffect, useState } from 'react';
import { messageOf } from '../api/errors';
import type { Approval } from '../api/types';
import { canOperate, useApp } from '../app/context';
import { ApprovalCard } from '../components/ApprovalCard';
import { Link } from '../components/Link';
import { formatTime } from '../lib/format';
import type { ApprovalView } from '../state/run';

const POLL_MS = 5_000;

function view(a: Approval): ApprovalView {
  return {
    approvalId: a.id,
    toolCallId: a.toolCallId,
    tool: a.tool,
    context: a.context,
    arguments: a.arguments,
    preview: a.preview,
    previewHash: a.previewHash,
    hints: null,
    status: a.status,
    decidedBy: a.decidedBy,
    reason: a.reason,
  };
}

/** The pending approvals page. */
export function ApprovalsPage() {
  const { api, user, approvalsVersion, bumpApprovals } = useApp();
  const [filter, setFilter] = useState<'pending' | 'all'>('pending');
  const [items, setItems] = useState<Approval[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .approvals(filter)
        .then((list) => {
          if (!alive) return;
          setItems(list.slice().sort((a, b) => b.createdAt - a.createdAt).slice(0, 100));
          setError(null);
        })
        .catch((e) => alive && setError(messageOf(e)));
    void load();
    const t = setInterval(load, POLL_MS);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [api, filter, approvalsVersion]);

  return (
    <div className="page">
      <h1>Approvals</h1>
      <p className="muted">
        {canOperate(user)
          ? 'Changes the assistant wants to make, each with its dry-run diff. Approve or deny each one.'
          : 'Changes waiting for an operator or admin. Your role can see them but not decide.'}
      </p>
      <div className="seg" role="group" aria-label="Show">
        <button type="button" aria-pressed={filter === 'pending'} onClick={() => setFilter('pending')}>
          Pending
        </button>
        <button type="button" aria-pressed={filter === 'all'} onClick={() => setFilter('all')}>
          All
        </button>
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p className="muted">Loading…</p>}
      {items?.length === 0 && <p className="empty">{filter === 'pending' ? 'Nothing is waiting for a decision.' : 'No approvals yet.'}</p>}
      <ul className="approval-list">
        {items?.map((a) => (
          <li key={a.id}>
            <p className="approval-meta muted">
              Requested {formatTime(a.createdAt)} ·{' '}
              <Link href={`/c/${encodeURIComponent(a.conversationId)}`}>open the conversation</Link>
            </p>
            <ApprovalCard approval={view(a)} onDecided={bumpApprovals} />
          </li>
        ))}
      </ul>
    </div>
  );
}
