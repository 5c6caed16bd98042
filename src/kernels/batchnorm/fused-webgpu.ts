// WGSL programs of the fused BatchNorm + activation kernels (see batchnorm/fused.ts),
// run through tfjs-backend-webgpu's runWebGPUProgram. tfjs prepends the
// bindings (`result` = binding 0, then the inputs by variableNames), the
// `uniforms` struct (every input's and the output's shape, then `size` and the
// fields in `uniforms`), and calls `main(index)` with the flat invocation index.
//
// Every program takes its tensors as 2-D [rows, channels] (channels last), so
// element i belongs to channel i % channels. The pipeline layout is 'auto':
// a binding the shader never names is dropped from it and the bind group no
// longer matches, so every variant names all of its inputs.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { BnActivation } from './fused-names';

/** Threads per workgroup of the per-channel reductions (a power of two for the tree). */
const REDUCE_THREADS = 128;
/** Threads per workgroup of the elementwise programs. */
const ELEMENT_THREADS = 64;

// tfjs-backend-webgpu's computeDispatch for a flat layout, written out so that
// this module loads without the backend's package (the unit tests run on cpu).
const flatDispatch = (size: number, threads: number): [number, number, number] => [Math.ceil(size / threads), 1, 1];

/** act(z) of the forward pass. */
function activationSnippet(activation: BnActivation): string {
  switch (activation) {
    case 'elu':
      return 'fn act(z : f32) -> f32 { return select(exp(z) - 1.0, z, z >= 0.0); }';
    case 'relu':
      return 'fn act(z : f32) -> f32 { return max(z, 0.0); }';
    case 'linear':
      return 'fn act(z : f32) -> f32 { return z; }';
  }
}

/**
 * act′(z), from the pre-activation recomputed from x (ReLU's output has lost
 * it). ELU′ = exp(z) below 0 equals tfjs's EluGrad y + 1 there; ReLU′(0) = 0
 * as tfjs's step.
 */
function activationGradSnippet(activation: BnActivation): string {
  switch (activation) {
    case 'elu':
      return 'fn actGrad(z : f32) -> f32 { return select(exp(z), 1.0, z > 0.0); }';
    case 'relu':
      return 'fn actGrad(z : f32) -> f32 { return select(0.0, 1.0, z > 0.0); }';
    case 'linear':
      return 'fn actGrad(z : f32) -> f32 { return 1.0; }';
  }
}

/** Sum over the workgroup by a shared-memory tree; every thread gets the total. Call from uniform control flow. */
const workgroupSumSnippet = `
  var<workgroup> partial : array<f32, ${REDUCE_THREADS}>;
  fn workgroupSum(v : f32) -> f32 {
    partial[localIndex] = v;
    workgroupBarrier();
    for (var stride = ${REDUCE_THREADS / 2}u; stride > 0u; stride = stride / 2u) {
      if (localIndex < stride) {
        partial[localIndex] = partial[localIndex] + partial[localIndex + stride];
      }
      workgroupBarrier();
    }
    let total = partial[0];
    // No thread may overwrite partial[0] (next call) before all have read it.
    workgroupBarrier();
    return total;
  }
`;

/** x̂ and z = γx̂ + β of element `i` of channel `c`, from the batch statistics (stats row 0 = mean, row 1 = variance). */
const normalizeSnippet = `
  fn invStd(c : i32, channels : i32) -> f32 {
    return inverseSqrt(stats[channels + c] + uniforms.epsilon);
  }
  fn xHat(i : i32, c : i32, channels : i32) -> f32 {
    return (x[i] - stats[c]) * invStd(c, channels);
  }
`;

/**
 * x [rows, C] → [2, C]: row 0 the mean, row 1 the biased variance, one
 * workgroup per channel. Two passes over the channel (mean first, then
 * Σ(x − μ)²) instead of E[x²] − μ², which cancels for a large mean.
 */
export class BnStatsProgram implements WebGPUProgram {
  variableNames = ['x'];
  outputShape: number[];
  shaderKey = 'cifarBnStats';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [REDUCE_THREADS, 1, 1];

  constructor(channels: number) {
    this.outputShape = [2, channels];
    this.dispatch = [channels, 1, 1];
  }

  getUserCode(): string {
    return `
      ${workgroupSumSnippet}
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let rows = uniforms.xShape.x;
        let channels = uniforms.xShape.y;
        var s = 0.0;
        for (var r = i32(localIndex); r < rows; r = r + ${REDUCE_THREADS}) {
          s = s + x[r * channels + c];
        }
        let mean = workgroupSum(s) / f32(rows);
        var q = 0.0;
        for (var r = i32(localIndex); r < rows; r = r + ${REDUCE_THREADS}) {
          let d = x[r * channels + c] - mean;
          q = q + d * d;
        }
        let variance = max(workgroupSum(q) / f32(rows), 0.0);
        if (localIndex == 0u) {
          result[c] = mean;
          result[channels + c] = variance;
        }
      }
    `;
  }
}

