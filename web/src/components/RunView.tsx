/** One run as it streams or as it was: thinking, answer text, tool and approval cards, usage, ending. */
import type { FollowStatus } from '../api/follow';
import { formatCost, formatCount, formatDuration } from '../lib/format';
import { type RunView as RunModel, isActive } from '../state/run';
import { ApprovalCard } from './ApprovalCard';
import { Markdown } from './Markdown';
import { ToolCard } from './ToolCard';

const ENDINGS: Record<string, string> = {
  completed: 'completed',
  failed: 'failed',
  stopped: 'stopped',
  interrupted: 'interrupted',
  running: 'working…',
  waiting_approval: 'waiting for approval',
};

/** Renders `run`; `connection` is the live stream's state, when following. */
export function RunView({ run, connection }: { run: RunModel; connection?: FollowStatus | null }) {
  const active = isActive(run.status);
  const u = run.usage;
  return (
    <section className="run" aria-label="Assistant" aria-busy={active} data-run={run.runId} data-status={run.status}>
      {run.offline && (
        <p className="note offline-note" role="note">
          The offline assistant answered: no language model is configured, so answers come from built-in rules.
        </p>
      )}
      {run.items.map((it) => {
        if (it.kind === 'thinking') {
          return (
            <details key={it.key} className="thinking">
              <summary>{it.done ? 'Thinking' : 'Thinking…'}</summary>
              <p className="thinking-text">{it.text}</p>
            </details>
          );
        }
        if (it.kind === 'text') {
          return <Markdown key={it.key} text={it.text} streaming={!it.done} />;
        }
        return (
          <div key={it.key} className="call">
            {it.approval && <ApprovalCard approval={it.approval} />}
            {!(it.approval && it.status === 'pending_approval') && <ToolCard call={it} />}
          </div>
        );
      })}
      {active && run.items.length === 0 && (
        <p className="muted working" aria-live="polite">
          Working…
        </p>
      )}
      {connection?.kind === 'reconnecting' && (
        <p className="note warn-note" role="status">
          Connection lost ({connection.reason}); reconnecting…
        </p>
      )}
      {connection?.kind === 'failed' && (
        <p className="error-text" role="alert">
          The live stream failed: {connection.message}
        </p>
      )}
      {run.error && (
        <p className="error-text run-error" role="alert">
          {run.error}
        </p>
      )}
      <footer className="run-foot">
        <span className={`badge badge-run-${run.status}`}>{ENDINGS[run.status] ?? run.status}</span>
        {(u.promptTokens > 0 || u.completionTokens > 0) && (
          <span className="usage" title="Tokens: prompt in, completion out">
            {formatCount(u.promptTokens)} in · {formatCount(u.completionTokens)} out tokens
          </span>
        )}
        {u.ttftMs !== null && <span className="usage">first token {formatDuration(u.ttftMs)}</span>}
        {u.costUsd !== null && <span className="usage">{formatCost(u.costUsd)}</span>}
        {run.model && <span className="muted model">{run.offline ? 'offline assistant' : run.model}</span>}
      </footer>
    </section>
  );
}
