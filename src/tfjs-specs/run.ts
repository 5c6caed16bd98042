/**
 * Runs TensorFlow.js's own op specs (the Jasmine files in
 * @tensorflow/tfjs-core/dist) on one backend, with its stock kernels or with
 * ours registered by the app's own registerTrainingKernels. One run per page
 * or process: the spec files define their suites when imported, and a second
 * run in the same realm would find them defined already.
 * Node (node.ts) and the browser page (page.ts) both call runTfjsSpecs.
 */
import './jasmine-global';
import jasmineRequire, { type Env as JasmineEnv } from 'jasmine-core/lib/jasmine-core/jasmine.js';
import * as tf from '@tensorflow/tfjs';
import * as kernelNames from '@tensorflow/tfjs-core/dist/kernel_names';
import { setTestEnvs, type TestEnv } from '@tensorflow/tfjs-core/dist/jasmine_util';
import { FusedAdam, FusedMomentum } from '../train/fusedOptimizers';
import { fusedUpdateFor, plannedKernels, registerTrainingKernels } from '../kernels/register';
import { SPEC_FILES, specFilesFor, type SpecFile } from './coverage';

export type KernelSet = 'stock' | 'ours';

export interface SpecResult {
  /** Jasmine's full name: the suite (with tfjs's test environment) and the spec. */
  name: string;
  file: SpecFile | 'suite';
  status: 'passed' | 'failed' | 'skipped';
  /** The failed expectations' messages, first lines only. */
  errors: string[];
  ms: number;
}

export interface SpecRun {
  backend: string;
  kernels: KernelSet;
  files: SpecFile[];
  /** The tfjs kernels registry.ts lists as replacing stock ones on this backend. */
  planned: string[];
  /** The tfjs kernels ours replace on this backend in this run (empty for stock). */
  replaced: string[];
  /** Kernels of ours under names of our own, which no tfjs spec can call. */
  ownNames: string[];
  /** Whether tf.train.adam and tf.train.momentum built our fused optimizers in this run. */
  fusedOptimizers: boolean;
  results: SpecResult[];
  seconds: number;
}

// tfjs's own test environments for these backends (the setup_test files of
// tfjs-backend-*): no forwarding of small ops to the CPU, or the GPU kernels would not run.
const TEST_ENVS: Readonly<Record<string, TestEnv>> = {
  cpu: { name: 'cpu', backendName: 'cpu', isDataSync: true },
  wasm: { name: 'wasm', backendName: 'wasm', isDataSync: true },
  webgl: {
    name: 'webgl2',
    backendName: 'webgl',
    flags: { WEBGL_VERSION: 2, WEBGL_CPU_FORWARD: false, WEBGL_SIZE_UPLOAD_UNIFORM: 0 },
    isDataSync: true,
  },
  webgpu: { name: 'webgpu', backendName: 'webgpu', flags: { WEBGPU_CPU_FORWARD: false }, isDataSync: false },
};

const TFJS_KERNEL_NAMES = new Set<unknown>(Object.values(kernelNames));

const plannedTfjsKernels = (backend: string) => plannedKernels(backend).filter((k) => TFJS_KERNEL_NAMES.has(k));

/** With `ours`: our kernels registered, and tfjs's optimizer factories making our fused optimizers where the backend has them. */
function installKernels(backend: string, kernels: KernelSet): { replaced: string[]; ownNames: string[]; fusedOptimizers: boolean } {
  const fusedOptimizers = kernels === 'ours' && fusedUpdateFor(backend) !== null;
  if (kernels !== 'ours') return { replaced: [], ownNames: [], fusedOptimizers };
  const registered = registerTrainingKernels(backend).registered;
  if (fusedOptimizers) {
    // The specs build their optimizers through these factories; the app builds ours directly (step.ts).
    tf.train.adam = (learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon?: number) =>
      new FusedAdam(learningRate, beta1, beta2, epsilon);
    tf.train.momentum = (learningRate: number, momentum: number, useNesterov = false) =>
      new FusedMomentum(learningRate, momentum, useNesterov);
  }
  return {
    replaced: registered.filter((k) => TFJS_KERNEL_NAMES.has(k)),
    ownNames: registered.filter((k) => !TFJS_KERNEL_NAMES.has(k)),
    fusedOptimizers,
  };
}

