/** One tool call: tool, cluster, arguments, status and duration; the result collapsed below. */
import type { CallItem } from '../state/run';
import { formatDuration, inlineArgs } from '../lib/format';
import { StructuredView } from './StructuredView';

const STATUS: Record<CallItem['status'], string> = {
  requested: 'queued',
  pending_approval: 'waiting for approval',
  running: 'running…',
  succeeded: 'succeeded',
  failed: 'failed',
  denied: 'denied',
  cancelled: 'cancelled',
};

/** The card of `call`. */
export function ToolCard({ call }: { call: CallItem }) {
  const failed = call.status === 'failed' || call.status === 'denied';
  const label = call.title && call.title !== call.tool ? `${call.title} (${call.tool})` : call.tool;
  const summaryLines = (call.summary ?? '').split('\n');
  const firstLine = summaryLines[0];
  return (
    <article className={`card tool-card status-${call.status}`} aria-label={`Tool call ${call.tool}: ${STATUS[call.status]}`} data-tool={call.tool}>
      <header className="card-head">
        <span className={`badge badge-${call.status}`}>{STATUS[call.status]}</span>
        <span className="tool-name">{label}</span>
        {call.context && (
          <span className="chip" title="Cluster (kubeconfig context)">
            <span className="sr-only">cluster </span>
            {call.context}
          </span>
        )}
        {call.durationMs !== null && (call.status === 'succeeded' || call.status === 'failed') && <span className="muted dur">{formatDuration(call.durationMs)}</span>}
      </header>
      <p className="tool-args">
        <code>{inlineArgs(call.arguments) || '(no arguments)'}</code>
      </p>
      {call.progress && (
        <div className="progress">
          <progress value={call.progress.progress} max={call.progress.total ?? undefined} aria-label="Tool progress" />
          {call.progress.message && <span className="muted">{call.progress.message}</span>}
        </div>
      )}
      {call.summary !== null && (
        <p className={failed ? 'tool-summary error-text' : 'tool-summary'} role={failed ? 'alert' : undefined}>
          {firstLine}
        </p>
      )}
      {(call.summary !== null || call.structured !== null) && (summaryLines.length > 1 || call.structured !== null) && (
        <details className="tool-result">
          <summary>Result</summary>
          {summaryLines.length > 1 && <pre className="summary-full">{call.summary}</pre>}
          {call.structured !== null && <StructuredView value={call.structured} label={`${call.tool} result`} />}
        </details>
      )}
    </article>
  );
}
