import { describe, expect, it } from 'vitest';
import { frameBatcher } from './batch';

describe('frameBatcher', () => {
  function manual() {
    let pending: (() => void) | null = null;
    const schedule = (fn: () => void) => {
      pending = fn;
      return () => {
        pending = null;
      };
    };
    return { schedule, tick: () => pending?.() };
  }

  it('delivers everything pushed before the frame in one batch, in order', () => {
    const m = manual();
    const got: number[][] = [];
    const b = frameBatcher<number>((xs) => got.push(xs), m.schedule);
    b.push(1);
    b.push(2);
    b.push(3);
    expect(got).toEqual([]);
    m.tick();
    b.push(4);
    m.tick();
    expect(got).toEqual([[1, 2, 3], [4]]);
  });

  it('flushes at once on demand and drops on cancel', () => {
    const m = manual();
    const got: number[][] = [];
    const b = frameBatcher<number>((xs) => got.push(xs), m.schedule);
    b.push(1);
    b.flush();
    b.push(2);
    b.cancel();
    m.tick();
    expect(got).toEqual([[1]]);
  });
});
