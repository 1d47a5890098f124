/** Formatting of numbers, times and durations for display. */

const numberFmt = new Intl.NumberFormat('en');

/** 12345 → "12,345". */
export function formatCount(n: number): string {
  return numberFmt.format(n);
}

/** A duration in ms → "850 ms", "1.2 s", "2 min 5 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

/** A cost in USD → "$0.0012". */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '';
  return `$${usd < 0.01 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

/** A timestamp (ms) → local date and time. */
export function formatTime(ms: number | null | undefined): string {
  if (!ms) return '';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A timestamp (ms) → "just now", "5 min ago", "3 h ago", or a date. */
export function formatAgo(ms: number, now = Date.now()): string {
  const d = now - ms;
  if (d < 60_000) return 'just now';
  if (d < 3_600_000) return `${Math.floor(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.floor(d / 3_600_000)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/** Tool arguments in one line: `name=cart namespace=shop replicas=4`. */
export function inlineArgs(args: unknown, max = 160): string {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return args === null || args === undefined ? '' : JSON.stringify(args);
  const parts = Object.entries(args as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const s = parts.join(' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
