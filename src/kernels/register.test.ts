// Training on the wasm backend with our kernels registered, checked against
// the cpu backend's stock kernels. Reference values are computed on cpu first
// (plain arrays), then everything else runs on wasm.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2DBackpropFilterWith } from './conv/filter-grad';
import { conv2DBackpropInputViaConv } from './conv/input-grad';
import { BN_ACT_KERNELS } from './batchnorm/fused';
import { registerTrainingKernels, stepTakes, stockKernel, unregisterTrainingKernels } from './register';
import { randomTensor, relativeError, takeValues } from './testing';

const BATCH = 4;
// Conv2D and FusedConv2D: our relaxed-SIMD kernel (conv/fma-wasm.ts); vite.config.ts lets Node 20 compile it.
const WASM_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'Tile',
  'Sum',
  'Mean',
  'FusedBatchNorm',
  'Transpose',
  'Slice',
  'Reverse',
  'CifarDropout',
];
const SIZE = 8;
const CLASSES = 10;

/** conv3×3 'same'+bias → BN → ELU → maxpool 2 → dropout → conv5×5 'same' → maxpool 2 → flatten → dense softmax. */
function buildNet(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [SIZE, SIZE, 3],
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      useBias: true,
      kernelInitializer: init(1),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.elu());
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.25, seed: 7 }));
  m.add(tf.layers.conv2d({ filters: 5, kernelSize: 5, padding: 'same', strides: 1, activation: 'relu', kernelInitializer: init(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: init(3) }));
  return m;
}

/** The training step's input pipeline: pad, random-crop-and-resize, flip, one-hot labels. */
function batch(): { x: tf.Tensor4D; y: tf.Tensor2D; labels: tf.Tensor1D } {
  return tf.tidy(() => {
    const raw = randomTensor([BATCH, SIZE, SIZE, 3], 11) as tf.Tensor4D;
    const padded = tf.pad(raw, [
      [0, 0],
      [2, 2],
      [2, 2],
      [0, 0],
    ]);
    const boxes = tf.tensor2d([
      [0, 0, 0.8, 0.8],
      [0.1, 0.2, 0.9, 1],
      [0, 0, 1, 1],
      [0.2, 0.1, 1, 0.9],
    ]);
    const x = tf.image.flipLeftRight(tf.image.cropAndResize(padded, boxes, [0, 1, 2, 3], [SIZE, SIZE]));
    const labels = tf.tensor1d([1, 4, 9, 0], 'int32');
    return { x, y: tf.oneHot(labels, CLASSES).toFloat() as tf.Tensor2D, labels };
  });
}

function lossOf(m: tf.Sequential, x: tf.Tensor4D, y: tf.Tensor2D): tf.Scalar {
  return tf.metrics.categoricalCrossentropy(y, m.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar;
}

const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] ?? NaN))), 0);

type StepResult = {
  loss: number;
  grads: Float32Array[];
  sgdDelta: Float32Array[];
  adamDelta: Float32Array[];
  accuracy: number;
  kernels: string[];
};

/** One forward+backward pass, one SGD-momentum update and one Adam update; returns numbers only. */
async function trainingStep(): Promise<StepResult> {
  const m = buildNet();
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const read = (v: tf.Variable) => Float32Array.from(v.dataSync());
  const before = vars.map(read);
  let out: Omit<StepResult, 'kernels'> | undefined;
  const profile = await tf.profile(() => {
    const { x, y, labels } = batch();
    const { value, grads } = tf.variableGrads(() => lossOf(m, x, y), vars);
    const g = vars.map((v) => Float32Array.from((grads[v.name] as tf.Tensor).dataSync()));
    tf.train.momentum(0.1, 0.9).minimize(() => lossOf(m, x, y), false, vars);
    const after = vars.map(read);
    tf.train.adam(1e-3).minimize(() => lossOf(m, x, y), false, vars);
    const afterAdam = vars.map(read);
    const acc = tf.tidy(
      () =>
        tf
          .equal(tf.argMax(m.predict(x) as tf.Tensor, -1), labels)
          .mean()
          .dataSync()[0] ?? NaN,
    );
    out = {
      loss: value.dataSync()[0] ?? NaN,
      grads: g,
      sgdDelta: after.map((a, i) => a.map((v, j) => v - (before[i]?.[j] ?? NaN))),
      adamDelta: afterAdam.map((a, i) => a.map((v, j) => v - (after[i]?.[j] ?? NaN))),
      accuracy: acc,
    };
    tf.dispose([value, ...Object.values(grads), x, y, labels]);
  });
  m.dispose();
  if (out === undefined) throw new Error('step did not run');
  return { ...out, kernels: profile.kernelNames };
}

