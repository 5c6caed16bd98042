/**
 * tfjs-specs.html: one run of TensorFlow.js's specs in this page, its
 * backend, kernel set and (optionally) spec files from the query string.
 * `window.tfjsSpecs` is the run's promise, which e2e/tfjs-specs.spec.ts awaits.
 */
import '@tensorflow/tfjs-backend-webgpu';
import { isSpecFile, type SpecFile } from './coverage';
import { runTfjsSpecs, type SpecRun } from './run';

declare global {
  interface Window {
    tfjsSpecs?: Promise<SpecRun>;
  }
}

function start(): Promise<SpecRun> {
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend') ?? '';
  const kernels = params.get('kernels');
  if (kernels !== 'stock' && kernels !== 'ours') throw new Error(`kernels=${String(kernels)}: stock or ours`);
  const files = params.get('files')?.split(',');
  const unknown = files?.filter((f) => !isSpecFile(f)) ?? [];
  if (unknown.length > 0) throw new Error(`not spec files of ours: ${unknown.join(', ')}`);
  return runTfjsSpecs(backend, kernels, files as SpecFile[] | undefined);
}

const status = document.getElementById('status');
window.tfjsSpecs = Promise.resolve().then(start);
window.tfjsSpecs.then(
  (run) => {
    const passed = run.results.filter((r) => r.status === 'passed').length;
    if (status)
      status.textContent = `${run.backend}, ${run.kernels} kernels: ${passed} of ${run.results.length} specs passed in ${run.seconds.toFixed(1)} s`;
  },
  (error: unknown) => {
    if (status) status.textContent = `The run failed: ${String(error)}`;
  },
);
