// The step's loss and accuracy from the softmax outputs as one kernel of ours,
// and the loss's gradient as one more (WebGPU and WebGL; the CPU twin is the
// unit tests' reference). The tfjs ops they replace (../step.ts crossEntropy and
// accuracyOf: one-hot, products, clip, log, means, arg-max, compare, and
// their gradients) are ~22 dispatches and a few uploaded constants per step.
//
// Same numbers as crossEntropy: probabilities clipped to [ε, 1] before the
// log (Keras's convention), label smoothing s putting 1 − s + s/K on the label
// and s/K on each class; the clip passes no gradient outside [ε, 1].
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { runWebGL, type WebGLProgram } from '../backend/webgl-program';

export const CROSS_ENTROPY = 'CifarCrossEntropy';
export const CROSS_ENTROPY_GRAD = 'CifarCrossEntropyGrad';

interface CrossEntropyAttrs {
  /** CROSS_ENTROPY only: 'objective' (a scalar, the smoothed loss) or 'metrics' ([plain loss, accuracy]). */
  output: 'objective' | 'metrics';
  /** Label smoothing, in [0, 1). */
  smoothing: number;
  /** Lower clip of the probabilities. */
  epsilon: number;
}

/** Threads of the one workgroup that reduces over the batch (a power of two for the tree). */
const THREADS = 256;

// `target` is a reserved word in WGSL.
const smoothingSnippet = `
  fn targetOf(c : i32, label : i32, classes : i32) -> f32 {
    return select(0.0, 1.0 - uniforms.smoothing, c == label) + uniforms.smoothing / f32(classes);
  }
`;

/** probs [B, K], labels [B] → the mean objective (smoothed) cross-entropy, or [mean plain cross-entropy, accuracy]. */
class CrossEntropyProgram implements WebGPUProgram {
  variableNames = ['probs', 'labels'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number] = [1, 1, 1];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms = 'smoothing : f32, epsilon : f32,';

  constructor(private readonly output: CrossEntropyAttrs['output']) {
    this.outputShape = output === 'objective' ? [] : [2];
    this.shaderKey = `cifarCrossEntropy_${output}`;
  }

  getUserCode(): string {
    const write =
      this.output === 'objective'
        ? 'result[0] = total.x;'
        : `result[0] = total.y;
           result[1] = total.z;`;
    return `
      ${smoothingSnippet}
      var<workgroup> partial : array<vec3<f32>, ${THREADS}>;
      fn main(index : i32) {
        let rows = uniforms.probsShape.x;
        let classes = uniforms.probsShape.y;
        var s = vec3<f32>(0.0, 0.0, 0.0);
        for (var r = i32(localIndex); r < rows; r = r + ${THREADS}) {
          let label = labels[r];
          var best = 0;
          var bestP = probs[r * classes];
          var objective = 0.0;
          for (var c = 0; c < classes; c = c + 1) {
            let p = probs[r * classes + c];
            if (p > bestP) {
              best = c;
              bestP = p;
            }
            objective = objective + targetOf(c, label, classes) * log(clamp(p, uniforms.epsilon, 1.0));
          }
          let plain = log(clamp(probs[r * classes + label], uniforms.epsilon, 1.0));
          s = s + vec3<f32>(-objective, -plain, select(0.0, 1.0, best == label));
        }
        partial[localIndex] = s;
        workgroupBarrier();
        for (var stride = ${THREADS / 2}u; stride > 0u; stride = stride / 2u) {
          if (localIndex < stride) {
            partial[localIndex] = partial[localIndex] + partial[localIndex + stride];
          }
          workgroupBarrier();
        }
        if (localIndex == 0u) {
          let total = partial[0] / f32(rows);
          ${write}
        }
      }
    `;
  }
}

/** d(objective)/d(probs) [B, K] for an incoming gradient dy of the objective (a scalar). */
class CrossEntropyGradProgram implements WebGPUProgram {
  variableNames = ['probs', 'labels', 'dy'];
  outputShape: number[];
  shaderKey = 'cifarCrossEntropyGrad';
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [64, 1, 1];
  uniforms = 'smoothing : f32, epsilon : f32,';
  size = true;

  constructor(shape: [number, number]) {
    this.outputShape = shape;
    this.dispatch = [Math.ceil((shape[0] * shape[1]) / 64), 1, 1];
  }

  getUserCode(): string {
    return `
      ${smoothingSnippet}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let rows = uniforms.probsShape.x;
          let classes = uniforms.probsShape.y;
          let c = index % classes;
          let p = probs[index];
          let inside = p >= uniforms.epsilon && p <= 1.0;
          let g = -dy[0] * targetOf(c, labels[index / classes], classes) / (f32(rows) * p);
          result[index] = select(0.0, g, inside);
        }
      }
    `;
  }
}

