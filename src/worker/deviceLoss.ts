/**
 * Whether a WebGPU device is lost, asked of the device itself. A run's error
 * can arrive before the device's `lost` promise has settled (the browser
 * resolves it in a task of its own), so a flag set from `lost` alone could
 * take a lost device for a healthy one and fail the run instead of resuming
 * it. A 4-byte buffer mapped for reading settles either way: it maps on a
 * live device and is refused on a lost one.
 */
export type ProbedDevice = Pick<GPUDevice, 'lost' | 'createBuffer'>;

/** GPUBufferUsage.MAP_READ and GPUMapMode.READ (WebGPU spec): numbers, so this file runs where WebGPU's globals do not. */
const MAP_READ_USAGE = 0x0001;
const MAP_MODE_READ = 0x0001;

/** Why the device is lost, or null while it still does work. */
export async function lostReason(device: ProbedDevice): Promise<string | null> {
  const lost = device.lost.then((info) => info.message || info.reason || 'unknown reason');
  const alive = (async () => {
    const probe = device.createBuffer({ size: 4, usage: MAP_READ_USAGE });
    try {
      await probe.mapAsync(MAP_MODE_READ);
      return null;
    } catch (error) {
      return `the device refused work: ${(error as Error).message}`;
    } finally {
      probe.destroy();
    }
  })();
  return Promise.race([lost, alive]);
}
