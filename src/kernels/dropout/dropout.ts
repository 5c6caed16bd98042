// Dropout in training as one kernel of our own, forward and backward, for
// WebGPU (one dispatch each way), WebGL (one draw each way), and WASM and the
// CPU (a JavaScript loop over the backend's memory).
//
// tfjs's dropout draws its mask with Math.random on the CPU and uploads it
// (a new GPU buffer every step), then spends three kernels making the
// multiplier and one applying it; its gradient is one more. Here element i is
// kept when a hash of (seed, i) clears the rate, so the mask is a pure
// function of the step's seed: computed where the data is, recomputed for the
// gradient instead of stored, and the same on every backend that has the
// kernel. Same distribution and scaling as tfjs: kept values × 1/(1 − rate).
// On the CPU backends the mask also makes a run repeatable (tfjs-layers'
// Dropout draws from Math.random), and `offset` lets a data-parallel replica
// (../../train/replicas.ts) take its rows of the whole batch's mask, so one
// worker and two drop the same elements.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { flatIndexSnippet, runWebGL, type WebGLProgram } from '../backend/webgl-program';

export const DROPOUT = 'CifarDropout';

interface DropoutAttrs {
  /** Share of elements dropped, in [0, 1). */
  rate: number;
  /** 32-bit seed of the mask. */
  seed: number;
  /** Index of this tensor's first element in the whole batch's tensor (a replica's share); 0 on the GPUs. */
  offset: number;
}

/** An integer hash with good avalanche (C. Wellons' "lowbias32"), the same in JS and WGSL. */
export function hash32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Whether element `index` survives: the hash's top 24 bits as a uniform draw in [0, 1), kept when ≥ rate. */
export function kept(seed: number, index: number, rate: number): boolean {
  return (hash32((seed ^ hash32(index)) >>> 0) >>> 8) / 16_777_216 >= rate;
}

/** 1/(1 − rate) rounded as tfjs's float32 division makes it. */
const scaleOf = (rate: number): number => Math.fround(1 / Math.fround(1 - rate));

class DropoutProgram implements WebGPUProgram {
  variableNames = ['x'];
  outputShape: number[];
  shaderKey = 'cifarDropout';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'seed : u32, rate : f32, scale : f32,';
  size = true;

  constructor(size: number) {
    this.outputShape = [size];
    this.dispatch = [Math.ceil(size / 64), 1, 1];
  }

  getUserCode(): string {
    return `
      fn hash32(v : u32) -> u32 {
        var x = v;
        x = x ^ (x >> 16u);
        x = x * 0x7feb352du;
        x = x ^ (x >> 15u);
        x = x * 0x846ca68bu;
        x = x ^ (x >> 16u);
        return x;
      }
      fn main(index : i32) {
        if (index < uniforms.size) {
          let u = f32(hash32(uniforms.seed ^ hash32(u32(index))) >> 8u) / 16777216.0;
          result[index] = select(0.0, x[index] * uniforms.scale, u >= uniforms.rate);
        }
      }
    `;
  }
}

function attrsOf(attrs: NamedAttrMap | undefined): DropoutAttrs {
  const { rate, seed, offset = 0 } = (attrs ?? {}) as Partial<DropoutAttrs>;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new RangeError(`Dropout rate must be in [0, 1), got ${rate}`);
  if (typeof seed !== 'number') throw new TypeError('Dropout needs a seed');
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`Dropout offset must be a whole number, got ${offset}`);
  return { rate, seed: seed >>> 0, offset };
}

/** The GPU programs hash the element's own index: replicas (the only offsets) train on the CPU backends. */
function onGpu(attrs: NamedAttrMap | undefined): DropoutAttrs {
  const a = attrsOf(attrs);
  if (a.offset !== 0) throw new RangeError('Dropout with an element offset runs on wasm and cpu only (data-parallel replicas)');
  return a;
}