const attrsOf = (attrs: NamedAttrMap | undefined) => attrs as unknown as CrossEntropyAttrs;
const uniformsOf = (a: CrossEntropyAttrs) => [
  { type: 'float32', data: [a.smoothing] },
  { type: 'float32', data: [a.epsilon] },
];

type Impl = (args: { inputs: Record<string, TensorInfo | undefined>; backend: KernelBackend; attrs?: NamedAttrMap }) => TensorInfo;

const input = (inputs: Record<string, TensorInfo | undefined>, name: string): TensorInfo => {
  const t = inputs[name];
  if (t === undefined) throw new Error(`cross-entropy kernel: missing input '${name}'`);
  return t;
};

const webgpu: Record<string, Impl> = {
  [CROSS_ENTROPY]: ({ inputs, backend, attrs }) =>
    (backend as unknown as WebGPUBackend).runWebGPUProgram(
      new CrossEntropyProgram(attrsOf(attrs).output),
      [input(inputs, 'probs'), input(inputs, 'labels')],
      'float32',
      uniformsOf(attrsOf(attrs)),
    ),
  [CROSS_ENTROPY_GRAD]: ({ inputs, backend, attrs }) => {
    const probs = input(inputs, 'probs');
    return (backend as unknown as WebGPUBackend).runWebGPUProgram(
      new CrossEntropyGradProgram(probs.shape as [number, number]),
      [probs, input(inputs, 'labels'), input(inputs, 'dy')],
      'float32',
      uniformsOf(attrsOf(attrs)),
    );
  },
};

// WebGL: one fragment sums the whole batch (B·K terms, 640 at batch 64: less than one draw call costs).
const webglUniforms: WebGLProgram['customUniforms'] = [
  { name: 'smoothing', type: 'float' },
  { name: 'epsilon', type: 'float' },
];
const webglTarget = (classes: number) => `
  float targetOf(int c, int label) {
    return (c == label ? 1.0 - smoothing : 0.0) + smoothing / ${classes}.0;
  }
`;

function webglCrossEntropyProgram(output: CrossEntropyAttrs['output'], [rows, classes]: [number, number]): WebGLProgram {
  return {
    variableNames: ['probs', 'labels'],
    outputShape: output === 'objective' ? [] : [2],
    customUniforms: webglUniforms,
    userCode: `
      ${webglTarget(classes)}
      void main() {
        vec3 s = vec3(0.0);
        for (int r = 0; r < ${rows}; r++) {
          int label = int(getLabels(r));
          int best = 0;
          float bestP = getProbs(r, 0);
          float objective = 0.0;
          for (int c = 0; c < ${classes}; c++) {
            float p = getProbs(r, c);
            if (p > bestP) {
              best = c;
              bestP = p;
            }
            objective += targetOf(c, label) * log(clamp(p, epsilon, 1.0));
          }
          float plain = log(clamp(getProbs(r, label), epsilon, 1.0));
          s += vec3(-objective, -plain, best == label ? 1.0 : 0.0);
        }
        s /= ${rows}.0;
        ${output === 'objective' ? 'setOutput(s.x);' : 'setOutput(getOutputCoords() == 0 ? s.y : s.z);'}
      }
    `,
  };
}

function webglCrossEntropyGradProgram([rows, classes]: [number, number]): WebGLProgram {
  return {
    variableNames: ['probs', 'labels', 'dy'],
    outputShape: [rows, classes],
    customUniforms: webglUniforms,
    userCode: `
      ${webglTarget(classes)}
      void main() {
        ivec2 rc = getOutputCoords();
        float p = getProbs(rc.x, rc.y);
        bool inside = p >= epsilon && p <= 1.0;
        float g = -getDy() * targetOf(rc.y, int(getLabels(rc.x))) / (${rows}.0 * p);
        setOutput(inside ? g : 0.0);
      }
    `,
  };
}

const webglUniformValues = (a: CrossEntropyAttrs) => [[a.smoothing], [a.epsilon]];

const webgl: Record<string, Impl> = {
  [CROSS_ENTROPY]: ({ inputs, backend, attrs }) => {
    const probs = input(inputs, 'probs');
    return runWebGL(
      backend,
      webglCrossEntropyProgram(attrsOf(attrs).output, probs.shape as [number, number]),
      [probs, input(inputs, 'labels')],
      webglUniformValues(attrsOf(attrs)),
    );
  },
  [CROSS_ENTROPY_GRAD]: ({ inputs, backend, attrs }) => {
    const probs = input(inputs, 'probs');
    return runWebGL(
      backend,
      webglCrossEntropyGradProgram(probs.shape as [number, number]),
      [probs, input(inputs, 'labels'), input(inputs, 'dy')],
      webglUniformValues(attrsOf(attrs)),
    );
  },
};

