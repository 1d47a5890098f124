/**
 * Follows a run's events (`GET /api/v1/runs/{id}/events`) with a streaming `fetch` (EventSource cannot
 * send the Authorization header). A lost connection is retried by itself with `Last-Event-ID`, with a
 * growing pause; the stream is over after `run.finished`.
 */
import type { AuthClient } from './auth';
import { errorFrom, messageOf } from './errors';
import { SseParser } from './sse';

/** A parsed run event. */
export interface RunEvent {
  seq: number;
  event: string;
  data: unknown;
}

/** The connection's state, for the "reconnecting…" note. */
export type FollowStatus =
  | { kind: 'connecting' }
  | { kind: 'open' }
  | { kind: 'reconnecting'; attempt: number; reason: string }
  | { kind: 'done' }
  | { kind: 'failed'; message: string };

/** What to do with what arrives. */
export interface FollowHandlers {
  onEvent: (e: RunEvent) => void;
  onStatus: (s: FollowStatus) => void;
}

const MAX_PAUSE_MS = 5_000;

/** Follows run `runId` from after event `after`; returns a function that stops following. */
export function followRun(auth: AuthClient, runId: string, after: number, h: FollowHandlers): () => void {
  const abort = new AbortController();
  let last = after;
  let finished = false;
  let attempt = 0;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });

  async function once(): Promise<'finished' | 'lost' | 'fatal'> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (last > 0) headers['last-event-id'] = String(last);
    const res = await auth.fetch(`/api/v1/runs/${encodeURIComponent(runId)}/events`, {
      headers,
      signal: abort.signal,
      cache: 'no-store',
    });
    if (!res.ok) {
      const err = await errorFrom(res);
      if (res.status >= 500 || res.status === 429) throw err;
      h.onStatus({ kind: 'failed', message: err.message });
      return 'fatal';
    }
    if (!res.body) throw new Error('the browser gave no response body');
    h.onStatus({ kind: 'open' });
    attempt = 0;
    const parser = new SseParser();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const m of parser.push(value).events) {
          const seq = Number(m.id);
          if (!Number.isFinite(seq) || seq <= last) continue;
          let data: unknown = null;
          try {
            data = JSON.parse(m.data);
          } catch {
            data = m.data;
          }
          last = seq;
          h.onEvent({ seq, event: m.event, data });
          if (m.event === 'run.finished') {
            finished = true;
            return 'finished';
          }
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return 'lost';
  }

  void (async () => {
    h.onStatus({ kind: 'connecting' });
    while (!abort.signal.aborted && !finished) {
      let outcome: 'finished' | 'lost' | 'fatal';
      let reason = 'the connection closed';
      try {
        outcome = await once();
      } catch (e) {
        if (abort.signal.aborted) return;
        outcome = 'lost';
        reason = messageOf(e);
      }
      if (outcome === 'finished') {
        h.onStatus({ kind: 'done' });
        return;
      }
      if (outcome === 'fatal' || abort.signal.aborted) return;
      attempt += 1;
      h.onStatus({ kind: 'reconnecting', attempt, reason });
      await wait(Math.min(MAX_PAUSE_MS, 250 * 2 ** (attempt - 1)));
    }
  })();

  return () => abort.abort();
}
