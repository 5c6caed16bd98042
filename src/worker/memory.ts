import * as tf from '@tensorflow/tfjs';
import type { MemoryInfo } from '../run/records';

/** The worker's tensors now, sent with metrics and classifications so that a leak shows on the page. */
export function tensorMemory(): MemoryInfo {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  const info: MemoryInfo = { numTensors: m.numTensors, numBytes: m.numBytes };
  if (m.numBytesInGPU !== undefined) info.gpuBytes = m.numBytesInGPU;
  return info;
}