/** The CPU twins, in float64 then rounded: a reference for the unit tests, not a fast path. */
function cpuParts(inputs: Record<string, TensorInfo | undefined>, backend: KernelBackend, attrs: NamedAttrMap | undefined) {
  const probs = input(inputs, 'probs');
  const [rows, classes] = probs.shape as [number, number];
  const p = backend.readSync(probs.dataId) as Float32Array;
  const labels = backend.readSync(input(inputs, 'labels').dataId) as Int32Array;
  const { smoothing, epsilon } = attrsOf(attrs);
  const target = (c: number, label: number) => (c === label ? 1 - smoothing : 0) + smoothing / classes;
  const clip = (v: number) => Math.min(Math.max(v, Math.fround(epsilon)), 1);
  return { rows, classes, p, labels, target, clip, epsilon: Math.fround(epsilon) };
}

const cpu: Record<string, Impl> = {
  [CROSS_ENTROPY]: ({ inputs, backend, attrs }) => {
    const { rows, classes, p, labels, target, clip } = cpuParts(inputs, backend, attrs);
    let [objective, plain, correct] = [0, 0, 0];
    for (let r = 0; r < rows; r++) {
      const label = labels[r] as number;
      let best = 0;
      for (let c = 0; c < classes; c++) {
        const v = p[r * classes + c] as number;
        if (v > (p[r * classes + best] as number)) best = c;
        objective -= target(c, label) * Math.log(clip(v));
      }
      plain -= Math.log(clip(p[r * classes + label] as number));
      if (best === label) correct++;
    }
    const [out, shape] = attrsOf(attrs).output === 'objective' ? [[objective / rows], []] : [[plain / rows, correct / rows], [2]];
    return { dataId: backend.write(Float32Array.from(out), shape, 'float32'), shape, dtype: 'float32' };
  },
  [CROSS_ENTROPY_GRAD]: ({ inputs, backend, attrs }) => {
    const { rows, classes, p, labels, target, epsilon } = cpuParts(inputs, backend, attrs);
    const dy = (backend.readSync(input(inputs, 'dy').dataId) as Float32Array)[0] as number;
    const out = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const v = p[i] as number;
      if (v >= epsilon && v <= 1) out[i] = (-dy * target(i % classes, labels[Math.floor(i / classes)] as number)) / (rows * v);
    }
    return { dataId: backend.write(out, [rows, classes], 'float32'), shape: [rows, classes], dtype: 'float32' };
  },
};

const IMPLS: Partial<Record<string, Record<string, Impl>>> = { webgpu, webgl, cpu };

/** The kernels' configs for the backends that have them (webgpu, webgl, cpu). */
export function crossEntropyKernels(backendName: string): KernelConfig[] {
  const impls = IMPLS[backendName];
  if (!impls) return [];
  return Object.entries(impls).map(([kernelName, impl]) => ({
    kernelName,
    backendName,
    kernelFunc: impl as unknown as KernelConfig['kernelFunc'],
  }));
}

/**
 * The mean cross-entropy of softmax outputs with `smoothing` (plain when 0),
 * differentiable w.r.t. `probs`.
 */
export function crossEntropyObjective(probs: tf.Tensor2D, labels: tf.Tensor1D, smoothing: number, epsilon: number): tf.Scalar {
  if (!(smoothing >= 0 && smoothing < 1)) throw new RangeError(`labelSmoothing must be in [0, 1), got ${smoothing}`);
  const attrs = { output: 'objective', smoothing, epsilon };
  const op = tf.customGrad((p, save) => {
    (save as tf.GradSaveFunc)([p as tf.Tensor]);
    return {
      value: tf.engine().runKernel(CROSS_ENTROPY, { probs: p as tf.Tensor, labels }, attrs) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(CROSS_ENTROPY_GRAD, { probs: saved[0] as tf.Tensor, labels, dy }, attrs) as tf.Tensor,
    };
  });
  return op(probs) as tf.Scalar;
}

/** [plain mean cross-entropy, accuracy] of a batch; not differentiable. */
export function crossEntropyMetrics(probs: tf.Tensor2D, labels: tf.Tensor1D, epsilon: number): tf.Tensor1D {
  return tf.engine().runKernel(CROSS_ENTROPY, { probs, labels }, { output: 'metrics', smoothing: 0, epsilon }) as tf.Tensor1D;
}
