/**
 * Time as the code sees it. Everything that runs on a cadence or a timeout
 * (metric reads, throughput, stall and open timeouts) takes a Clock, so tests
 * drive a ManualClock and never race the wall clock of a busy machine.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  /** Calls `callback` once `ms` milliseconds have passed on this clock; returns a function that cancels it. */
  after(ms: number, callback: () => void): () => void;
}

export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  after(ms: number, callback: () => void) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
});

/**
 * A clock that moves only when told to. Written here rather than using
 * Vitest's fake timers, which replace the globals (setTimeout, setImmediate,
 * performance) that TensorFlow.js and the training loop's yielding also use.
 */
export class ManualClock implements Clock {
  private time = 0;
  private readonly due: { at: number; callback: () => void }[] = [];

  /** `tick`: milliseconds every `now()` call moves the clock on, so durations are never 0. Unit: ms. */
  constructor(private readonly tick = 0) {}

  now(): number {
    this.time += this.tick;
    return this.time;
  }

  after(ms: number, callback: () => void): () => void {
    const entry = { at: this.time + ms, callback };
    this.due.push(entry);
    return () => {
      const i = this.due.indexOf(entry);
      if (i >= 0) this.due.splice(i, 1);
    };
  }

  /** Moves the clock on by `ms`, calling the callbacks that fall due, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.due.filter((d) => d.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.due.splice(this.due.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = end;
  }

  /** Callbacks still waiting. */
  get pending(): number {
    return this.due.length;
  }
}

/**
 * For tests that drive a ManualClock: lets pending work run, one macrotask
 * at a time (never by waiting on the wall clock), until `condition` holds.
 * Node only (setImmediate).
 */
export async function until(condition: () => boolean, maxTurns = 10_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`The condition did not hold within ${maxTurns} turns of the event loop`);
}
