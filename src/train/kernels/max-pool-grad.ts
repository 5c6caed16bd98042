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
// 0.6–18 ms for batch 64, 2.4× faster than the stock kernel (see register.ts).
import { backend_util, util } from '@tensorflow/tfjs';
import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

type MaxPoolGradAttrs = {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/**
 * The wasm backend's own memory access (BackendWasm): views of tensors in its
 * heap and outputs allocated there, so that the loop reads and writes the
 * heap in place. Copying through readSync/write instead costs three fresh
 * 8 MB arrays per call at the seed network's first pooling, and fresh pages
 * are what such a kernel mostly waits on.
 */
interface HeapBackend {
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

const hasHeap = (b: unknown): b is HeapBackend =>
  typeof (b as Partial<HeapBackend>).typedArrayFromHeap === 'function' && typeof (b as Partial<HeapBackend>).makeOutput === 'function';

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
    const dx = backend.typedArrayFromHeap(out);
    dx.fill(0);
    scatterToMaxima(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), dx, info);
    return out;
  }
  const b = backend as KernelBackend;
  const dx = new Float32Array(util.sizeFromShape(input.shape));
  scatterToMaxima(b.readSync(input.dataId) as Float32Array, b.readSync(dy.dataId) as Float32Array, dx, info);
  return { dataId: b.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
};