type FilterCase = { shape: [number, number, number, number]; k: number; cout: number; pad: 'same' | 'valid'; stride: number };
const FILTER_CASES: FilterCase[] = [
  { shape: [2, 7, 5, 3], k: 3, cout: 4, pad: 'same', stride: 1 },
  { shape: [3, 8, 8, 16], k: 3, cout: 8, pad: 'same', stride: 1 },
  { shape: [1, 9, 6, 5], k: 5, cout: 3, pad: 'valid', stride: 1 },
  { shape: [2, 6, 6, 20], k: 5, cout: 4, pad: 'same', stride: 1 },
  { shape: [2, 5, 7, 2], k: 2, cout: 3, pad: 'same', stride: 1 },
  { shape: [2, 9, 8, 3], k: 3, cout: 4, pad: 'same', stride: 2 },
  { shape: [1, 11, 9, 4], k: 3, cout: 2, pad: 'valid', stride: 2 },
];
const filterAttrs = (c: FilterCase) =>
  ({ strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.shape[3], c.cout] }) as unknown as NamedAttrMap;
function filterInputs(c: FilterCase, seed: number) {
  const x = randomTensor(c.shape, seed) as tf.Tensor4D;
  const dyShape = tf.conv2d(x, tf.zeros([c.k, c.k, c.shape[3], c.cout]) as tf.Tensor4D, c.stride, c.pad).shape;
  return { x, dy: randomTensor(dyShape, seed + 1) };
}

let cpuStep: StepResult;
let cpuFilterGrads: Float32Array[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  cpuStep = await trainingStep();
  const cpu = tf.backend();
  cpuFilterGrads = FILTER_CASES.map((c, i) => {
    const { x, dy } = filterInputs(c, 50 + i);
    const v = takeValues(
      cpu,
      tf.getKernel('Conv2DBackpropFilter', 'cpu').kernelFunc({ inputs: { x, dy }, backend: cpu, attrs: filterAttrs(c) }) as TensorInfo,
    );
    tf.dispose([x, dy]);
    return v;
  });
  await tf.setBackend('wasm');
});

afterAll(() => unregisterTrainingKernels('wasm'));

describe('tfjs-backend-wasm 4.22 without our kernels', () => {
  it('lacks Conv2DBackpropFilter, and only that, among the kernels a training step uses', () => {
    const wasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    // tf.profile also lists op scopes such as `fusedConv2d__op`; kernels have no `__`.
    const used = cpuStep.kernels.filter((k) => !k.includes('__'));
    for (const k of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'CropAndResize',
      'PadV2',
      'OneHot',
      'FusedBatchNorm',
      'EluGrad',
      'MaxPoolGrad',
      'ArgMax',
      'Equal',
    ]) {
      expect(used).toContain(k);
    }
    expect(used.filter((k) => !wasm.has(k))).toEqual(['Conv2DBackpropFilter']);
  });

  it('has a MaxPoolGrad that misroutes windows of negative values (why we replace it)', async () => {
    const grad = (x: tf.Tensor4D) =>
      tf
        .grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(x)
        .dataSync();
    const x = tf.tensor4d([-3, -2, -4, -1], [1, 2, 2, 1]);
    expect(Array.from(grad(x))).toEqual([1, 0, 0, 0]);
    await tf.setBackend('cpu');
    expect(Array.from(grad(tf.tensor4d([-3, -2, -4, -1], [1, 2, 2, 1])))).toEqual([0, 0, 0, 1]);
    await tf.setBackend('wasm');
    x.dispose();
  });

  it('cannot run a training step', async () => {
    await expect(trainingStep()).rejects.toThrow(/Conv2DBackpropFilter' not registered for backend 'wasm'/);
  });
});

