import { describe, expect, it } from 'vitest';
import { parseRoute, pathOf } from './router';

describe('router', () => {
  it('parses and writes every route', () => {
    for (const p of ['/', '/c/abc-1', '/approvals', '/admin/users', '/admin/integrations', '/admin/audit', '/admin/usage']) {
      expect(pathOf(parseRoute(p))).toBe(p);
    }
  });
  it('knows what it does not know', () => {
    expect(parseRoute('/admin/nope')).toEqual({ name: 'not_found', path: '/admin/nope' });
    expect(parseRoute('/admin')).toEqual({ name: 'admin', tab: 'users' });
    expect(parseRoute('/c/a%20b/')).toEqual({ name: 'chat', conversationId: 'a b' });
  });
});
