// A tensor that stays on the WebGPU device and gets new contents each step
// through queue.writeBuffer: no new tensor and no staging buffer, where tfjs
// creates a fresh mapped GPU buffer for every upload of JS data.
//
// writeBuffer takes effect on the queue at once, ahead of work tfjs has
// recorded but not submitted, so tfjs's recorded work (which may still read
// last step's contents) is submitted first.
import * as tf from '@tensorflow/tfjs';
import { gpuBufferOf, submitRecorded, webgpuBackend, type WebGPUInternals } from './webgpu-internals';

export class DeviceSlot {
  /** Owned by the slot: read it in kernels, never dispose it. */
  readonly tensor: tf.Tensor;
  private readonly backend: WebGPUInternals;

  constructor(shape: number[], dtype: 'float32' | 'int32') {
    this.backend = webgpuBackend();
    this.tensor = tf.keep(tf.zeros(shape, dtype));
    this.backend.uploadToGPU(this.tensor.dataId);
  }

  /** Replaces the contents (same length as the tensor) and returns the tensor. */
  write(data: Float32Array | Int32Array): tf.Tensor {
    if (data.length !== this.tensor.size) throw new RangeError(`A slot of ${this.tensor.size} values got ${data.length}`);
    const buffer = gpuBufferOf(this.backend, this.tensor.dataId);
    submitRecorded(this.backend);
    this.backend.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return this.tensor;
  }

  dispose(): void {
    this.tensor.dispose();
  }
}
