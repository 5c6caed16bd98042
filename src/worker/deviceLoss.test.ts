import { describe, expect, it } from 'vitest';
import { lostReason, type ProbedDevice } from './deviceLoss';

/** A device whose `lost` settles as given and whose buffers map or are refused as given. */
function device(lost: Promise<GPUDeviceLostInfo>, maps: boolean): ProbedDevice & { destroyed: number } {
  const fake = {
    destroyed: 0,
    lost,
    createBuffer: () =>
      ({
        mapAsync: () => (maps ? Promise.resolve() : Promise.reject(new Error('Device is lost'))),
        destroy: () => {
          fake.destroyed += 1;
        },
      }) as unknown as GPUBuffer,
  };
  return fake;
}

const never = new Promise<GPUDeviceLostInfo>(() => undefined);

describe('lostReason', () => {
  it('is null for a device that still maps a buffer', async () => {
    const live = device(never, true);
    expect(await lostReason(live)).toBeNull();
    expect(live.destroyed).toBe(1);
  });

  it('finds a lost device whose lost promise has not settled yet', async () => {
    const dead = device(never, false);
    expect(await lostReason(dead)).toBe('the device refused work: Device is lost');
    expect(dead.destroyed).toBe(1);
  });

  it("gives the browser's reason once lost has settled", async () => {
    const info = { reason: 'destroyed', message: 'Device was destroyed.' } as GPUDeviceLostInfo;
    expect(await lostReason(device(Promise.resolve(info), false))).toBe('Device was destroyed.');
  });
});
