// Our composed gradients against tfjs's own kernels on the `cpu` backend.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2DBackpropFilterWith } from './filter-grad';
import { conv2DBackpropInputViaConv } from './input-grad';
import { PATCHES, patchesKernels } from './patches-webgpu';
import { randomTensor, relativeError, takeValues } from '../testing';

type Pad = 'same' | 'valid';
type Case = { b: number; h: number; w: number; cin: number; cout: number; k: [number, number]; pad: Pad; stride?: number };

const CASES: Case[] = [
  { b: 1, h: 7, w: 5, cin: 1, cout: 2, k: [3, 3], pad: 'same' },
  { b: 2, h: 7, w: 5, cin: 3, cout: 4, k: [3, 3], pad: 'valid' },
  { b: 3, h: 6, w: 9, cin: 5, cout: 3, k: [5, 5], pad: 'same' },
  { b: 4, h: 8, w: 7, cin: 3, cout: 6, k: [5, 5], pad: 'valid' },
  { b: 2, h: 5, w: 6, cin: 5, cout: 2, k: [2, 2], pad: 'same' },
  { b: 1, h: 4, w: 4, cin: 3, cout: 3, k: [2, 2], pad: 'valid' },
  { b: 3, h: 9, w: 4, cin: 1, cout: 5, k: [3, 2], pad: 'same' },
  { b: 2, h: 4, w: 4, cin: 16, cout: 8, k: [3, 3], pad: 'same' },
  { b: 1, h: 1, w: 1, cin: 2, cout: 3, k: [1, 1], pad: 'valid' },
];
const STRIDED: Case[] = [
  { b: 2, h: 7, w: 8, cin: 3, cout: 4, k: [3, 3], pad: 'same', stride: 2 },
  { b: 2, h: 9, w: 7, cin: 2, cout: 3, k: [3, 3], pad: 'valid', stride: 2 },
  { b: 1, h: 11, w: 10, cin: 3, cout: 2, k: [5, 5], pad: 'same', stride: 3 },
];
const name = (c: Case) => `${c.b}×${c.h}×${c.w}×${c.cin} → ${c.cout}, ${c.k.join('×')} ${c.pad}, stride ${c.stride ?? 1}`;

let backend: KernelBackend;
beforeAll(async () => {
  await tf.setBackend('cpu');
  backend = tf.backend();
  // 'patches' needs its kernel (registered for webgpu in the app; the cpu twin is its reference).
  for (const config of patchesKernels('cpu')) tf.registerKernel(config);
  return () => tf.unregisterKernel(PATCHES, 'cpu');
});

function stockFilterGrad(x: TensorInfo, dy: TensorInfo, attrs: NamedAttrMap): Float32Array {
  const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  return takeValues(backend, stock.kernelFunc({ inputs: { x, dy }, backend, attrs }) as TensorInfo);
}

function filterCase(c: Case, seed: number) {
  const stride = c.stride ?? 1;
  const x = randomTensor([c.b, c.h, c.w, c.cin], seed);
  const outShape = tf.conv2d(x as tf.Tensor4D, tf.zeros([...c.k, c.cin, c.cout]) as tf.Tensor4D, stride, c.pad).shape;
  const dy = randomTensor(outShape, seed + 1);
  const attrs = { strides: stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [...c.k, c.cin, c.cout] } as unknown as NamedAttrMap;
  return { x, dy, attrs };
}

describe('Conv2DBackpropFilter composed from cpu kernels', () => {
  for (const method of ['im2col', 'im2colNhwc', 'taps', 'conv', 'patches'] as const) {
    it.each(CASES.map((c, i) => [name(c), c, i] as const))(`${method} matches the stock kernel: %s`, (_n, c, i) => {
      const { x, dy, attrs } = filterCase(c, 100 + i);
      const ours = takeValues(backend, conv2DBackpropFilterWith(method, { inputs: { x, dy }, backend, attrs }, 'cpu'));
      const want = stockFilterGrad(x, dy, attrs);
      expect(relativeError(ours, want)).toBeLessThan(1e-4);
      tf.dispose([x, dy]);
    });
  }

  it.each(STRIDED.map((c, i) => [name(c), c, i] as const))('conv handles strides: %s', (_n, c, i) => {
    const { x, dy, attrs } = filterCase(c, 200 + i);
    const ours = takeValues(backend, conv2DBackpropFilterWith('conv', { inputs: { x, dy }, backend, attrs }, 'cpu'));
    expect(relativeError(ours, stockFilterGrad(x, dy, attrs))).toBeLessThan(1e-4);
    tf.dispose([x, dy]);
  });

  it('im2col refuses strides and both refuse NCHW with a clear error', () => {
    const { x, dy, attrs } = filterCase(STRIDED[0] as Case, 1);
    expect(() => conv2DBackpropFilterWith('im2col', { inputs: { x, dy }, backend, attrs }, 'cpu')).toThrow(/im2col.*strides 2/);
    const nchw = { ...attrs, dataFormat: 'NCHW' } as NamedAttrMap;
    expect(() => conv2DBackpropFilterWith('conv', { inputs: { x, dy }, backend, attrs: nchw }, 'cpu')).toThrow(/NCHW/);
    tf.dispose([x, dy]);
  });

  it('leaves no tensor or backend buffer behind', () => {
    const { x, dy, attrs } = filterCase(CASES[2] as Case, 7);
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    for (const method of ['im2col', 'im2colNhwc', 'taps', 'conv', 'patches', 'im2col'] as const) {
      takeValues(backend, conv2DBackpropFilterWith(method, { inputs: { x, dy }, backend, attrs }, 'cpu'));
      expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    }
    tf.dispose([x, dy]);
  });
});

describe('Conv2DBackpropInput as a forward conv on cpu', () => {
  it.each(CASES.map((c, i) => [name(c), c, i] as const))('matches the stock kernel: %s', (_n, c, i) => {
    const filter = randomTensor([...c.k, c.cin, c.cout], 300 + i);
    const outShape = tf.conv2d(tf.zeros([c.b, c.h, c.w, c.cin]) as tf.Tensor4D, filter as tf.Tensor4D, 1, c.pad).shape;
    const dy = randomTensor(outShape, 400 + i);
    const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', inputShape: [c.b, c.h, c.w, c.cin] } as unknown as NamedAttrMap;
    const before = backend.numDataIds();
    const ours = takeValues(backend, conv2DBackpropInputViaConv({ inputs: { dy, filter }, backend, attrs }, 'cpu'));
    expect(backend.numDataIds()).toBe(before);
    const stock = tf.getKernel('Conv2DBackpropInput', 'cpu');
    const want = takeValues(backend, stock.kernelFunc({ inputs: { dy, filter }, backend, attrs }) as TensorInfo);
    expect(relativeError(ours, want)).toBeLessThan(1e-4);
    tf.dispose([dy, filter]);
  });
});