describe('registerTrainingKernels on wasm', () => {
  let backend: KernelBackend;
  beforeAll(() => {
    expect(registerTrainingKernels('wasm').registered).toEqual(WASM_KERNELS);
    backend = tf.backend();
  });

  it('trains: one step with SGD-momentum and Adam, gradients and updates matching the cpu backend', async () => {
    const wasmStep = await trainingStep();
    expect(Number.isFinite(wasmStep.loss)).toBe(true);
    expect(Math.abs(wasmStep.loss - cpuStep.loss) / cpuStep.loss).toBeLessThan(1e-5);
    expect(wasmStep.grads).toHaveLength(cpuStep.grads.length);
    // The first conv's bias feeds BatchNorm, which subtracts the batch mean, so
    // its true gradient is 0 and both backends return float32 noise (~1e-7):
    // errors are measured against at least 1 % of the largest gradient of the
    // network rather than against that noise.
    const floor = (vs: Float32Array[]) => 0.01 * Math.max(...vs.map((v) => maxAbs(v)));
    const check = (got: Float32Array[], want: Float32Array[], what: string) =>
      got.forEach((g, i) => {
        const w = want[i] as Float32Array;
        const err = maxAbsDiff(g, w) / Math.max(maxAbs(w), floor(want));
        expect(err, `${what} ${i}`).toBeLessThan(1e-4);
      });
    check(wasmStep.grads, cpuStep.grads, 'gradient');
    check(wasmStep.sgdDelta, cpuStep.sgdDelta, 'SGD update');
    // Adam's first step is ≈ −lr·sign(g): compare only that every variable moved, finitely.
    for (const d of wasmStep.adamDelta) {
      expect(d.every(Number.isFinite)).toBe(true);
      expect(maxAbs(d)).toBeGreaterThan(0);
    }
    expect(wasmStep.accuracy).toBe(cpuStep.accuracy);
  });

  it.each(FILTER_CASES.map((c, i) => [JSON.stringify(c), c, i] as const))('weight gradient matches cpu stock: %s', (_n, c, i) => {
    const { x, dy } = filterInputs(c, 50 + i);
    const want = cpuFilterGrads[i] as Float32Array;
    const viaRegistry = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, filterAttrs(c)) as tf.Tensor;
    expect(relativeError(viaRegistry.dataSync(), want)).toBeLessThan(1e-4);
    const methods = c.stride === 1 ? (['im2col', 'im2colNhwc', 'taps', 'conv'] as const) : (['conv'] as const);
    for (const method of methods) {
      const ours = takeValues(backend, conv2DBackpropFilterWith(method, { inputs: { x, dy }, backend, attrs: filterAttrs(c) }, 'wasm'));
      expect(relativeError(ours, want), method).toBeLessThan(1e-4);
    }
    tf.dispose([x, dy, viaRegistry]);
  });

  /** The registered input gradient and the stock one it replaced, on the same random dy and filter. */
  function inputGradients(c: FilterCase): {
    ours: Float32Array;
    stock: Float32Array;
    args: Parameters<typeof conv2DBackpropInputViaConv>[0];
  } {
    const filter = randomTensor([c.k, c.k, c.shape[3], c.cout], 5);
    const dyShape = tf.conv2d(tf.zeros(c.shape) as tf.Tensor4D, filter as tf.Tensor4D, c.stride, c.pad).shape;
    const dy = randomTensor(dyShape, 6);
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.shape } as unknown as NamedAttrMap;
    const registered = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs) as tf.Tensor;
    const ours = registered.dataSync() as Float32Array;
    const stock = stockKernel('Conv2DBackpropInput', 'wasm');
    if (stock === undefined) throw new Error('the stock wasm Conv2DBackpropInput is gone');
    const want = takeValues(backend, stock.kernelFunc({ inputs: { dy, filter }, backend, attrs }) as TensorInfo);
    registered.dispose();
    return { ours, stock: want, args: { inputs: { dy, filter }, backend, attrs } };
  }

  it.each([
    { shape: [2, 7, 5, 3], k: 3, cout: 4, pad: 'same', stride: 1 },
    { shape: [3, 6, 9, 5], k: 5, cout: 2, pad: 'valid', stride: 1 },
    { shape: [2, 5, 6, 1], k: 2, cout: 3, pad: 'same', stride: 1 },
  ] as FilterCase[])('our input gradient (a forward convolution) matches the stock wasm kernel: $shape $k×$k $pad', (c) => {
    const { ours, stock, args } = inputGradients(c);
    expect(relativeError(ours, stock)).toBeLessThan(1e-4);
    tf.dispose(Object.values(args.inputs) as tf.Tensor[]);
  });

  it('leaves a stride-2 input gradient to the stock wasm kernel: ours does stride 1 only', () => {
    const { ours, stock, args } = inputGradients({ shape: [2, 9, 8, 3], k: 3, cout: 4, pad: 'same', stride: 2 });
    expect(() => conv2DBackpropInputViaConv(args, 'wasm')).toThrow(/strides 2/);
    // The stock kernel's own answer, not one that merely comes close.
    expect(ours).toEqual(stock);
    tf.dispose(Object.values(args.inputs) as tf.Tensor[]);
  });

  it('is idempotent: a second call changes nothing and does not wrap our own kernel', () => {
    const first = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(registerTrainingKernels('wasm').registered).toEqual(WASM_KERNELS);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(first);
    expect(stockKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).not.toBe(first.kernelFunc);
    expect(stockKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });

  it('leaks no tensors or wasm buffers across gradient steps', () => {
    const m = buildNet();
    const { x, y } = batch();
    const step = () => {
      const { value, grads } = tf.variableGrads(() => lossOf(m, x, y));
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    step();
    step();
    expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    tf.dispose([x, y]);
    m.dispose();
  });

  it('tiles float32, int32 and bool tensors like the cpu backend', () => {
    expect(tf.tile(tf.tensor2d([1.5, -2, 3, 4], [2, 2]), [2, 1]).arraySync()).toEqual([
      [1.5, -2],
      [3, 4],
      [1.5, -2],
      [3, 4],
    ]);
    expect(tf.tile(tf.tensor1d([7, 8], 'int32'), [3]).arraySync()).toEqual([7, 8, 7, 8, 7, 8]);
    expect(tf.tile(tf.tensor2d([true, false], [2, 1], 'bool'), [1, 2]).arraySync()).toEqual([
      [1, 1],
      [0, 0],
    ]);
    expect(stockKernel('Tile', 'wasm')?.kernelFunc).not.toBe(tf.getKernel('Tile', 'wasm').kernelFunc);
  });

  it('rejects NCHW with an error naming the kernel and the format', () => {
    const c = FILTER_CASES[0] as FilterCase;
    const { x, dy } = filterInputs(c, 1);
    const attrs = { ...filterAttrs(c), dataFormat: 'NCHW' } as NamedAttrMap;
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs)).toThrow(/Conv2DBackpropFilter on 'wasm'.*NCHW/);
    tf.dispose([x, dy]);
  });
});

