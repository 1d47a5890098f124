/** A unified diff with added lines in green and removed lines in red (and +/− markers for colour-blind readers). */
import { useMemo } from 'react';
import { diffStats, parseUnifiedDiff } from '../lib/diff';

const LABEL = { add: 'added', del: 'removed', context: 'unchanged', hunk: 'hunk', file: 'file', note: 'note' } as const;

/** Shows `diff` (unified format). */
export function DiffView({ diff, title = 'Dry-run diff' }: { diff: string; title?: string }) {
  const lines = useMemo(() => parseUnifiedDiff(diff), [diff]);
  const stats = diffStats(lines);
  if (lines.length === 0) return <p className="muted">No changes.</p>;
  return (
    <figure className="diff">
      <figcaption>
        {title}{' '}
        <span className="diff-stat">
          <span className="diff-stat-add">+{stats.added}</span> <span className="diff-stat-del">−{stats.removed}</span>
        </span>
      </figcaption>
      <pre className="diff-body" tabIndex={0} aria-label={`${title}: ${stats.added} lines added, ${stats.removed} removed`}>
        {lines.map((l, i) => (
          <span key={i} className={`diff-line diff-${l.kind}`} data-kind={LABEL[l.kind]}>
            <span className="diff-no" aria-hidden="true">
              {l.oldNo ?? ''}
            </span>
            <span className="diff-no" aria-hidden="true">
              {l.newNo ?? ''}
            </span>
            <span className="diff-text">{l.text || ' '}</span>
            {'\n'}
          </span>
        ))}
      </pre>
    </figure>
  );
}
