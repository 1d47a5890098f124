import { describe, expect, it } from 'vitest';
import { expiryReason, isSecretRef } from './text';

describe('expiryReason', () => {
  it('turns the server message into a sentence without repeating "log in again"', () => {
    expect(expiryReason('the session was signed out; log in again')).toBe('The session was signed out.');
    expect(expiryReason('this account is disabled; ask an admin')).toBe('This account is disabled; ask an admin.');
    expect(expiryReason('log in again')).toBe('Your session ended.');
  });
});

describe('isSecretRef', () => {
  it('accepts namespace/name in lowercase DNS names only', () => {
    expect(isSecretRef('ci/jenkins-credentials')).toBe(true);
    expect(isSecretRef('Bad Ref')).toBe(false);
    expect(isSecretRef('ci/')).toBe(false);
    expect(isSecretRef('a/b/c')).toBe(false);
  });
});
