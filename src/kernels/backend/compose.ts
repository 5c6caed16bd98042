// Building blocks for kernels written as a chain of other kernels of the same
// backend. Calling a backend's registered kernelFunc directly (instead of a tf
// op) keeps the whole computation inside that backend's memory — wasm heap,
// GPU buffers or CPU arrays alike — so one implementation serves every backend,
// and it skips the engine's per-op bookkeeping (no tape, no Tensor objects).
import { getKernel } from '@tensorflow/tfjs';
import type { DataId, KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export type ExplicitPad4D = [[number, number], [number, number], [number, number], [number, number]];

export class KernelComposer {
  /** Every TensorInfo this composer created and has not handed out with `keep`. */
  private readonly live: TensorInfo[] = [];

  constructor(
    readonly backend: KernelBackend,
    readonly backendName: string,
  ) {}

  /** Runs the backend's own kernel `kernelName`; the result is disposed by `disposeAll` unless kept. */
  run(kernelName: string, inputs: NamedTensorInfoMap | TensorInfo[], attrs: NamedAttrMap = {}): TensorInfo {
    const config = getKernel(kernelName, this.backendName) as ReturnType<typeof getKernel> | undefined;
    if (config === undefined) {
      throw new Error(`composed kernel needs '${kernelName}', which backend '${this.backendName}' does not register`);
    }
    const out = config.kernelFunc({ inputs: inputs as NamedTensorInfoMap, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      for (const t of out) this.live.push(t);
      throw new Error(`kernel '${kernelName}' returned ${out.length} outputs where one was expected`);
    }
    this.live.push(out);
    return out;
  }

  /** Releases `t` now (it must come from `run`): caps peak memory inside long chains. */
  release(t: TensorInfo): void {
    const i = this.live.indexOf(t);
    if (i < 0) throw new Error('release() of a tensor this composer does not own');
    this.live.splice(i, 1);
    this.backend.disposeData(t.dataId);
  }

  /** Puts `t` (made outside `run`, e.g. by a stock kernelFunc called directly) in the composer's care. */
  adopt(t: TensorInfo): TensorInfo {
    this.live.push(t);
    return t;
  }

  /** A float32 tensor of `values` in the backend's memory, disposed like any intermediate. */
  constant(values: Float32Array, shape: number[]): TensorInfo {
    return this.adopt({ dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' });
  }

  /** Takes `t` out of the composer's care: the caller (the engine) now owns it. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.live.indexOf(t);
    if (i >= 0) this.live.splice(i, 1);
    return t;
  }

  /**
   * Disposes every intermediate. Reshape shares its input's dataId with a
   * reference count, so each TensorInfo is released once and a kept output
   * that aliases an intermediate survives.
   */
  disposeAll(): void {
    for (const t of this.live.splice(0)) this.backend.disposeData(t.dataId as DataId);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  pad(x: TensorInfo, paddings: number[][]): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return this.identity(x);
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  concat(xs: TensorInfo[], axis: number): TensorInfo {
    return this.run('Concat', xs, { axis });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  matMul(a: TensorInfo, b: TensorInfo, transposeA = false, transposeB = false): TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA, transposeB });
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    pad: ExplicitPad4D | 'valid',
    strides: [number, number],
    dilations: [number, number],
  ): TensorInfo {
    return this.run('Conv2D', { x, filter }, { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode: 'floor' });
  }

  /** A new handle on `x`'s data (a no-op reshape) so the result can be owned and disposed like any other. */
  identity(x: TensorInfo): TensorInfo {
    return this.reshape(x, x.shape);
  }
}

/** `fn` with a composer whose intermediates are all disposed afterwards, also when `fn` throws; the returned tensor survives. */
export function composeKernel(backend: KernelBackend, backendName: string, fn: (c: KernelComposer) => TensorInfo): TensorInfo {
  const c = new KernelComposer(backend, backendName);
  try {
    return c.keep(fn(c));
  } finally {
    c.disposeAll();
  }
}
