/** A tool's structured result: a table when it is a list of records, else YAML; the reader can switch. */
import { useMemo, useState } from 'react';
import type { Json } from '../api/types';
import { tableOf, toYaml } from '../lib/structured';

/** Shows `value` as a table or YAML. */
export function StructuredView({ value, label }: { value: Json; label: string }) {
  const table = useMemo(() => tableOf(value), [value]);
  const yaml = useMemo(() => toYaml(value), [value]);
  const [mode, setMode] = useState<'table' | 'yaml'>(table ? 'table' : 'yaml');
  return (
    <div className="structured">
      {table && (
        <div className="seg" role="group" aria-label={`${label}: view as`}>
          <button type="button" aria-pressed={mode === 'table'} onClick={() => setMode('table')}>
            Table
          </button>
          <button type="button" aria-pressed={mode === 'yaml'} onClick={() => setMode('yaml')}>
            YAML
          </button>
        </div>
      )}
      {mode === 'table' && table ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`${label} table`}>
          <table>
            {table.path && <caption>{table.path}</caption>}
            <thead>
              <tr>
                {table.columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {table.more > 0 && <p className="muted">…and {table.more} more rows (see YAML).</p>}
        </div>
      ) : (
        <pre className="yaml" tabIndex={0} aria-label={`${label} as YAML`}>
          {yaml}
        </pre>
      )}
    </div>
  );
}
