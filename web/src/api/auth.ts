/**
 * The session: the access token lives in memory only; the refresh token is an HttpOnly cookie the
 * browser sends to `/api/v1/auth/*`. Refreshes are single-flight (and serialised across tabs with the
 * Web Locks API where available), because presenting a rotated refresh token twice makes the server
 * revoke the whole session family. A request answered 401 is retried once after a refresh; the token is
 * also refreshed a minute before it expires.
 */
import { ApiError, errorFrom } from './errors';
import type { Session, User } from './types';

/** Where the session is. */
export type AuthState =
  | { kind: 'loading' }
  | { kind: 'anonymous' }
  | { kind: 'expired'; message: string }
  | { kind: 'signed_in'; user: User };

/** What the client needs from its environment (replaceable in tests). */
export interface AuthEnv {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  now: () => number;
  setTimer: (fn: () => void, ms: number) => unknown;
  clearTimer: (handle: unknown) => void;
  /** Runs `fn` holding a lock shared by every tab (or just runs it). */
  withLock: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

function browserEnv(): AuthEnv {
  return {
    fetch: (input, init) => fetch(input, init),
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    withLock: (name, fn) => {
      const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
      return locks ? locks.request(name, fn) : fn();
    },
  };
}

/** The session and authenticated `fetch`. */
export class AuthClient {
  private readonly env: AuthEnv;
  private token: string | null = null;
  private expiresAt = 0;
  private timer: unknown = null;
  private inflight: Promise<boolean> | null = null;
  private current: AuthState = { kind: 'loading' };
  private readonly listeners = new Set<(s: AuthState) => void>();

  constructor(env: Partial<AuthEnv> = {}) {
    this.env = { ...browserEnv(), ...env };
  }

  /** The current state. */
  get state(): AuthState {
    return this.current;
  }

  /** The signed-in user, if any. */
  get user(): User | null {
    return this.current.kind === 'signed_in' ? this.current.user : null;
  }

  /** The access token (memory only), for requests made outside [`AuthClient.fetch`]. */
  get accessToken(): string | null {
    return this.token;
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  subscribe(listener: (s: AuthState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: AuthState): void {
    this.current = state;
    for (const l of this.listeners) l(state);
  }

  private accept(s: Session): void {
    this.token = s.accessToken;
    this.expiresAt = this.env.now() + s.expiresIn * 1000;
    this.schedule(s.expiresIn * 1000);
    this.set({ kind: 'signed_in', user: s.user });
  }

  private schedule(lifetimeMs: number): void {
    if (this.timer !== null) this.env.clearTimer(this.timer);
    const wait = Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs * 0.8, 1_000);
    this.timer = this.env.setTimer(() => {
      this.timer = null;
      void this.refresh();
    }, wait);
  }

  private forget(): void {
    this.token = null;
    this.expiresAt = 0;
    if (this.timer !== null) this.env.clearTimer(this.timer);
    this.timer = null;
  }

  /** On app load: restores the session from the refresh cookie, if there is one. */
  async restore(): Promise<void> {
    const ok = await this.refresh({ quiet: true });
    if (!ok && this.current.kind === 'loading') this.set({ kind: 'anonymous' });
  }

  /** Logs in; throws an [`ApiError`] with the server's message on failure. */
  async login(username: string, password: string): Promise<User> {
    let res: Response;
    try {
      res = await this.env.fetch('/api/v1/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    } catch {
      throw new ApiError(0, 'network', 'the server cannot be reached; check that Binnacle is running');
    }
    if (!res.ok) throw await errorFrom(res);
    const s = (await res.json()) as Session;
    this.accept(s);
    return s.user;
  }

  /**
   * Exchanges the refresh cookie for a new access token. Concurrent callers share one request. Returns
   * false when the session is over (then the state is `expired`, or `anonymous` when `quiet`).
   */
  refresh(opts: { quiet?: boolean } = {}): Promise<boolean> {
    if (!this.inflight) {
      this.inflight = this.env
        .withLock('binnacle-refresh', () => this.doRefresh(opts.quiet ?? false))
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }

  private async doRefresh(quiet: boolean): Promise<boolean> {
    let res: Response;
    try {
      res = await this.env.fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' });
    } catch {
      // The network is down: keep the session and try again shortly.
      if (this.token) this.schedule(REFRESH_MARGIN_MS / 2 + REFRESH_MARGIN_MS);
      if (this.current.kind === 'loading') this.set({ kind: 'anonymous' });
      return false;
    }
    if (res.ok) {
      this.accept((await res.json()) as Session);
      return true;
    }
    const err = await errorFrom(res);
    const wasSignedIn = this.current.kind === 'signed_in';
    this.forget();
    if (quiet || !wasSignedIn) this.set({ kind: 'anonymous' });
    else this.set({ kind: 'expired', message: err.message });
    return false;
  }

  /** Ends the session here and on the server. */
  async logout(): Promise<void> {
    this.forget();
    try {
      await this.env.fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin' });
    } catch {
      // Signed out locally either way.
    }
    this.set({ kind: 'anonymous' });
  }

  /**
   * `fetch` with the access token: refreshes first when the token is about to expire, and once more
   * (retrying the request) when the server answers 401.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (this.token && this.env.now() > this.expiresAt - 5_000) await this.refresh();
    const send = () => {
      const headers = new Headers(init.headers);
      if (this.token) headers.set('authorization', `Bearer ${this.token}`);
      return this.env.fetch(path, { ...init, headers, credentials: 'same-origin' });
    };
    let res: Response;
    try {
      res = await send();
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', 'the server cannot be reached; retry in a moment');
    }
    if (res.status !== 401 || this.current.kind !== 'signed_in') return res;
    if (!(await this.refresh())) return res;
    return send();
  }
}
