/** Usage buckets laid out for a chart: one entry per UTC day, zeros where nothing ran. */
import type { UsageBucket } from '../api/types';

/** `YYYY-MM-DD` (UTC) of a timestamp. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The last `days` UTC days up to `now`, each with its bucket or zeros. */
export function fillDays(buckets: UsageBucket[], days: number, now = Date.now()): UsageBucket[] {
  const byDay = new Map(buckets.map((b) => [b.day, b]));
  const out: UsageBucket[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = utcDay(now - i * 86_400_000);
    out.push(byDay.get(day) ?? { day, runs: 0, promptTokens: 0, completionTokens: 0, costUsd: null });
  }
  return out;
}

/** A round upper bound for an axis: 1, 2, 5 × 10^n at or above `max`. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}
