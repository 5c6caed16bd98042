import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock';
import { RunControl } from './control';

describe('RunControl', () => {
  it('takes paused time out of the run time', () => {
    const clock = new ManualClock();
    const control = new RunControl(clock);
    clock.advance(1000);
    expect(control.now()).toBe(1000);
    expect(control.pause()).toBe(true);
    expect(control.pause()).toBe(false);
    clock.advance(5000);
    expect(control.now()).toBe(1000);
    expect(control.resume()).toBe(true);
    expect(control.resume()).toBe(false);
    clock.advance(500);
    expect(control.now()).toBe(1500);
  });

  it('counts elapsed time from its creation, pauses excluded', () => {
    const clock = new ManualClock();
    clock.advance(7000);
    const control = new RunControl(clock);
    clock.advance(2000);
    control.pause();
    clock.advance(9000);
    control.resume();
    clock.advance(500);
    expect(control.elapsed()).toBe(2500);
  });

  it('holds the next step while paused and lets it go on resume', async () => {
    const control = new RunControl(new ManualClock());
    control.pause();
    let released = false;
    const waiting = control.beforeStep().then((stop) => {
      released = true;
      return stop;
    });
    await Promise.resolve();
    expect(released).toBe(false);
    control.resume();
    expect(await waiting).toBe(false);
  });

  it('stops a paused run: it wakes up to end, and cannot be paused again', async () => {
    const control = new RunControl(new ManualClock());
    control.pause();
    const waiting = control.beforeStep();
    control.stop();
    expect(await waiting).toBe(true);
    expect(control.paused).toBe(false);
    expect(control.pause()).toBe(false);
    expect(await control.beforeStep()).toBe(true);
  });
});
