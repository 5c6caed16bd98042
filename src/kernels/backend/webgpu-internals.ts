// What our raw WebGPU work (optimizer/webgpu.ts, backend/device-slot.ts) needs of
// tfjs-backend-webgpu 4.22's WebGPUBackend beyond its public typings.
import * as tf from '@tensorflow/tfjs';

export interface WebGPUInternals {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(dataId: object): { resource: unknown } | undefined };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** The current backend, which must be webgpu. */
export function webgpuBackend(): WebGPUInternals {
  if (tf.getBackend() !== 'webgpu') throw new Error(`Needs the webgpu backend, not '${tf.getBackend()}'`);
  return tf.backend() as unknown as WebGPUInternals;
}

/**
 * Submits what tfjs has recorded and not yet submitted. Our own writeBuffer
 * and passes go on the queue at once: without this they would land before
 * tfjs work recorded earlier (which may still read the buffers we overwrite).
 */
export function submitRecorded(backend: WebGPUInternals): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** The GPU buffer holding a tensor's data (uploaded first where needed). */
export function gpuBufferOf(backend: WebGPUInternals, dataId: object): GPUBuffer {
  const resource = backend.tensorMap.get(dataId)?.resource;
  if (!(resource instanceof GPUBuffer)) throw new Error('A tensor is not held in a GPU buffer');
  return resource;
}
