/// <reference lib="webworker" />
/**
 * A benchmark worker: either one job run in one go (kernels, check, peer,
 * forward), or one model trained step by step on request (setup, steps,
 * profile) so that the page can interleave ours and the baseline. The page
 * terminates it afterwards: every job starts from a fresh TensorFlow.js
 * (kernel registry, shader cache, device).
 */
import * as tf from '@tensorflow/tfjs';
import { installCounters, countsBetween } from './counters';
import { loadBenchImages, type BenchImages } from './data';
import { startBackend } from './backend';
import { bnActDispatches, fusedChecks } from './fused-checks';
import { runCheckJob, runForwardJob, runKernelJob } from './kernels';
import { runGemmJob } from './gemmJob';
import { runOpsJob } from './ops';
import { runPeerJob } from './peer';
import { createBaselineRunner, createOurRunner, oursFilterGradient, planKernels, trainableParams, type Runner } from './train';
import type { FromBenchWorker, SetupReply, StepsReply, ToBenchWorker, TrainJob, WorkerJob, WorkerResult } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (message: FromBenchWorker) => self.postMessage(message);
const log = (text: string) => post({ type: 'log', text });

function setFlags(flags: Record<string, boolean | number> | undefined): void {
  for (const [flag, value] of Object.entries(flags ?? {})) tf.env().set(flag, value);
}

async function runJob(job: WorkerJob, dataUrl: string): Promise<WorkerResult> {
  if (job.kind === 'kernels') setFlags(job.flags);
  switch (job.kind) {
    case 'kernels':
      await startBackend(job.backend, true, [], job.wasmThreads);
      return runKernelJob(job, log);
    case 'check':
      await startBackend(job.backend, true);
      return runCheckJob(job);
    case 'forward':
      await startBackend(job.backend, true);
      return runForwardJob(job, log);
    case 'fused': {
      // Before the backend creates its device: only calls after installation are counted.
      const count = job.backend === 'webgpu' ? installCounters() : undefined;
      await startBackend(job.backend, true);
      const errors: Record<string, number> = {};
      for (const check of fusedChecks()) if (check.backends.includes(job.backend)) errors[check.name] = await check.run();
      const dispatches = count ? await bnActDispatches(() => count.snapshot().dispatches) : undefined;
      return { kind: 'fused', backend: job.backend, errors, ...(dispatches !== undefined ? { bnActDispatches: dispatches } : {}) };
    }
    case 'ops': {
      const { adapter } = await startBackend('wasm', true, [], job.wasmThreads);
      return { kind: 'ops', adapter, rows: runOpsJob(job, log) };
    }
    case 'gemm': {
      // One thread: ours is single-threaded, as each replica worker is.
      const { adapter } = await startBackend('wasm', true, [], 1);
      return { kind: 'gemm', adapter, rows: runGemmJob(job, log) };
    }
    case 'peer': {
      const images = await loadBenchImages(dataUrl);
      const { wasmThreads } = await startBackend(job.backend, true, [], job.wasmThreads);
      return { kind: 'peer', rows: await runPeerJob(job, images, wasmThreads, log) };
    }
  }
}

let runner: Runner | undefined;
/** GPU API calls counted in this worker; installed at setup, before the backend creates its device or context. */
let counters: ReturnType<typeof installCounters> | undefined;
/** A replicated job between 'setup' and 'link'. */
let pending: { job: TrainJob; images: BenchImages } | undefined;

async function handle(message: ToBenchWorker): Promise<unknown> {
  switch (message.type) {
    case 'job':
      return runJob(message.job, message.dataUrl);
    case 'setup': {
      const { job } = message;
      if (job.backend === 'webgpu' || job.backend === 'webgl') counters = installCounters();
      setFlags(job.flags);
      const images = await loadBenchImages(message.dataUrl);
      const { adapter, software, registered } = await startBackend(
        job.backend,
        job.mode === 'ours',
        job.mode === 'ours' ? job.stockKernels : [],
        job.wasmThreads,
      );
      log(`${job.mode}: ${adapter}; our kernels: ${registered.join(', ') || 'none'}`);
      // Before the step is built: the formulations its convolutions run (timed here unless `tune` or the adapter says not).
      const kernelPlan = job.mode === 'ours' ? await planKernels(job, { adapter, software }) : undefined;
      let warmupMs: number | null = null;
      // Replicas build their runner once they know each other ('link').
      if ((job.replicas ?? 1) > 1) pending = { job, images };
      else if (job.mode === 'ours') ({ runner, warmupMs } = await createOurRunner(job, images));
      else runner = createBaselineRunner(job, images);
      const reply: SetupReply = {
        params: trainableParams(job),
        adapter,
        registered,
        warmupMs,
        oursFilterGradient: oursFilterGradient(job),
        ...(kernelPlan ? { kernelPlan } : {}),
      };
      return reply;
    }
    case 'link': {
      if (!pending) throw new Error('link before the setup of a replicated job');
      if (pending.job.mode !== 'ours') throw new Error('Only ours trains with replicas');
      ({ runner } = await createOurRunner(pending.job, pending.images, message.link));
      pending = undefined;
      return null;
    }
    case 'steps': {
      if (!runner) throw new Error('steps before setup');
      const before = counters?.snapshot();
      const reply: StepsReply = await runner.steps(message.count);
      const after = counters?.snapshot();
      return before && after ? { ...reply, counts: countsBetween(before, after) } : reply;
    }
    case 'profile':
      if (!runner) throw new Error('profile before setup');
      return runner.profile();
  }
}

self.onmessage = (event: MessageEvent<ToBenchWorker>) => {
  handle(event.data).then(
    (value) => post({ type: 'reply', value }),
    (error: unknown) => post({ type: 'error', message: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) }),
  );
};
