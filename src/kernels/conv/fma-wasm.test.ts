// Our relaxed-SIMD convolution against the cpu backend's Conv2D, alone and as
// the wasm backend's registered Conv2D / FusedConv2D (with the training
// step's gradients composed from it).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FmaConv, fmaConvGeometry, heapOf, wasmThreads, type WasmHeap } from './fma-wasm';
import { fmaConvModule } from './fma-module';
import { registerTrainingKernels, stockKernel, unregisterTrainingKernels, wasmConvolutionsInWords } from '../register';
import { randomTensor, relativeError } from '../testing';

type Case = { b: number; h: number; w: number; cin: number; cout: number; k: [number, number]; pad: 'same' | 'valid' | number[][] };

const CASES: Case[] = [
  { b: 2, h: 5, w: 7, cin: 4, cout: 8, k: [3, 3], pad: 'same' },
  { b: 3, h: 6, w: 5, cin: 2, cout: 13, k: [3, 3], pad: 'valid' },
  { b: 1, h: 8, w: 8, cin: 6, cout: 3, k: [5, 5], pad: 'same' },
  { b: 1, h: 4, w: 6, cin: 2, cout: 5, k: [2, 2], pad: 'same' },
  { b: 7, h: 9, w: 9, cin: 32, cout: 32, k: [3, 3], pad: 'same' },
  // The weight gradient's shape (conv/filter-grad.ts 'conv'): the batch as channels, dy as a filter as large as the image.
  {
    b: 3,
    h: 8,
    w: 8,
    cin: 4,
    cout: 6,
    k: [8, 8],
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
];
const name = (c: Case) => `${c.b}×${c.h}×${c.w}×${c.cin} → ${c.cout}, ${c.k.join('×')} ${JSON.stringify(c.pad)}`;

/** conv2d(x, f) + bias on the cpu backend, as plain values. */
async function reference(x: Float32Array, f: Float32Array, bias: Float32Array, c: Case): Promise<Float32Array> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  const y = tf.tidy(() =>
    tf.add(
      tf.conv2d(tf.tensor4d(x, [c.b, c.h, c.w, c.cin]), tf.tensor4d(f, [...c.k, c.cin, c.cout]), 1, c.pad as 'same'),
      tf.tensor1d(bias),
    ),
  );
  const values = y.dataSync() as Float32Array;
  y.dispose();
  await tf.setBackend(previous);
  return values;
}

function inputs(c: Case, seed: number) {
  const values = (shape: number[], s: number) => {
    const t = randomTensor(shape, s);
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return v;
  };
  return { x: values([c.b, c.h, c.w, c.cin], seed), f: values([...c.k, c.cin, c.cout], seed + 1), bias: values([c.cout], seed + 2) };
}

