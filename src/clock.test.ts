import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock';

describe('ManualClock', () => {
  it('stands still unless advanced or ticking', () => {
    const still = new ManualClock();
    expect([still.now(), still.now()]).toEqual([0, 0]);
    still.advance(250);
    expect(still.now()).toBe(250);
    const ticking = new ManualClock(5);
    expect([ticking.now(), ticking.now()]).toEqual([5, 10]);
  });

  it('calls what falls due in time order, and not what was cancelled', () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    clock.after(30, () => seen.push(`b@${clock.now()}`));
    clock.after(10, () => seen.push(`a@${clock.now()}`));
    const cancel = clock.after(20, () => seen.push('cancelled'));
    cancel();
    clock.advance(15);
    expect(seen).toEqual(['a@10']);
    expect(clock.pending).toBe(1);
    clock.advance(15);
    expect(seen).toEqual(['a@10', 'b@30']);
    expect(clock.pending).toBe(0);
  });

  it('runs a callback scheduled by a callback within the same advance', () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    clock.after(10, () => clock.after(10, () => seen.push(clock.now())));
    clock.advance(25);
    expect(seen).toEqual([20]);
  });
});
