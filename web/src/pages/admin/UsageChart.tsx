/** Tokens per day as stacked SVG bars (prompt and completion), with a data table for screen readers. */
import type { UsageBucket } from '../../api/types';
import { formatCount } from '../../lib/format';
import { niceMax } from '../../lib/usage';

const W = 720;
const H = 240;
const PAD = { left: 56, right: 8, top: 12, bottom: 28 };

/** The chart of `buckets` (one per day, oldest first). */
export function UsageChart({ buckets }: { buckets: UsageBucket[] }) {
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.promptTokens + b.completionTokens)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / Math.max(1, buckets.length);
  const bar = Math.max(2, step * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const labelEvery = Math.ceil(buckets.length / 8);
  const total = buckets.reduce((s, b) => s + b.promptTokens + b.completionTokens, 0);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Tokens per day over ${buckets.length} days: ${formatCount(total)} in total`} preserveAspectRatio="xMidYMid meet">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={PAD.left - 6} y={y(t) + 4} textAnchor="end" className="axis">
              {formatCount(Math.round(t))}
            </text>
          </g>
        ))}
        {buckets.map((b, i) => {
          const x = PAD.left + i * step + (step - bar) / 2;
          const pTop = y(b.promptTokens);
          const cTop = y(b.promptTokens + b.completionTokens);
          return (
            <g key={b.day}>
              <title>{`${b.day}: ${formatCount(b.promptTokens)} prompt, ${formatCount(b.completionTokens)} completion tokens, ${b.runs} runs`}</title>
              <rect x={x} y={pTop} width={bar} height={PAD.top + plotH - pTop} className="bar-prompt" />
              <rect x={x} y={cTop} width={bar} height={pTop - cTop} className="bar-completion" />
              {i % labelEvery === 0 && (
                <text x={x + bar / 2} y={H - 8} textAnchor="middle" className="axis">
                  {b.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        <span className="key key-prompt" aria-hidden="true" /> prompt tokens <span className="key key-completion" aria-hidden="true" /> completion tokens
      </figcaption>
    </figure>
  );
}
