// Which of tfjs's registered kernels are ours, and what was registered before
// each (the stock kernel ours falls back on and that unregistering puts back).
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';

// Kept on globalThis under a registered symbol so that two copies of this
// module (e.g. two bundles in one realm) still see each other's registrations
// and never wrap our own kernel as if it were the stock one.
type Installed = Map<string, { ours: KernelConfig; stock: KernelConfig | undefined }>;
const STATE_KEY = Symbol.for('cifar10-in-a-tab.trainingKernels');
function installed(): Installed {
  const g = globalThis as unknown as Record<symbol, Installed | undefined>;
  return (g[STATE_KEY] ??= new Map());
}
const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;

export function lookup(kernelName: string, backendName: string): KernelConfig | undefined {
  return getKernel(kernelName, backendName) as KernelConfig | undefined;
}

export function isInstalled(kernelName: string, backendName: string): boolean {
  return installed().has(key(kernelName, backendName));
}

/** Whether tfjs runs ours for `kernelName` now (installed, and not put back to the stock one since). */
export function oursRuns(kernelName: string, backendName: string): boolean {
  const entry = installed().get(key(kernelName, backendName));
  return entry !== undefined && lookup(kernelName, backendName) === entry.ours;
}

/** Registers ours for `kernelName`, keeping whatever was registered before as its stock kernel; a no-op when ours is there. */
export function install(kernelName: string, backendName: string, make: (stock: KernelConfig | undefined) => KernelFunc): void {
  const k = key(kernelName, backendName);
  const current = lookup(kernelName, backendName);
  const prior = installed().get(k);
  if (prior !== undefined && current === prior.ours) return;
  // Anything else registered now is the backend's own kernel (or a newer
  // registration by someone else): that becomes the fallback we delegate to.
  const stock = current;
  if (stock !== undefined) unregisterKernel(kernelName, backendName);
  const ours: KernelConfig = {
    kernelName,
    backendName,
    kernelFunc: make(stock),
    // The stock kernel's setup (wasm binds its C function here) must still run
    // when the backend initialises after this registration.
    ...(stock?.setupFunc !== undefined ? { setupFunc: stock.setupFunc } : {}),
    ...(stock?.disposeFunc !== undefined ? { disposeFunc: stock.disposeFunc } : {}),
  };
  registerKernel(ours);
  installed().set(k, { ours, stock });
}

/** Puts back the backend's own kernels (or none, where it had none). */
export function uninstallAll(backendName: string): void {
  for (const [k, { ours, stock }] of installed()) {
    if (ours.backendName !== backendName) continue;
    if (lookup(ours.kernelName, backendName) === ours) {
      unregisterKernel(ours.kernelName, backendName);
      if (stock !== undefined) registerKernel(stock);
    }
    installed().delete(k);
  }
}

/**
 * Puts the stock kernel back in place of ours for `kernelName` (for A/B
 * timing); ours stays on record, so registering again is still a no-op.
 * False where ours is not installed or there is no stock kernel.
 */
export function restoreStock(kernelName: string, backendName: string): boolean {
  const entry = installed().get(key(kernelName, backendName));
  if (entry?.stock === undefined || !oursRuns(kernelName, backendName)) return false;
  unregisterKernel(kernelName, backendName);
  registerKernel(entry.stock);
  return true;
}

/** The kernel that was registered before ours, if any. */
export function stockKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  const entry = installed().get(key(kernelName, backendName));
  return entry !== undefined ? entry.stock : lookup(kernelName, backendName);
}