/** y = act(γ·x̂ + β), elementwise over x [rows, C]. Uniform: epsilon. */
export class BnActForwardProgram implements WebGPUProgram {
  variableNames = ['x', 'stats', 'gamma', 'beta'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ELEMENT_THREADS, 1, 1];
  uniforms = 'epsilon : f32,';
  size = true;

  constructor(
    shape: [number, number],
    private readonly activation: BnActivation,
  ) {
    this.outputShape = shape;
    this.shaderKey = `cifarBnActForward_${activation}`;
    this.dispatch = flatDispatch(shape[0] * shape[1], ELEMENT_THREADS);
  }

  getUserCode(): string {
    return `
      ${activationSnippet(this.activation)}
      ${normalizeSnippet}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let channels = uniforms.xShape.y;
          let c = index % channels;
          result[index] = act(gamma[c] * xHat(index, c, channels) + beta[c]);
        }
      }
    `;
  }
}

/**
 * Σ_rows dz·x̂^moment per channel (moment 0: dβ, moment 1: dγ), dz = dy·act′(z),
 * one workgroup per channel → [C]. Uniform: epsilon.
 */
export class BnActGradSumProgram implements WebGPUProgram {
  variableNames = ['dy', 'x', 'stats', 'gamma', 'beta'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [REDUCE_THREADS, 1, 1];
  uniforms = 'epsilon : f32,';

  constructor(
    channels: number,
    private readonly activation: BnActivation,
    private readonly moment: 0 | 1,
  ) {
    this.outputShape = [channels];
    this.dispatch = [channels, 1, 1];
    this.shaderKey = `cifarBnActGradSum_${activation}_${moment}`;
  }

  getUserCode(): string {
    return `
      ${activationGradSnippet(this.activation)}
      ${normalizeSnippet}
      ${workgroupSumSnippet}
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let rows = uniforms.dyShape.x;
        let channels = uniforms.dyShape.y;
        var s = 0.0;
        for (var r = i32(localIndex); r < rows; r = r + ${REDUCE_THREADS}) {
          let i = r * channels + c;
          let xh = xHat(i, c, channels);
          let dz = dy[i] * actGrad(gamma[c] * xh + beta[c]);
          s = s + ${this.moment === 1 ? 'dz * xh' : 'dz'};
        }
        let total = workgroupSum(s);
        if (localIndex == 0u) {
          result[c] = total;
        }
      }
    `;
  }
}

/** dx = γs·(dz − Σdz/N − x̂·Σ(dz·x̂)/N), elementwise over dy [rows, C]. Uniform: epsilon. */
export class BnActGradInputProgram implements WebGPUProgram {
  variableNames = ['dy', 'x', 'stats', 'gamma', 'beta', 'sumDz', 'sumDzXHat'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ELEMENT_THREADS, 1, 1];
  uniforms = 'epsilon : f32,';
  size = true;

  constructor(
    shape: [number, number],
    private readonly activation: BnActivation,
  ) {
    this.outputShape = shape;
    this.shaderKey = `cifarBnActGradInput_${activation}`;
    this.dispatch = flatDispatch(shape[0] * shape[1], ELEMENT_THREADS);
  }

  getUserCode(): string {
    return `
      ${activationGradSnippet(this.activation)}
      ${normalizeSnippet}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let channels = uniforms.dyShape.y;
          let c = index % channels;
          let n = f32(uniforms.dyShape.x);
          let xh = xHat(index, c, channels);
          let dz = dy[index] * actGrad(gamma[c] * xh + beta[c]);
          result[index] = gamma[c] * invStd(c, channels) * (dz - sumDz[c] / n - xh * sumDzXHat[c] / n);
        }
      }
    `;
  }
}

/**
 * One running statistic: moving − (moving − stats[row])·decay → [C], decay =
 * 1 − momentum. Uniforms: decay, row (0 mean, 1 variance).
 */
export class MovingAverageProgram implements WebGPUProgram {
  variableNames = ['moving', 'stats'];
  outputShape: number[];
  shaderKey = 'cifarMovingAverage';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [ELEMENT_THREADS, 1, 1];
  uniforms = 'decay : f32, row : i32,';
  size = true;

  constructor(channels: number) {
    this.outputShape = [channels];
    this.dispatch = flatDispatch(channels, ELEMENT_THREADS);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let m = moving[index];
          result[index] = m - (m - stats[uniforms.row * uniforms.size + index]) * uniforms.decay;
        }
      }
    `;
  }
}