/** A reporter on `env` that gathers every spec's result, and every error outside a spec, as it finishes. */
function collectResults(env: JasmineEnv, fileOf: ReadonlyMap<string, SpecFile>): SpecResult[] {
  const results: SpecResult[] = [];
  const seen = new Map<string, number>();
  // A few suites repeat a spec's name; a number keeps each one its own line in the comparison.
  const unique = (name: string) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name} #${n}`;
  };
  const firstLines = (failures: { message: string }[]) => failures.map((f) => f.message.split('\n')[0] ?? '');
  env.addReporter({
    specDone: (r) =>
      results.push({
        name: unique(r.fullName),
        file: fileOf.get(r.id) ?? 'suite',
        status: r.status === 'passed' ? 'passed' : r.status === 'failed' ? 'failed' : 'skipped',
        errors: firstLines(r.failedExpectations),
        ms: r.duration ?? 0,
      }),
    // An error in a suite's afterAll belongs to no spec: it is a result of its own.
    suiteDone: (r) => {
      if (r.failedExpectations.length > 0)
        results.push({
          name: unique(`${r.fullName} (suite)`),
          file: 'suite',
          status: 'failed',
          errors: firstLines(r.failedExpectations),
          ms: 0,
        });
    },
    jasmineDone: (r) => {
      if (r.failedExpectations.length > 0)
        results.push({
          name: unique('(outside any suite)'),
          file: 'suite',
          status: 'failed',
          errors: firstLines(r.failedExpectations),
          ms: 0,
        });
    },
  });
  return results;
}

/**
 * Runs the spec files for `backend` (or only `only` of them) with `kernels`.
 * The backend's package must be imported, and `backend` registered, already.
 */
export async function runTfjsSpecs(backend: string, kernels: KernelSet, only?: readonly SpecFile[]): Promise<SpecRun> {
  const testEnv = TEST_ENVS[backend];
  if (testEnv === undefined) throw new Error(`no TensorFlow.js test environment for '${backend}'`);
  const started = performance.now();
  const jasmine = jasmineRequire.core(jasmineRequire);
  // SwiftShader runs a GPU spec in seconds where a GPU takes milliseconds.
  jasmine.DEFAULT_TIMEOUT_INTERVAL = 120_000;
  const env = jasmine.getEnv();
  env.configure({ random: false, verboseDeprecations: false });
  const globals = jasmineRequire.interface(jasmine, env);
  const fileOf = new Map<string, SpecFile>();
  let loading: SpecFile | null = null;
  Object.assign(globalThis, globals, {
    // Spec definitions happen while their file is imported: that is how a result knows its file.
    it: (...args: unknown[]) => {
      const spec = globals.it(...args);
      if (loading !== null) fileOf.set(spec.id, loading);
      return spec;
    },
  });
  setTestEnvs([testEnv]);

  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start '${backend}' here`);
  await tf.ready();
  const { replaced, ownNames, fusedOptimizers } = installKernels(backend, kernels);

  const planned = plannedTfjsKernels(backend);
  const files = specFilesFor(planned, fusedUpdateFor(backend) !== null).filter((f) => only === undefined || only.includes(f));
  for (const file of files) {
    loading = file;
    await SPEC_FILES[file]();
  }
  loading = null;

  const results = collectResults(env, fileOf);
  await env.execute();
  return { backend, kernels, files, planned, replaced, ownNames, fusedOptimizers, results, seconds: (performance.now() - started) / 1000 };
}
