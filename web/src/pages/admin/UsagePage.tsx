/** Token usage over time (admin): a chart per day, totals, and the numbers as a table. */
import { useEffect, useState } from 'react';
import { messageOf } from '../../api/errors';
import type { UsageBucket } from '../../api/types';
import { useApp } from '../../app/context';
import { formatCost, formatCount } from '../../lib/format';
import { fillDays } from '../../lib/usage';
import { UsageChart } from './UsageChart';

/** The usage page. */
export function UsagePage() {
  const { api } = useApp();
  const [days, setDays] = useState(30);
  const [buckets, setBuckets] = useState<UsageBucket[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    api
      .usage(days)
      .then((b) => alive && (setBuckets(fillDays(b, days)), setError(null)))
      .catch((e) => alive && setError(messageOf(e)));
    return () => {
      alive = false;
    };
  }, [api, days]);

  const totals = (buckets ?? []).reduce(
    (t, b) => ({
      runs: t.runs + b.runs,
      prompt: t.prompt + b.promptTokens,
      completion: t.completion + b.completionTokens,
      cost: b.costUsd === null ? t.cost : (t.cost ?? 0) + b.costUsd,
    }),
    { runs: 0, prompt: 0, completion: 0, cost: null as number | null },
  );

  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Token usage</h2>
      <label className="inline">
        Period{' '}
        <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={7}>7 days</option>
          <option value={30}>30 days</option>
          <option value={90}>90 days</option>
        </select>
      </label>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {buckets && (
        <>
          <dl className="stats">
            <div>
              <dt>Runs</dt>
              <dd>{formatCount(totals.runs)}</dd>
            </div>
            <div>
              <dt>Prompt tokens</dt>
              <dd>{formatCount(totals.prompt)}</dd>
            </div>
            <div>
              <dt>Completion tokens</dt>
              <dd>{formatCount(totals.completion)}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd>{totals.cost === null ? '—' : formatCost(totals.cost)}</dd>
            </div>
          </dl>
          <UsageChart buckets={buckets} />
          <details>
            <summary>The numbers</summary>
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Usage per day">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Day (UTC)</th>
                    <th scope="col">Runs</th>
                    <th scope="col">Prompt</th>
                    <th scope="col">Completion</th>
                    <th scope="col">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {buckets
                    .filter((b) => b.runs > 0)
                    .map((b) => (
                      <tr key={b.day}>
                        <td>{b.day}</td>
                        <td>{b.runs}</td>
                        <td>{formatCount(b.promptTokens)}</td>
                        <td>{formatCount(b.completionTokens)}</td>
                        <td>{formatCost(b.costUsd)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </details>
        </>
      )}
    </section>
  );
}
