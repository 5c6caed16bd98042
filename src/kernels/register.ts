// Installs our kernels (registry.ts) into tfjs's global kernel registry, and
// answers the questions the training code asks of the registry: does the step
// take our kernel here (`stepTakes`), which fused optimizer update runs here
// (`fusedUpdateFor`), which kernels run wasm's convolutions (in words).
import { getBackend } from '@tensorflow/tfjs';
import { install, isInstalled, lookup, oursRuns, uninstallAll } from './backend/installed';
import { FmaConv, wasmThreads } from './conv/fma-wasm';
import type { FusedUpdate } from './optimizer/update';
import { KERNELS, kernelsOn, type KernelBackend } from './registry';

export { restoreStock, stockKernel } from './backend/installed';
export { TUNABLE_RULES } from './conv/rules';

/** The kernel names `registerTrainingKernels(backendName)` may register, whether or not this engine can run them all. */
export function plannedKernels(backendName: string): string[] {
  return kernelsOn(backendName).flatMap((e) => (e.mode === 'optimizer-update' ? [] : [e.kernel]));
}

/**
 * Registers our kernels for `backendName` ('wasm', 'cpu', 'webgpu', 'webgl';
 * others get nothing), as registry.ts lists them. Call it after importing the
 * backend's package and before training; calling it again is a no-op.
 * Returns the kernel names that are ours on that backend afterwards.
 */
export function registerTrainingKernels(backendName: string): { registered: string[] } {
  const rows = kernelsOn(backendName);
  if (rows.length === 0) return { registered: [] };
  if (lookup('Conv2D', backendName) === undefined) {
    throw new Error(`registerTrainingKernels('${backendName}'): the backend's kernels are not registered; import its package first`);
  }
  const backend = backendName as KernelBackend;
  const registered: string[] = [];
  for (const row of rows) {
    if (row.mode === 'optimizer-update') continue;
    if (row.mode === 'replaces-stock') {
      if (row.available && !row.available()) continue;
      const ours = isInstalled(row.kernel, backendName);
      if (row.needsStock && !ours && lookup(row.kernel, backendName) === undefined) continue;
      install(row.kernel, backendName, (stock) => row.make(backend, stock?.kernelFunc));
    } else {
      install(row.kernel, backendName, () => row.make(backend));
    }
    registered.push(row.kernel);
  }
  return { registered };
}

/** Puts back the backend's own kernels (or none, where it had none); for tests and A/B timing. */
export function unregisterTrainingKernels(backendName: string): void {
  uninstallAll(backendName);
}

/**
 * Whether the training step takes our kernel `kernelName` on the current
 * backend: the registry has it there for training (not only as a test
 * reference), and it is registered now. The step's fused paths (batch input,
 * dropout, cross-entropy, BatchNorm + activation) ask this before each use.
 */
export function stepTakes(kernelName: string): boolean {
  const backend = getBackend();
  const row = KERNELS.find((e) => e.backend === backend && e.kernel === kernelName);
  return row?.mode === 'own-name' && row.use === 'training' && lookup(kernelName, backend) !== undefined;
}

/** The fused optimizer update of a backend, or null where tfjs's own runs. */
export function fusedUpdateFor(backendName: string): FusedUpdate | null {
  const row = KERNELS.find((e) => e.backend === backendName && e.mode === 'optimizer-update');
  return row?.mode === 'optimizer-update' ? row.update : null;
}

/** A registry row in use on this backend now, for the page's model details. */
export interface KernelInUse {
  op: string;
  kernel: string;
  why: string;
}

/** The registry's rows for `backendName` that run now: the kernels of ours installed there, and its fused optimizer update. */
export function kernelsInUse(backendName: string): KernelInUse[] {
  return kernelsOn(backendName)
    .filter((e) => e.mode === 'optimizer-update' || oursRuns(e.kernel, backendName))
    .map(({ op, kernel, why }) => ({ op, kernel, why }));
}

/** Which kernels run wasm's convolutions in this worker now, in words for the page's model details. */
export function wasmConvolutionsInWords(backend: unknown): string {
  if (!FmaConv.compiles()) return "convolutions on XNNPACK's kernels (this browser's WebAssembly has no relaxed SIMD)";
  const threads = wasmThreads(backend);
  if (threads === 1) return "convolutions on ours, with relaxed SIMD's fused multiply-add (one thread per worker)";
  return `convolutions on XNNPACK's kernels${threads === null ? '' : ` and their ${threads} threads`} (ours runs where a worker has one)`;
}
