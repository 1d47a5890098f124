/**
 * An approval: the tool, its arguments and the dry-run diff, with Approve and Deny (and an optional
 * reason) for operators and admins; the decision and who made it afterwards. Viewers see it read-only.
 */
import { useId, useState } from 'react';
import { messageOf } from '../api/errors';
import type { ApprovalView } from '../state/run';
import { useApp, canOperate } from '../app/context';
import { DiffView } from './DiffView';
import { StructuredView } from './StructuredView';

/** The card of `approval`; `onDecided` runs after a decision was accepted. */
export function ApprovalCard({ approval, onDecided }: { approval: ApprovalView; onDecided?: () => void }) {
  const { api, user, bumpApprovals } = useApp();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<'approve' | 'deny' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [local, setLocal] = useState<Pick<ApprovalView, 'status' | 'decidedBy' | 'reason'> | null>(null);
  const reasonId = useId();
  const state = approval.status !== 'pending' ? approval : (local ?? approval);
  const pending = state.status === 'pending';
  const mayDecide = canOperate(user) && approval.approvalId !== null;
  const preview = approval.preview;

  async function decide(decision: 'approve' | 'deny') {
    if (!approval.approvalId) return;
    setBusy(decision);
    setError(null);
    try {
      const a = await api.decide(
        { id: approval.approvalId, toolCallId: approval.toolCallId, previewHash: approval.previewHash },
        decision,
        decision === 'deny' ? reason : undefined,
      );
      setLocal({ status: a.status, decidedBy: a.decidedBy, reason: a.reason });
      bumpApprovals();
      onDecided?.();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <article className={`card approval-card approval-${state.status}`} aria-label={`Approval for ${approval.tool}: ${state.status}`}>
      <header className="card-head">
        <span className={`badge badge-approval-${state.status}`}>{pending ? 'approval required' : state.status}</span>
        <span className="tool-name">{approval.tool}</span>
        {approval.context && (
          <span className="chip">
            <span className="sr-only">cluster </span>
            {approval.context}
          </span>
        )}
        {(approval.hints?.destructive || preview?.destructive) && <span className="badge badge-danger">destructive</span>}
      </header>
      <details className="approval-args" open>
        <summary>Arguments</summary>
        <StructuredView value={approval.arguments} label="Arguments" />
      </details>
      {preview?.summary && <p className="preview-summary">{preview.summary}</p>}
      {preview?.kind === 'dry-run' && preview.diff !== undefined && <DiffView diff={preview.diff} />}
      {preview?.kind === 'dry-run-failed' && <p className="error-text">The dry run failed: {preview.error}</p>}
      {pending && mayDecide && (
        <div className="approval-actions">
          <label htmlFor={reasonId}>Reason (optional, sent to the model when you deny)</label>
          <input id={reasonId} type="text" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
          <div className="buttons">
            <button type="button" className="btn btn-approve" disabled={busy !== null} onClick={() => void decide('approve')}>
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
            <button type="button" className="btn btn-deny" disabled={busy !== null} onClick={() => void decide('deny')}>
              {busy === 'deny' ? 'Denying…' : 'Deny'}
            </button>
          </div>
        </div>
      )}
      {pending && !mayDecide && (
        <p className="muted readonly-note" role="note">
          Waiting for an operator or admin: your role ({user.role}) can see this request but not decide it.
        </p>
      )}
      {!pending && (
        <p className="decision" role="status">
          {state.status === 'approved' && <>Approved by <strong>{state.decidedBy ?? 'someone'}</strong></>}
          {state.status === 'denied' && <>Denied by <strong>{state.decidedBy ?? 'someone'}</strong></>}
          {state.status === 'cancelled' && <>Cancelled{state.decidedBy ? <> by <strong>{state.decidedBy}</strong></> : null}</>}
          {state.reason ? <>: {state.reason}</> : null}
        </p>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
