// A training batch's way in on WebGPU: standardisation, grayscale and the
// flip-and-shift augmentation as one kernel of ours, reading pixels and
// parameters from buffers that stay on the device and are overwritten each
// step (writeBuffer) instead of uploaded as new tensors.
//
// The unfused path (toModelInput then augmentBatch) costs four to six kernels
// and, on WebGPU, a new staging buffer for every upload: the pixels, the
// labels, the gather's indices and the statistics each step. Same numbers as
// that path: out(b, i, j) = standardised pixel (i − dy, j − dx) of image b,
// mirrored first when flipped, 0 (the mean colour) where that falls outside.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { LUMA_WEIGHTS, luma } from '../../data/grayscale';
import type { ChannelStats } from '../../data/preprocess';
import type { ColorMode } from '../../model/config';
import type { AugmentParams } from '../../train/augment';

export const BATCH_INPUT = 'CifarBatchInput';

interface BatchInputAttrs {
  color: ColorMode;
  /** Per channel, 0–255 scale (R, G, B; gray uses their luma). */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** One row per image: flip (0/1), dx, dy, as int32. */
export function paramsRows(params: AugmentParams, out: Int32Array): Int32Array {
  params.flip.forEach((flip, b) => {
    out[3 * b] = flip;
    out[3 * b + 1] = params.dx[b] as number;
    out[3 * b + 2] = params.dy[b] as number;
  });
  return out;
}

class BatchInputProgram implements WebGPUProgram {
  variableNames = ['x', 'params'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'm0 : f32, m1 : f32, m2 : f32, s0 : f32, s1 : f32, s2 : f32,';
  size = true;

  constructor(
    shape: [number, number, number, number],
    private readonly gray: boolean,
  ) {
    this.outputShape = shape;
    this.shaderKey = `cifarBatchInput_${gray ? 'gray' : 'rgb'}`;
    this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / 64), 1, 1];
  }

  getUserCode(): string {
    // Gray follows grayscaleTensor's order of operations: (r·w₀ + g·w₁) + b·w₂.
    const [w0, w1, w2] = LUMA_WEIGHTS.map((w) => w.toFixed(3));
    const value = this.gray
      ? `((x[base] * ${w0} + x[base + 1] * ${w1}) + x[base + 2] * ${w2} - uniforms.m0) / uniforms.s0`
      : `(x[base + c] - select(select(uniforms.m2, uniforms.m1, c == 1), uniforms.m0, c == 0)) /
           select(select(uniforms.s2, uniforms.s1, c == 1), uniforms.s0, c == 0)`;
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let channels = uniforms.outShape[3];
          let width = uniforms.outShape[2];
          let height = uniforms.outShape[1];
          let c = index % channels;
          let pixel = index / channels;
          let j = pixel % width;
          let i = (pixel / width) % height;
          let b = pixel / (width * height);
          let dx = params[3 * b + 1];
          let row = i - params[3 * b + 2];
          let col = select(j - dx, dx + width - 1 - j, params[3 * b] != 0);
          if (row < 0 || row >= height || col < 0 || col >= width) {
            result[index] = 0.0;
            return;
          }
          let base = ((b * height + row) * width + col) * 3;
          result[index] = ${value};
        }
      }
    `;
  }
}

/** The statistics the kernel subtracts and divides by: per channel, or their luma for gray. */
function statistics(attrs: BatchInputAttrs): { mean: number[]; std: number[] } {
  return attrs.color === 'gray'
    ? { mean: [luma(attrs.mean), 0, 0], std: [luma(attrs.std), 1, 1] }
    : { mean: [...attrs.mean], std: [...attrs.std] };
}

type Impl = (args: { inputs: { x?: TensorInfo; params?: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }) => TensorInfo;

function outputShape(x: TensorInfo, attrs: BatchInputAttrs): [number, number, number, number] {
  const [batch, height, width] = x.shape as [number, number, number, number];
  return [batch, height, width, attrs.color === 'gray' ? 1 : 3];
}

const webgpuBatchInput: Impl = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as BatchInputAttrs;
  const { mean, std } = statistics(a);
  const uniforms = [...mean, ...std].map((v) => ({ type: 'float32', data: [v] }));
  const program = new BatchInputProgram(outputShape(inputs.x as TensorInfo, a), a.color === 'gray');
  return (backend as unknown as WebGPUBackend).runWebGPUProgram(
    program,
    [inputs.x as TensorInfo, inputs.params as TensorInfo],
    'float32',
    uniforms,
  );
};

const cpuBatchInput: Impl = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as BatchInputAttrs;
  const f = Math.fround;
  const { mean, std } = statistics(a);
  const x = backend.readSync((inputs.x as TensorInfo).dataId) as Float32Array;
  const params = backend.readSync((inputs.params as TensorInfo).dataId) as Int32Array;
  const shape = outputShape(inputs.x as TensorInfo, a);
  const [, height, width, channels] = shape;
  const out = new Float32Array(shape.reduce((p, q) => p * q, 1));
  const [w0, w1, w2] = LUMA_WEIGHTS.map(f) as [number, number, number];
  for (let index = 0; index < out.length; index++) {
    const c = index % channels;
    const pixel = Math.floor(index / channels);
    const j = pixel % width;
    const i = Math.floor(pixel / width) % height;
    const b = Math.floor(pixel / (width * height));
    const dx = params[3 * b + 1] as number;
    const row = i - (params[3 * b + 2] as number);
    const col = params[3 * b] !== 0 ? dx + width - 1 - j : j - dx;
    if (row < 0 || row >= height || col < 0 || col >= width) continue;
    const base = ((b * height + row) * width + col) * 3;
    const v =
      a.color === 'gray'
        ? f(f(f(f(x[base] as number) * w0) + f((x[base + 1] as number) * w1)) + f((x[base + 2] as number) * w2))
        : (x[base + c] as number);
    out[index] = f(f(v - f(mean[c] as number)) / f(std[c] as number));
  }
  return { dataId: backend.write(out, shape, 'float32'), shape, dtype: 'float32' };
};

/** The kernel's configs for the backends that have it (webgpu, cpu). */
export function batchInputKernels(backendName: string): KernelConfig[] {
  const impl = backendName === 'webgpu' ? webgpuBatchInput : backendName === 'cpu' ? cpuBatchInput : null;
  return impl ? [{ kernelName: BATCH_INPUT, backendName, kernelFunc: impl as unknown as KernelConfig['kernelFunc'] }] : [];
}

/** Standardised (and for gray, converted) batch, flipped and shifted by `params` rows (paramsRows). */
export function batchInput(x: tf.Tensor4D, params: tf.Tensor2D, color: ColorMode, stats: ChannelStats): tf.Tensor4D {
  const attrs = { color, mean: stats.mean, std: stats.std } as unknown as NamedAttrMap;
  return tf.engine().runKernel(BATCH_INPUT, { x, params }, attrs) as tf.Tensor4D;
}
