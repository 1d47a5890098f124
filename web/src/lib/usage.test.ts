import { describe, expect, it } from 'vitest';
import { fillDays, niceMax } from './usage';

describe('usage', () => {
  it('fills missing days with zeros, oldest first', () => {
    const now = Date.UTC(2026, 10, 23, 12);
    const out = fillDays([{ day: '2026-11-22', runs: 2, promptTokens: 10, completionTokens: 5, costUsd: null }], 3, now);
    expect(out.map((b) => [b.day, b.runs])).toEqual([
      ['2026-11-21', 0],
      ['2026-11-22', 2],
      ['2026-11-23', 0],
    ]);
  });
  it('rounds axis maxima', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(130)).toBe(200);
    expect(niceMax(4200)).toBe(5000);
  });
});
