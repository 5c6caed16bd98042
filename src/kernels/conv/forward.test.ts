// Our forward convolution through the input-gradient kernel, against tfjs's own, on the `cpu` backend.
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeForwardConv, webgpuForwardConvRule } from './forward';
import { randomTensor, relativeError, takeValues } from '../testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Case = {
  b: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  pad: 'same' | 'valid';
  activation: 'linear' | 'relu';
  bias: boolean;
};
const CASES: Case[] = [
  { b: 2, h: 7, w: 5, cin: 3, cout: 4, k: 3, pad: 'same', activation: 'linear', bias: true },
  { b: 1, h: 9, w: 9, cin: 16, cout: 8, k: 3, pad: 'valid', activation: 'relu', bias: true },
  { b: 2, h: 6, w: 7, cin: 5, cout: 3, k: 2, pad: 'same', activation: 'linear', bias: false },
  { b: 2, h: 8, w: 8, cin: 3, cout: 6, k: 5, pad: 'valid', activation: 'relu', bias: false },
  { b: 1, h: 31, w: 31, cin: 3, cout: 24, k: 2, pad: 'valid', activation: 'linear', bias: false },
];

describe('forward convolution via the input-gradient kernel', () => {
  it.each(CASES.map((c, i) => [JSON.stringify(c), c, i] as const))('matches the stock FusedConv2D: %s', (_name, c, i) => {
    const backend = tf.backend();
    const stock = tf.getKernel('FusedConv2D', 'cpu').kernelFunc as KernelFunc;
    const ours = makeForwardConv('cpu', () => 'transposed', stock);
    const x = randomTensor([c.b, c.h, c.w, c.cin], 10 * i);
    const filter = randomTensor([c.k, c.k, c.cin, c.cout], 10 * i + 1);
    const bias = c.bias ? randomTensor([c.cout], 10 * i + 2) : undefined;
    const inputs = { x, filter, ...(bias ? { bias } : {}) };
    const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', dilations: 1, activation: c.activation } as unknown as NamedAttrMap;
    const want = takeValues(backend, stock({ inputs, backend, attrs }) as TensorInfo);
    const got = takeValues(backend, ours({ inputs, backend, attrs }) as TensorInfo);
    expect(got.length).toBe(want.length);
    expect(relativeError(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, filter, ...(bias ? [bias] : [])]);
  });

  it('leaves strided, dilated and other-activation calls to the stock kernel', () => {
    const backend = tf.backend();
    let stockCalls = 0;
    const stock: KernelFunc = (args) => {
      stockCalls++;
      return (tf.getKernel('FusedConv2D', 'cpu').kernelFunc as KernelFunc)(args);
    };
    const ours = makeForwardConv('cpu', () => 'transposed', stock);
    const x = randomTensor([1, 8, 8, 3], 1);
    const filter = randomTensor([3, 3, 3, 2], 2);
    const base = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'linear' };
    for (const attrs of [
      { ...base, strides: 2 },
      { ...base, dilations: 2 },
      { ...base, activation: 'elu' },
    ]) {
      takeValues(backend, ours({ inputs: { x, filter }, backend, attrs: attrs as unknown as NamedAttrMap }) as TensorInfo);
    }
    expect(stockCalls).toBe(3);
    tf.dispose([x, filter]);
  });

  it('is chosen on WebGPU only for 3×3 filters over at least 16 channels', () => {
    const info = (k: number, cin: number) => tf.backend_util.computeConv2DInfo([1, 8, 8, cin], [k, k, cin, 4], 1, 1, 'same');
    expect(webgpuForwardConvRule(info(3, 16))).toBe('transposed');
    expect(webgpuForwardConvRule(info(3, 3))).toBe('stock');
    expect(webgpuForwardConvRule(info(5, 32))).toBe('stock');
  });
});