type Impl = (args: { inputs: { x?: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }) => TensorInfo;

const webgpuDropout: Impl = ({ inputs, backend, attrs }) => {
  const { rate, seed } = onGpu(attrs);
  const x = inputs.x as TensorInfo;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const uniforms = [
    { type: 'uint32', data: [seed] },
    { type: 'float32', data: [rate] },
    { type: 'float32', data: [scaleOf(rate)] },
  ];
  const out = (backend as unknown as WebGPUBackend).runWebGPUProgram(
    new DropoutProgram(size),
    [{ ...x, shape: [size] }],
    'float32',
    uniforms,
  );
  return { ...out, shape: x.shape };
};

/**
 * The same hash in GLSL ES 3.00 (uint arithmetic wraps mod 2³², as in WGSL and Math.imul). The seed
 * comes in as two 16-bit ints: GLSL leaves the conversion of a negative int to uint undefined.
 */
function webglDropoutProgram(shape: number[]): WebGLProgram {
  return {
    variableNames: ['x'],
    outputShape: shape,
    customUniforms: [
      { name: 'seedHigh', type: 'int' },
      { name: 'seedLow', type: 'int' },
      { name: 'rate', type: 'float' },
      { name: 'scale', type: 'float' },
    ],
    userCode: `
      uint hash32(uint v) {
        uint x = v;
        x ^= x >> 16u;
        x *= 0x7feb352du;
        x ^= x >> 15u;
        x *= 0x846ca68bu;
        x ^= x >> 16u;
        return x;
      }
      void main() {
        ${flatIndexSnippet(shape)}
        uint seed = (uint(seedHigh) << 16u) | uint(seedLow);
        float u = float(hash32(seed ^ hash32(uint(index))) >> 8u) / 16777216.0;
        setOutput(u >= rate ? getXAtOutCoords() * scale : 0.0);
      }
    `,
  };
}

const webglDropout: Impl = ({ inputs, backend, attrs }) => {
  const { rate, seed } = onGpu(attrs);
  const x = inputs.x as TensorInfo;
  return runWebGL(backend, webglDropoutProgram(x.shape), [x], [[seed >>> 16], [seed & 0xffff], [rate], [scaleOf(rate)]]);
};

/** The loop of the CPU backends, through the generic readSync/write (on wasm: a copy out of the heap and one back). */
const cpuDropout: Impl = ({ inputs, backend, attrs }) => {
  const { rate, seed, offset } = attrsOf(attrs);
  const x = inputs.x as TensorInfo;
  const values = backend.readSync(x.dataId) as Float32Array;
  const scale = scaleOf(rate);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = kept(seed, offset + i, rate) ? Math.fround((values[i] as number) * scale) : 0;
  return { dataId: backend.write(out, x.shape, 'float32'), shape: x.shape, dtype: 'float32' };
};

const IMPLS: Partial<Record<string, Impl>> = { webgpu: webgpuDropout, webgl: webglDropout, wasm: cpuDropout, cpu: cpuDropout };

/** The kernel's configs for the backends that have it (webgpu, webgl, wasm, cpu). */
export function dropoutKernels(backendName: string): KernelConfig[] {
  const impl = IMPLS[backendName];
  return impl ? [{ kernelName: DROPOUT, backendName, kernelFunc: impl as unknown as KernelConfig['kernelFunc'] }] : [];
}

/**
 * Dropout of `x` with the mask of `seed`, from element `offset` of it on; its
 * gradient passes dy through the same mask. Needs the kernel registered for
 * the current backend.
 */
export function dropoutTraining(x: tf.Tensor, rate: number, seed: number, offset = 0): tf.Tensor {
  const apply = (t: tf.Tensor) => tf.engine().runKernel(DROPOUT, { x: t }, { rate, seed, offset }) as tf.Tensor;
  const op = tf.customGrad((input) => ({ value: apply(input as tf.Tensor), gradFunc: (dy) => apply(dy as tf.Tensor) }));
  return op(x);
}
