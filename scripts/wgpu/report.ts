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

export interface WgpuResult {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** Max relative error of each check that runs on WebGPU. */
  errors: Record<string, number>;
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

/** What the report breaks; empty when it passes. */
export function failures(result: WgpuResult): string[] {
  const out: string[] = [];
  if (Object.keys(result.errors).length === 0) out.push('no fused check ran');
  for (const [name, error] of Object.entries(result.errors)) {
    if (!(error < TOLERANCE)) out.push(`${name}: relative error ${error} (must be < ${TOLERANCE})`);
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