describe('registerTrainingKernels on cpu', () => {
  it('replaces the weight gradient with ours, same values, and can be undone', async () => {
    await tf.setBackend('cpu');
    const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    expect(registerTrainingKernels('cpu').registered).toEqual(['Conv2DBackpropFilter', ...BN_ACT_KERNELS, 'CifarDropout']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).not.toBe(stock);
    const c = FILTER_CASES[1] as FilterCase;
    const { x, dy } = filterInputs(c, 51);
    const ours = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, filterAttrs(c)) as tf.Tensor;
    expect(relativeError(ours.dataSync(), cpuFilterGrads[1] as Float32Array)).toBeLessThan(1e-4);
    unregisterTrainingKernels('cpu');
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).toBe(stock);
    // Ours alone, with no stock kernel to put back: gone.
    for (const k of BN_ACT_KERNELS) expect(tf.getKernel(k, 'cpu')).toBeUndefined();
    tf.dispose([x, dy, ours]);
    await tf.setBackend('wasm');
  });

  it('keeps the fused paths to the rows the step trains with: a reference kernel registered on cpu does not count', async () => {
    await tf.setBackend('cpu');
    registerTrainingKernels('cpu');
    const kernel = BN_ACT_KERNELS[0] as string;
    expect(tf.getKernel(kernel, 'cpu')).toBeDefined();
    expect(stepTakes(kernel)).toBe(false);
    unregisterTrainingKernels('cpu');
    await tf.setBackend('wasm');
  });

  it('ignores backends it has nothing for, and refuses a backend whose package is not loaded', () => {
    expect(registerTrainingKernels('tensorflow').registered).toEqual([]);
    expect(() => registerTrainingKernels('webgpu')).toThrow(/import its package first/);
  });
});
