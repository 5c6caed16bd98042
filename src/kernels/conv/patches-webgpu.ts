// The patch matrix of a stride-1 convolution in one kernel of ours (WebGPU;
// the CPU twin is the unit tests' reference): row (b, y, x), column
// (i, j, c) holds input pixel (y + i − top, x + j − left) of channel c, or 0
// in the padding. The weight gradient is then one product, patchesᵀ × dy
// (conv/filter-grad.ts, 'patches'). Composed from tfjs kernels the
// same matrix costs a pad, kh·kw slices and a concatenation of kh·kw inputs
// (13–14 dispatches for 3×3; ~22 for the per-tap products): on a real GPU
// each dispatch costs more host time than the copy itself.
import type { KernelBackend, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const PATCHES = 'CifarPatches';

export interface PatchesAttrs {
  filterHeight: number;
  filterWidth: number;
  /** Padding above and left of the input. Unit: pixels. */
  padTop: number;
  padLeft: number;
  outHeight: number;
  outWidth: number;
}

const THREADS = 64;

class PatchesProgram implements WebGPUProgram {
  variableNames = ['x'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [THREADS, 1, 1];
  uniforms = 'padTop : i32, padLeft : i32, outHeight : i32, outWidth : i32,';
  size = true;

  constructor(
    rows: number,
    private readonly filterWidth: number,
    private readonly columns: number,
  ) {
    this.outputShape = [rows, columns];
    // The constants baked into the code belong in the key: tfjs caches pipelines by it.
    this.shaderKey = `cifarPatches_${filterWidth}_${columns}`;
    this.dispatch = [Math.ceil((rows * columns) / THREADS), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let channels = uniforms.xShape[3];
          let row = index / ${this.columns};
          let column = index % ${this.columns};
          let c = column % channels;
          let tap = column / channels;
          let y = (row / uniforms.outWidth) % uniforms.outHeight + tap / ${this.filterWidth} - uniforms.padTop;
          let x0 = row % uniforms.outWidth + tap % ${this.filterWidth} - uniforms.padLeft;
          let b = row / (uniforms.outWidth * uniforms.outHeight);
          let inside = y >= 0 && y < uniforms.xShape[1] && x0 >= 0 && x0 < uniforms.xShape[2];
          let at = select(0, ((b * uniforms.xShape[1] + y) * uniforms.xShape[2] + x0) * channels + c, inside);
          result[index] = select(0.0, x[at], inside);
        }
      }
    `;
  }
}

type Impl = (args: { inputs: { x?: TensorInfo }; backend: KernelBackend; attrs?: NamedAttrMap }) => TensorInfo;

function shapeOf(x: TensorInfo, a: PatchesAttrs): { rows: number; columns: number } {
  const [batch, , , channels] = x.shape as [number, number, number, number];
  return { rows: batch * a.outHeight * a.outWidth, columns: a.filterHeight * a.filterWidth * channels };
}

const webgpuPatches: Impl = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as PatchesAttrs;
  const x = inputs.x as TensorInfo;
  const { rows, columns } = shapeOf(x, a);
  const uniforms = [a.padTop, a.padLeft, a.outHeight, a.outWidth].map((v) => ({ type: 'int32', data: [v] }));
  return (backend as unknown as WebGPUBackend).runWebGPUProgram(new PatchesProgram(rows, a.filterWidth, columns), [x], 'float32', uniforms);
};

const cpuPatches: Impl = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as PatchesAttrs;
  const x = inputs.x as TensorInfo;
  const [, height, width, channels] = x.shape as [number, number, number, number];
  const values = backend.readSync(x.dataId) as Float32Array;
  const { rows, columns } = shapeOf(x, a);
  const out = new Float32Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    const b = Math.floor(row / (a.outWidth * a.outHeight));
    const oy = Math.floor(row / a.outWidth) % a.outHeight;
    const ox = row % a.outWidth;
    for (let column = 0; column < columns; column++) {
      const tap = Math.floor(column / channels);
      const y = oy + Math.floor(tap / a.filterWidth) - a.padTop;
      const x0 = ox + (tap % a.filterWidth) - a.padLeft;
      if (y < 0 || y >= height || x0 < 0 || x0 >= width) continue;
      out[row * columns + column] = values[((b * height + y) * width + x0) * channels + (column % channels)] as number;
    }
  }
  return { dataId: backend.write(out, [rows, columns], 'float32'), shape: [rows, columns], dtype: 'float32' };
};

/** The kernel's configs for the backends that have it (webgpu, cpu). */
export function patchesKernels(backendName: string): KernelConfig[] {
  const impl = backendName === 'webgpu' ? webgpuPatches : backendName === 'cpu' ? cpuPatches : null;
  return impl ? [{ kernelName: PATCHES, backendName, kernelFunc: impl as unknown as KernelConfig['kernelFunc'] }] : [];
}