/** Our geometry for a case, as the registered kernel would work it out; throws if ours refuses it. */
function geometryOf(c: Case): NonNullable<ReturnType<typeof fmaConvGeometry>> {
  const g = fmaConvGeometry(
    { dataId: {}, shape: [c.b, c.h, c.w, c.cin], dtype: 'float32' },
    { dataId: {}, shape: [...c.k, c.cin, c.cout], dtype: 'float32' },
    { strides: 1, pad: c.pad as 'same' },
    false,
  );
  if (g === null) throw new Error('ours refused a case it should take');
  return g;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** The wasm backend's heap, where ours works. */
function heap(): WasmHeap {
  const h = heapOf(tf.findBackend('wasm'));
  if (h === null) throw new Error("the wasm backend's heap is out of reach");
  return h;
}
const conv = () => FmaConv.forHeap(heap()) as FmaConv;

describe('FmaConv', () => {
  it('compiles here (Node 20 with the flag vite.config.ts passes; Chromium ≥ 114 by default)', () => {
    expect(WebAssembly.validate(fmaConvModule())).toBe(true);
    expect(FmaConv.compiles()).toBe(true);
    expect(FmaConv.forHeap(heap())).not.toBeNull();
  });

  it.each(CASES.map((c, i) => [name(c), c, i] as const))('matches the cpu backend: %s', async (_n, c, i) => {
    const { x, f, bias } = inputs(c, 10 * i);
    const want = await reference(x, f, bias, c);
    const g = geometryOf(c);
    const out = new Float32Array(want.length);
    conv().conv(g, x, f, bias, out);
    expect(relativeError(out, want)).toBeLessThan(1e-5);
  });

  it('gives the same answer twice, and after a larger call reuses its memory cleanly', async () => {
    const ours = conv();
    const small = CASES[0] as Case;
    const { x, f, bias } = inputs(small, 3);
    const g = geometryOf(small);
    const first = new Float32Array(small.b * small.h * small.w * small.cout);
    ours.conv(g, x, f, bias, first);
    const larger = CASES[4] as Case;
    const big = inputs(larger, 5);
    const gBig = geometryOf(larger);
    ours.conv(gBig, big.x, big.f, big.bias, new Float32Array(7 * 9 * 9 * 32));
    const again = new Float32Array(first.length);
    ours.conv(g, x, f, bias, again);
    expect(Array.from(again)).toEqual(Array.from(first));
    expect(relativeError(first, await reference(x, f, bias, small))).toBeLessThan(1e-5);
  });

  it('follows its input to another place in the heap (the pointer tables are rewritten for it)', async () => {
    const c = CASES[4] as Case;
    const first = inputs(c, 21);
    const second = inputs(c, 22);
    const g = geometryOf(c);
    const h = heap();
    const [n, outSize] = [first.x.length, c.b * c.h * c.w * c.cout];
    const base = h.malloc(4 * (2 * n + first.f.length + outSize));
    const [x1, x2, filter, out] = [base, base + 4 * n, base + 8 * n, base + 8 * n + 4 * first.f.length];
    const view = () => new Float32Array(h.memory.buffer);
    view().set(first.x, x1 / 4);
    view().set(second.x, x2 / 4);
    view().set(first.f, filter / 4);
    conv().convAt(g, { x: x1, filter, bias: null, out });
    const fromFirst = view().slice(out / 4, out / 4 + outSize);
    conv().convAt(g, { x: x2, filter, bias: null, out });
    const fromSecond = view().slice(out / 4, out / 4 + outSize);
    h.free(base);
    const zero = new Float32Array(c.cout);
    expect(relativeError(fromFirst, await reference(first.x, first.f, zero, c))).toBeLessThan(1e-5);
    expect(relativeError(fromSecond, await reference(second.x, first.f, zero, c))).toBeLessThan(1e-5);
  });

  it('takes only what it can do: stride 1, no dilation, NHWC, an even number of input channels, no activation', () => {
    const x = { dataId: {}, shape: [1, 8, 8, 4], dtype: 'float32' as const };
    const f = { dataId: {}, shape: [3, 3, 4, 8], dtype: 'float32' as const };
    expect(fmaConvGeometry(x, f, { strides: 1, pad: 'same' }, false)).not.toBeNull();
    expect(fmaConvGeometry(x, f, { strides: 2, pad: 'same' }, false)).toBeNull();
    expect(fmaConvGeometry(x, f, { strides: 1, pad: 'same', dilations: 2 }, false)).toBeNull();
    expect(fmaConvGeometry(x, f, { strides: 1, pad: 'same', activation: 'relu' }, false)).toBeNull();
    expect(fmaConvGeometry(x, f, { strides: 1, pad: 'same' }, true)).toBeNull();
    const odd = { dataId: {}, shape: [1, 8, 8, 3], dtype: 'float32' as const };
    expect(fmaConvGeometry(odd, { ...f, shape: [3, 3, 3, 8] }, { strides: 1, pad: 'same' }, false)).toBeNull();
  });
});

describe('FmaConv as the wasm Conv2D and FusedConv2D', () => {
  beforeAll(() => {
    expect(registerTrainingKernels('wasm').registered).toEqual(expect.arrayContaining(['Conv2D', 'FusedConv2D']));
    // Ours stands aside where XNNPACK has several threads; here (Node's build) it has one, so the calls below are ours.
    expect(wasmThreads(tf.backend())).toBe(1);
    expect(wasmConvolutionsInWords(tf.backend())).toBe(
      "convolutions on ours, with relaxed SIMD's fused multiply-add (one thread per worker)",
    );
  });
  afterAll(() => unregisterTrainingKernels('wasm'));

  it('conv2d and fused conv2d (with bias) agree with the stock XNNPACK kernel', () => {
    const x = randomTensor([3, 10, 10, 8], 1) as tf.Tensor4D;
    const f = randomTensor([3, 3, 8, 12], 2) as tf.Tensor4D;
    const bias = randomTensor([12], 3) as tf.Tensor1D;
    const stock = stockKernel('Conv2D', 'wasm');
    if (stock === undefined) throw new Error('the stock wasm Conv2D is gone');
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: 'floor' };
    const want = tf
      .engine()
      .makeTensorFromTensorInfo(
        stock.kernelFunc({ inputs: { x, filter: f }, backend: tf.backend(), attrs: attrs as never }) as tf.TensorInfo,
      );
    const ours = tf.conv2d(x, f, 1, 'same');
    expect(relativeError(ours.dataSync(), want.dataSync())).toBeLessThan(1e-5);
    // The registered kernel is ours, not the stock one it falls back on: the same bits as FmaConv called directly.
    const direct = new Float32Array(ours.size);
    const g = fmaConvGeometry(x, f, { strides: 1, pad: 'same' }, false);
    if (g === null) throw new Error('ours refused a case it should take');
    conv().conv(g, x.dataSync() as Float32Array, f.dataSync() as Float32Array, null, direct);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(direct));
    expect(Array.from(want.dataSync())).not.toEqual(Array.from(direct));
    const fused = tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias });
    const wantFused = tf.add(want, bias);
    expect(relativeError(fused.dataSync(), wantFused.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, f, bias, want, ours, fused, wantFused]);
  });

  it('leaves no tensor or wasm buffer behind', () => {
    const x = randomTensor([2, 6, 6, 4], 4) as tf.Tensor4D;
    const f = randomTensor([3, 3, 4, 8], 5) as tf.Tensor4D;
    tf.conv2d(x, f, 1, 'same').dispose();
    const before = { tensors: tf.memory().numTensors, ids: tf.backend().numDataIds() };
    for (let i = 0; i < 3; i++) tf.conv2d(x, f, 1, 'same').dispose();
    expect({ tensors: tf.memory().numTensors, ids: tf.backend().numDataIds() }).toEqual(before);
    tf.dispose([x, f]);
  });
});
