/**
 * Collects items and hands them over once per animation frame (or at once when frames do not run, as in a
 * hidden tab after a timeout), so a fast stream of deltas renders at most once per frame.
 */

/** A batcher: `push` items, `flush` to deliver now, `cancel` to drop what is queued. */
export interface Batcher<T> {
  push: (item: T) => void;
  flush: () => void;
  cancel: () => void;
}

/** Delivers pushed items to `deliver` in batches, one per frame (`schedule` replaceable in tests). */
export function frameBatcher<T>(
  deliver: (items: T[]) => void,
  schedule: (fn: () => void) => () => void = defaultSchedule,
): Batcher<T> {
  let queue: T[] = [];
  let unschedule: (() => void) | null = null;
  const flush = () => {
    unschedule?.();
    unschedule = null;
    if (queue.length === 0) return;
    const items = queue;
    queue = [];
    deliver(items);
  };
  return {
    push(item) {
      queue.push(item);
      if (!unschedule) unschedule = schedule(flush);
    },
    flush,
    cancel() {
      unschedule?.();
      unschedule = null;
      queue = [];
    },
  };
}

/** The next frame, or 100 ms when frames are not running (a background tab). */
function defaultSchedule(fn: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    fn();
  };
  const frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(once) : null;
  const timer = setTimeout(once, 100);
  return () => {
    done = true;
    if (frame !== null) cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}
