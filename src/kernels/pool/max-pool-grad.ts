// Max-pooling gradient (kernel `MaxPoolGrad`) as plain JavaScript over the
// backend's memory: the wasm heap in place, or through the generic
// readSync/write backend API elsewhere.
//
// Why: tfjs-backend-wasm 4.22's own MaxPoolGrad (C++) starts each window's
// running maximum at std::numeric_limits<float>::min(), the smallest
// *positive* float, so in any window whose values are all ≤ 0 it sends the
// gradient to the window's first element instead of its maximum. Pooling right
// after BatchNorm/ELU (the seed network) or a linear conv is full of such
// windows: in a conv-BN-ELU-pool test net the first layer's weight gradient
// came out 11 % off (max-abs relative) against the cpu backend.
// MaxPoolWithArgmax shares that bug, so it cannot serve a composed version;
// masking "x == upsampled max" needs tie-breaking and, for overlapping
// windows, scatter-adds — many passes where one JS loop does it, in
// 0.6–18 ms for batch 64, 2.4× faster than the stock kernel (docs/benchmarks.md; ../registry.ts).
import { backend_util, util } from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { floatsOf, hasHeap } from '../backend/wasm-heap';

type MaxPoolGradAttrs = {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/**
 * dx (zeroed by the caller): each window's dy added at the window's first
 * maximum (row-major order), as tfjs's cpu backend and TensorFlow do. Channels
 * are the innermost loop, so every read is sequential.
 */
function scatterToMaxima(x: Float32Array, g: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: ch, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const best = new Float32Array(ch);
  const at = new Int32Array(ch);
  const rowStride = inWidth * ch;
  for (let n = 0; n < batchSize; n++) {
    const xBatch = n * inHeight * rowStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      const yMin = Math.max(0, y0);
      const yMax = Math.min(inHeight, y0 + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        const xMin = Math.max(0, x0);
        const xMax = Math.min(inWidth, x0 + filterWidth);
        best.fill(-Infinity);
        at.fill(-1);
        for (let yy = yMin; yy < yMax; yy++) {
          for (let xx = xMin; xx < xMax; xx++) {
            const base = xBatch + yy * rowStride + xx * ch;
            for (let c = 0; c < ch; c++) {
              const v = x[base + c] as number;
              if (v > (best[c] as number)) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const gBase = ((n * outHeight + oy) * outWidth + ox) * ch;
        for (let c = 0; c < ch; c++) {
          const i = at[c] as number;
          if (i >= 0) dx[i] = (dx[i] as number) + (g[gBase + c] as number);
        }
      }
    }
  }
}

/**
 * The same for 2×2 windows at stride 2 that tile the input exactly (every
 * pooling of the seed and tiny networks): four loads and four stores per
 * window and channel, and dx needs no zeroing first.
 */
function scatter2x2(x: Float32Array, g: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inWidth, inChannels: ch, outHeight, outWidth } = info;
  const rowStride = inWidth * ch;
  let gi = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const rowBase = (n * outHeight * 2 + oy * 2) * rowStride;
      for (let ox = 0; ox < outWidth; ox++) {
        const base = rowBase + ox * 2 * ch;
        for (let c = 0; c < ch; c++, gi++) {
          const i00 = base + c;
          const i01 = i00 + ch;
          const i10 = i00 + rowStride;
          const i11 = i10 + ch;
          // Row-major order and a strict > keep the first of tied maxima; NaN is never a maximum.
          let best = -Infinity;
          let at = -1;
          const v00 = x[i00] as number;
          if (v00 > best) {
            best = v00;
            at = i00;
          }
          const v01 = x[i01] as number;
          if (v01 > best) {
            best = v01;
            at = i01;
          }
          const v10 = x[i10] as number;
          if (v10 > best) {
            best = v10;
            at = i10;
          }
          if ((x[i11] as number) > best) at = i11;
          const grad = g[gi] as number;
          dx[i00] = at === i00 ? grad : 0;
          dx[i01] = at === i01 ? grad : 0;
          dx[i10] = at === i10 ? grad : 0;
          dx[i11] = at === i11 ? grad : 0;
        }
      }
    }
  }
}

const tiles2x2 = (info: backend_util.Conv2DInfo) =>
  info.filterHeight === 2 &&
  info.filterWidth === 2 &&
  info.strideHeight === 2 &&
  info.strideWidth === 2 &&
  info.padInfo.top === 0 &&
  info.padInfo.left === 0 &&
  info.inHeight === 2 * info.outHeight &&
  info.inWidth === 2 * info.outWidth;

/** dx for any window: the 2×2 fast path where it applies, else the general loop on a zeroed dx. */
function maxPoolGradValues(x: Float32Array, g: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  if (tiles2x2(info)) return scatter2x2(x, g, dx, info);
  dx.fill(0);
  scatterToMaxima(x, g, dx, info);
}

export const maxPoolGradJs: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const a = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  if (hasHeap(backend)) {
    // Allocate first: a growing heap would leave earlier views stale.
    const out = backend.makeOutput(input.shape, 'float32');
    maxPoolGradValues(floatsOf(backend, input), floatsOf(backend, dy), floatsOf(backend, out), info);
    return out;
  }
  const b = backend as KernelBackend;
  const dx = new Float32Array(util.sizeFromShape(input.shape));
  maxPoolGradValues(b.readSync(input.dataId) as Float32Array, b.readSync(dy.dataId) as Float32Array, dx, info);
  return { dataId: b.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
};
