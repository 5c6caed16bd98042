// The little of tfjs-backend-webgl's program interface our WebGL kernels use,
// typed here: the package is a dependency of @tensorflow/tfjs, not ours, and
// these two names are all we need of it.
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';

/** A fragment-shader program: `userCode` defines main(), reading inputs with get<Name>(…) and writing setOutput(v). */
export interface WebGLProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms?: { name: string; type: 'float' | 'int' }[];
}

/** Runs `program` on the WebGL backend; `uniforms` in the order of `customUniforms`. */
export function runWebGL(backend: KernelBackend, program: WebGLProgram, inputs: TensorInfo[], uniforms: number[][]): TensorInfo {
  const gl = backend as unknown as {
    runWebGLProgram(p: WebGLProgram, inputs: TensorInfo[], dtype: 'float32', uniforms: number[][]): TensorInfo;
  };
  return gl.runWebGLProgram(program, inputs, 'float32', uniforms);
}

/** GLSL ES 3.00 for the flat row-major index of the output coordinates of `shape` (rank 0–4), as `int index`. */
export function flatIndexSnippet(shape: number[]): string {
  const rank = shape.length;
  if (rank > 4) throw new RangeError(`WebGL kernels of ours take tensors of rank ≤ 4, got ${rank}`);
  if (rank === 0) return 'int index = 0;';
  if (rank === 1) return 'int index = getOutputCoords();';
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const type = `ivec${rank}`;
  const terms = strides.map((s, i) => (s === 1 ? `c[${i}]` : `c[${i}] * ${s}`));
  return `${type} c = getOutputCoords(); int index = ${terms.join(' + ')};`;
}
