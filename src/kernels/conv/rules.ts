// The static choice of formulation per convolution shape and backend: what
// timing the candidates chose on the CPUs and the software GPU we have
// (docs/benchmarks.md, "Kernel formulations per backend"). On a hardware GPU
// the app times the candidates on the device itself, and those choices
// override these rules for the shapes timed (../tuning/).
import type { FilterGradMethod, FilterGradRule } from './filter-grad';
import { webgpuForwardConvRule, type ForwardConvRule } from './forward';
import type { InputGradRule } from './input-grad';

/** The rules that timing on the device may override, for one backend. */
export interface StaticRules {
  filterGrad: FilterGradRule;
  /** Only where the backend has our forward convolution (WebGPU). */
  forward?: ForwardConvRule;
}

function prefer(order: FilterGradMethod[], possible: FilterGradMethod[]): FilterGradMethod {
  const m = order.find((o) => possible.includes(o));
  if (m === undefined) throw new Error(`no Conv2DBackpropFilter implementation among ${possible.join(', ')}`);
  return m;
}

/** im2col while the patch matrix is thin (Cin·kh·kw ≤ 72 rows), the forward conv past that. */
export const wasmFilterGradRule: FilterGradRule = (info, possible) =>
  info.inChannels * info.filterHeight * info.filterWidth <= 72
    ? prefer(['im2col', 'conv'], possible)
    : prefer(['conv', 'im2col'], possible);

export const cpuFilterGradRule: FilterGradRule = (_info, possible) => prefer(['conv', 'stock'], possible);

export const webgpuFilterGradRule: FilterGradRule = (info, possible) => {
  if (info.filterHeight * info.filterWidth > 9) return prefer(['conv', 'stock'], possible);
  if (possible.includes('patches')) return 'patches';
  if (info.inChannels >= 32 && info.outChannels <= info.inChannels) return prefer(['taps', 'im2colNhwc', 'stock'], possible);
  return info.inChannels >= 16 ? prefer(['im2colNhwc', 'im2col', 'stock'], possible) : prefer(['im2col', 'stock'], possible);
};

export const webglFilterGradRule: FilterGradRule = (info, possible) =>
  info.filterHeight * info.filterWidth > 9 || info.inChannels < 16
    ? prefer(['conv', 'stock'], possible)
    : prefer(['im2col', 'stock'], possible);

export const wasmInputGradRule: InputGradRule = () => 'conv';

/**
 * The static rules that timing on the device may override, per backend.
 * WASM has none to tune: its rules were measured on CPUs like the ones it runs on.
 * cpu is here for the unit tests, which tune on it.
 */
export const TUNABLE_RULES: Readonly<Record<string, StaticRules>> = Object.freeze({
  webgpu: { filterGrad: webgpuFilterGradRule, forward: webgpuForwardConvRule },
  webgl: { filterGrad: webglFilterGradRule },
  cpu: { filterGrad: cpuFilterGradRule },
});
