import { describe, expect, it } from 'vitest';
import { AuthClient, type AuthEnv } from './auth';

const user = { id: 'u1', username: 'admin', role: 'admin' as const, disabled: false, createdAt: 0 };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** A fake server: the refresh cookie is a counter; presenting an old one fails like the real server. */
function fakeServer() {
  let cookie = 0;
  let tokenSerial = 0;
  let validToken = '';
  const calls: string[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let now = 1_000_000;
  const issue = () => {
    cookie += 1;
    tokenSerial += 1;
    validToken = `t${tokenSerial}`;
    return json(200, { accessToken: validToken, tokenType: 'Bearer', expiresIn: 900, user });
  };
  const env: Partial<AuthEnv> = {
    now: () => now,
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: () => {},
    withLock: (_n, fn) => fn(),
    fetch: async (url, init) => {
      const auth = new Headers(init?.headers).get('authorization');
      calls.push(`${init?.method ?? 'GET'} ${url}${auth ? ` ${auth}` : ''}`);
      await Promise.resolve();
      if (url.endsWith('/auth/login')) return issue();
      if (url.endsWith('/auth/refresh')) {
        if (cookie === 0) return json(401, { error: { code: 'session_expired', message: 'no refresh cookie; log in again' } });
        return issue();
      }
      if (url.endsWith('/auth/logout')) {
        cookie = 0;
        return new Response(null, { status: 204 });
      }
      if (auth !== `Bearer ${validToken}`) {
        return json(401, { error: { code: 'token_expired', message: 'the access token expired' } });
      }
      return json(200, { ok: true });
    },
  };
  return {
    env,
    calls,
    timers,
    expireToken: () => {
      validToken = 'none';
    },
    endSession: () => {
      cookie = 0;
      validToken = 'none';
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('AuthClient', () => {
  it('restores nothing without a cookie and shows the login', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.restore();
    expect(a.state).toEqual({ kind: 'anonymous' });
  });

  it('logs in, keeps the token in memory and sends it', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    expect(a.state).toEqual({ kind: 'signed_in', user });
    const res = await a.fetch('/api/v1/conversations');
    expect(res.status).toBe(200);
    expect(s.calls.at(-1)).toBe('GET /api/v1/conversations Bearer t1');
  });

  it('refreshes silently on 401 and retries the request once', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    s.expireToken();
    const res = await a.fetch('/api/v1/conversations');
    expect(res.status).toBe(200);
    expect(s.calls.slice(-3)).toEqual([
      'GET /api/v1/conversations Bearer t1',
      'POST /api/v1/auth/refresh',
      'GET /api/v1/conversations Bearer t2',
    ]);
  });

  it('shares one refresh between concurrent requests', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    s.expireToken();
    const results = await Promise.all([a.fetch('/a'), a.fetch('/b'), a.fetch('/c')]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(s.calls.filter((c) => c.includes('/auth/refresh'))).toHaveLength(1);
  });

  it('schedules a refresh a minute before expiry', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    expect(s.timers.at(-1)?.ms).toBe(840_000);
    s.timers.at(-1)?.fn();
    await a.refresh();
    expect(a.accessToken).toBe('t2');
  });

  it('refreshes before sending when the token is about to expire', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    s.advance(899_000);
    await a.fetch('/x');
    expect(s.calls.slice(-2)).toEqual(['POST /api/v1/auth/refresh', 'GET /x Bearer t2']);
  });

  it('says the session expired when the refresh fails', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    s.endSession();
    const res = await a.fetch('/x');
    expect(res.status).toBe(401);
    expect(a.state).toEqual({ kind: 'expired', message: 'no refresh cookie; log in again' });
    expect(a.accessToken).toBeNull();
  });

  it('logs out on the server and forgets the token', async () => {
    const s = fakeServer();
    const a = new AuthClient(s.env);
    await a.login('admin', 'pw');
    await a.logout();
    expect(a.state).toEqual({ kind: 'anonymous' });
    expect(a.accessToken).toBeNull();
    expect(s.calls.at(-1)).toBe('POST /api/v1/auth/logout');
    await a.restore();
    expect(a.state).toEqual({ kind: 'anonymous' });
  });

  it('reports a wrong password with the server message', async () => {
    const s = fakeServer();
    const env = { ...s.env, fetch: async () => json(401, { error: { code: 'unauthorized', message: 'wrong username or password' } }) };
    const a = new AuthClient(env);
    await expect(a.login('admin', 'nope')).rejects.toMatchObject({ status: 401, message: 'wrong username or password' });
  });
});
