/**
 * Epoch milliseconds that never repeat or go back within this process. Conversations have random
 * ids, so two created (or updated) in the same millisecond would otherwise tie and be listed in
 * random order; seed 002 listed by insertion order (ROWID DESC). A tie only moves a time 1 ms
 * ahead, and the clock falls back to real time as soon as writes are slower than one per ms.
 */
export class MonotonicClock {
  private last = 0;

  now(): number {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }
}
