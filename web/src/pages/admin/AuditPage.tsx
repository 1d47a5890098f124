/**
 * The audit log (admin) with the verification of its hash chain. The API pages forward (`after`), so the
 * page loads from the oldest entry, shows the loaded ones newest first, and loads newer pages on demand.
 */
import { useCallback, useEffect, useState } from 'react';
import { messageOf } from '../../api/errors';
import type { AuditEntry, AuditVerification } from '../../api/types';
import { useApp } from '../../app/context';
import { formatTime, inlineArgs } from '../../lib/format';

const PAGE = 500;

/** The audit page. */
export function AuditPage() {
  const { api } = useApp();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [more, setMore] = useState(false);
  const [verify, setVerify] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const loadPage = useCallback(
    async (after: number) => {
      setBusy(true);
      try {
        const page = await api.audit(after, PAGE);
        setEntries((prev) => (after === 0 ? page : prev.concat(page)));
        setMore(page.length === PAGE);
        setError(null);
      } catch (e) {
        setError(messageOf(e));
      } finally {
        setBusy(false);
      }
    },
    [api],
  );

  const runVerify = useCallback(() => {
    setVerify(null);
    api
      .verifyAudit()
      .then(setVerify)
      .catch((e) => setError(messageOf(e)));
  }, [api]);

  useEffect(() => {
    void loadPage(0);
    runVerify();
  }, [loadPage, runVerify]);

  const newestFirst = entries.slice().reverse();

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <div className="verify" aria-live="polite">
        {verify === null && <p className="muted">Verifying the hash chain…</p>}
        {verify?.valid && (
          <p className="note ok-note" data-verified="true">
            Hash chain verified: {verify.entries} entries, all intact. Head hash <code className="hash">{verify.headHash}</code>
          </p>
        )}
        {verify && !verify.valid && (
          <p className="note bad-note" role="alert" data-verified="false">
            The hash chain does not verify: entry #{verify.firstInvalidSeq} — {verify.reason}
          </p>
        )}
        <button type="button" className="btn btn-small" onClick={runVerify}>
          Verify again
        </button>
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
        <table className="audit">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Cluster</th>
              <th scope="col">Tool and arguments</th>
              <th scope="col">Decision</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {newestFirst.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td className="nowrap">{formatTime(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.context ?? ''}</td>
                <td>
                  {e.tool && <code>{e.tool}</code>} {e.arguments ? <span className="muted">{inlineArgs(e.arguments, 120)}</span> : null}
                </td>
                <td>{e.decision ?? ''}</td>
                <td className="outcome">{e.outcome ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries.length === 0 && !busy && <p className="empty">The audit log is empty.</p>}
      {more && (
        <button type="button" className="btn" disabled={busy} onClick={() => void loadPage(entries[entries.length - 1]?.seq ?? 0)}>
          Load more entries
        </button>
      )}
    </section>
  );
}
