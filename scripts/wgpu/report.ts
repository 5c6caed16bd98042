/**
 * What a wgpu run's report (scripts/wgpu/harness.ts) must show to pass:
 * the bars Chromium's tests set (e2e/bench.spec.ts), and every WGSL module of
 * ours compiled by naga without a word. TensorFlow.js's own modules fail the
 * run only with an error: their warnings are theirs to fix.
 */
/** One compiled WGSL module: its label (tfjs: the program's class name), and naga's messages. */
export interface ModuleReport {
  label: string;
  ours: boolean;
  errors: string[];
  warnings: string[];
}

/** Which limits the device was given: WebGPU's defaults, or those TensorFlow.js asks of the adapter. */
export type LimitsMode = 'default' | 'adapter';

/** How many times each check runs: lavapipe runs workgroups on several threads at once, so a race shows as a result that changes. */
export const REPEATS = 3;

/**
 * WebGPU's default limits that our kernels touch (W3C WebGPU, §3.6.2 "Limits"):
 * storage buffers per stage (BatchNorm's input gradient binds 8, seven inputs
 * and its output: exactly the default), workgroup storage (BatchNorm's
 * reductions share 512 bytes, the loss's 4 KiB), invocations per workgroup
 * (ours use 64, 128 and, for the loss, 256: the default's maximum),
 * workgroups per dimension (TensorFlow.js spreads a larger dispatch over y
 * and z). Unit: count, or bytes for the storage size.
 */
export const DEFAULT_LIMITS = Object.freeze({
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16_384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65_535,
});
export type LimitName = keyof typeof DEFAULT_LIMITS;
export const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as LimitName[];

/** Whether TensorFlow.js chose its matmul programs (as for users), or was held to MatMulPackedProgram, which adds in a fixed order. */
export type MatMulMode = 'tfjs' | 'packed';

export interface WgpuResult {
  limits: LimitsMode;
  matmul: MatMulMode;
  /** What the device TensorFlow.js trained on allowed. */
  deviceLimits: Record<LimitName, number>;
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** Max relative error of each check that runs on WebGPU, once per repeat. */
  errors: Record<string, number[]>;
  /** Per check and repeat: how many buffers it read back from the GPU, and a hash of their bits. */
  digests: Record<string, string[]>;
  /** Per check: the programs (WGSL modules' labels) it dispatched, ours and TensorFlow.js's. */
  programs: Record<string, string[]>;
  /** Dispatches of one fused BatchNorm + ELU training pass (7 in Chromium). */
  bnActDispatches: number;
  modules: ModuleReport[];
  /** Validation errors the device reported outside any module's compilation. */
  uncaptured: string[];
  /** naga's errors for a module that is wrong on purpose: none means its messages do not reach us, and the compile check could not fail. */
  controlErrors: string[];
}

/** The bar e2e/bench.spec.ts sets in Chromium. Unit: relative error. */
export const TOLERANCE = 1e-4;
/** Stats, forward, two running averages, two gradient sums, dx: as in Chromium. */
export const BN_ACT_DISPATCHES = 7;
/**
 * Our WGSL modules by label (tfjs labels a module with its program's class
 * name; the fused optimizer names its own). Each must be compiled by the
 * checks: a new kernel of ours is added here and to FUSED_CHECKS.
 */
export const OUR_MODULES = [
  'BatchInputProgram',
  'BnStatsProgram',
  'BnActForwardProgram',
  'BnActGradSumProgram',
  'BnActGradInputProgram',
  'MovingAverageProgram',
  'PatchesProgram',
  'DropoutProgram',
  'CrossEntropyProgram',
  'CrossEntropyGradProgram',
  'FusedAdam',
  'FusedMomentum',
] as const;

/**
 * TensorFlow.js programs that add floats in whatever order workgroups finish
 * (atomics), so their bits may change from run to run on a GPU that runs
 * workgroups at once. MatMulSplitKProgram splits a long inner dimension
 * (a weight gradient's batch × pixels) over workgroups that atomically add
 * their partial sums into the output.
 */
export const UNORDERED_PROGRAMS: readonly string[] = ['MatMulSplitKProgram'];

/** Whether a check ran a program whose result may differ in its last bits from run to run. */
export function unordered(result: WgpuResult, name: string): boolean {
  return result.matmul === 'tfjs' && (result.programs[name] ?? []).some((p) => UNORDERED_PROGRAMS.includes(p));
}

/** What the report breaks; empty when it passes. */
export function failures(result: WgpuResult): string[] {
  const out: string[] = [];
  if (Object.keys(result.errors).length === 0) out.push('no fused check ran');
  for (const [name, errors] of Object.entries(result.errors)) {
    const [first] = errors;
    if (errors.length !== REPEATS) out.push(`${name}: ran ${errors.length} times (${REPEATS} asked)`);
    const worst = errors.find((e) => !(e < TOLERANCE));
    if (worst !== undefined) out.push(`${name}: relative error ${worst} (must be < ${TOLERANCE})`);
    else if (!errors.every((e) => Object.is(e, first)))
      out.push(`${name}: not the same on every run (${errors.join(', ')}): a race between workgroups?`);
    const digests = result.digests[name] ?? [];
    if (new Set(digests).size > 1 && !unordered(result, name))
      out.push(`${name}: read back different bits on different runs (${digests.join(', ')}): a race between workgroups?`);
  }
  if (result.limits === 'default') {
    for (const name of LIMIT_NAMES) {
      if (result.deviceLimits[name] !== DEFAULT_LIMITS[name])
        out.push(`the device was to have the default ${name} (${DEFAULT_LIMITS[name]}), but had ${result.deviceLimits[name]}`);
    }
  }
  if (result.bnActDispatches !== BN_ACT_DISPATCHES)
    out.push(`fused BatchNorm + ELU took ${result.bnActDispatches} dispatches (${BN_ACT_DISPATCHES} in Chromium)`);
  const compiled = new Set(result.modules.map((m) => m.label));
  for (const label of OUR_MODULES) if (!compiled.has(label)) out.push(`${label} was never compiled: no check ran it`);
  if (result.controlErrors.length === 0) out.push('naga reported nothing for invalid WGSL: its messages do not reach the harness');
  for (const m of result.modules) {
    for (const e of m.errors) out.push(`${m.label}: naga error ${e}`);
    if (m.ours) for (const w of m.warnings) out.push(`${m.label}: naga warning ${w}`);
  }
  for (const e of result.uncaptured) out.push(`device error: ${e}`);
  return out;
}
