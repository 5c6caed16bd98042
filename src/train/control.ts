/**
 * How a run is steered from outside while it trains: pause, resume and stop
 * take effect between two steps, and the run's own sense of time stops while
 * it is paused, so speeds and epoch times mean compute time.
 */
import { systemClock, type Clock } from '../clock';

export class RunControl {
  private pausedMs = 0;
  private pausedSince: number | null = null;
  private stopRequested = false;
  private wakeUp: (() => void) | undefined;
  /** The run's time when it was created, i.e. when Train was pressed (the worker makes one per run). */
  private readonly createdAt: number;

  constructor(private readonly clock: Clock = systemClock) {
    this.createdAt = clock.now();
  }

  /** Milliseconds of the run's time: the clock with every pause taken out. */
  now(): number {
    const now = this.clock.now();
    return now - this.pausedMs - (this.pausedSince === null ? 0 : now - this.pausedSince);
  }

  /** The run's time since it was created, pauses excluded. Unit: ms. */
  elapsed(): number {
    return this.now() - this.createdAt;
  }

  get paused(): boolean {
    return this.pausedSince !== null;
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Returns false when there was nothing to change (already paused, or stopping). */
  pause(): boolean {
    if (this.paused || this.stopRequested) return false;
    this.pausedSince = this.clock.now();
    return true;
  }

  /** Returns false when the run was not paused. */
  resume(): boolean {
    if (this.pausedSince === null) return false;
    this.pausedMs += this.clock.now() - this.pausedSince;
    this.pausedSince = null;
    this.wakeUp?.();
    this.wakeUp = undefined;
    return true;
  }

  /** Ends training after the current step (a paused run wakes up to end). */
  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  /** Awaited before every step: waits while paused; true when the run is to end here. */
  async beforeStep(): Promise<boolean> {
    if (this.paused) await new Promise<void>((resolve) => (this.wakeUp = resolve));
    return this.stopRequested;
  }
}
