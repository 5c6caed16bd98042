/**
 * Milliseconds per training step, ours against the way the official
 * TensorFlow.js examples train (compile + trainOnBatch/fit), same model, same
 * images, same backend, each in its own worker.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput } from '../data/preprocess';
import { buildModel } from '../model/model';
import { stockKernel } from '../kernels';
import { READ_AT_LEAST_EVERY_MS, READ_EVERY } from '../train/metricReader';
import { warmupDecayRate } from '../train/schedule';
import { createOptimizer, createTrainStep } from '../train/step';
import { shareOf, weightsChecksum, type ReplicaLink } from '../train/replicas';
import { fillBenchBatch, type BenchImages } from './data';
import { KernelPlanner } from '../worker/kernelPlan';
import type { KernelPlanReport } from '../worker/protocol';
import { jobRecipe, type KernelProfile, type TrainJob } from './protocol';

/** The optimizer trainModel would create for this job, at the rate of its first step (a 100-step schedule's, where it has one). */
function makeOptimizer(job: TrainJob): { optimizer: tf.Optimizer; dispose: () => void } {
  return createOptimizer(jobRecipe(job), 100);
}

/** The same optimizer as tfjs itself has it (tf.train.*, no fused update): the baseline's. */
function stockOptimizer(job: TrainJob): tf.Optimizer {
  const { optimizer, schedule } = jobRecipe(job);
  const rate = schedule.kind === 'constant' ? schedule.rate : warmupDecayRate(0, 100, schedule);
  return optimizer.kind === 'adam'
    ? tf.train.adam(rate, optimizer.beta1, optimizer.beta2)
    : tf.train.momentum(rate, optimizer.momentum, optimizer.nesterov);
}

/** As the app does before a run (src/worker/kernelPlan.ts), on the model and per-worker batch `job` trains; no cache across workers. */
export async function planKernels(job: TrainJob, backend: { adapter: string; software: boolean }): Promise<KernelPlanReport> {
  const model = buildModel({ preset: job.preset, color: 'rgb', seed: 1 });
  const info = { name: job.backend, adapter: backend.adapter, software: backend.software, fallbackReasons: [], forced: true };
  try {
    return await new KernelPlanner().prepare(model, job.batchSize / (job.replicas ?? 1), info, job.tune ?? 'auto');
  } finally {
    model.dispose();
  }
}

/** Values in the model's trainable weights: the size of one replica's gradient. */
export function trainableParams(job: TrainJob): number {
  const model = buildModel({ preset: job.preset, color: 'rgb', seed: 1 });
  const count = model.trainableWeights.reduce((s, w) => s + w.read().size, 0);
  model.dispose();
  return count;
}

/**
 * Each step's image batch is different; the model and the step are built
 * fresh for every call. A replica trains on its share of every batch: rows
 * `index`·B/R … of batch `step`, as if the R shares were one batch of B.
 */
function makeOurStep(job: TrainJob, images: BenchImages, link?: ReplicaLink) {
  const model = buildModel({ preset: job.preset, color: 'rgb', seed: 1 });
  const { optimizer, dispose: disposeOptimizer } = makeOptimizer(job);
  const recipe = jobRecipe(job);
  const count = link?.count ?? 1;
  const batchSize = shareOf(job.batchSize, count);
  const step = createTrainStep({
    model,
    optimizer,
    batchSize,
    color: 'rgb',
    stats: images.stats,
    augment: job.augment,
    seed: 1,
    closedFormBatchNorm: !job.layersBatchNorm,
    ...(link ? { replica: link } : {}),
    maxShift: recipe.maxShift,
    labelSmoothing: recipe.labelSmoothing,
    weightDecay: recipe.weightDecay,
  });
  return {
    /** The CPU's part first (trainModel's gather), then the step; `gatherMs` is how long the gather took. */
    run(index: number): { loss: tf.Tensor1D; gatherMs: number } {
      const start = performance.now();
      fillBenchBatch(images, index * count + (link?.index ?? 0), batchSize, step.x, step.y);
      const gatherMs = performance.now() - start;
      return { loss: step.run(index), gatherMs };
    },
    /** Replicas that stay in step agree on it exactly. */
    weightsChecksum: () => weightsChecksum(model.trainableWeights),
    dispose() {
      step.dispose();
      disposeOptimizer();
      model.dispose();
    },
  };
}

/**
 * Compiles every GPU program one training step uses without running any of
 * them (tfjs's compile-only mode, then one wait for all pipelines), on a
 * throw-away model of the same shapes: compile-only leaves the outputs
 * unwritten, so it must never touch the real weights. Null on backends
 * without shaders.
 */
async function warmUpShaders(job: TrainJob, images: BenchImages): Promise<number | null> {
  const flag = job.backend === 'webgpu' ? 'WEBGPU_ENGINE_COMPILE_ONLY' : job.backend === 'webgl' ? 'ENGINE_COMPILE_ONLY' : null;
  if (flag === null) return null;
  const start = performance.now();
  const scratch = makeOurStep(job, images);
  tf.env().set(flag, true);
  try {
    tf.dispose(scratch.run(0).loss);
  } finally {
    tf.env().set(flag, false);
  }
  await (tf.backend() as unknown as { checkCompileCompletionAsync(): Promise<void> }).checkCompileCompletionAsync();
  scratch.dispose();
  return performance.now() - start;
}

/** A model being trained step by step in this worker, ours or the baseline. */
export interface Runner {
  /** Runs `count` steps, reading the loss back as the mode does; ms from the call to the last loss on the CPU. */
  steps(count: number): Promise<{ ms: number; lastLoss: number; gatherMs: number; weightsChecksum?: number }>;
  profile(): Promise<KernelProfile[]>;
  dispose(): void;
}

/** Shader warm-up (when asked), then our step, reading back like trainModel: every READ_EVERY steps or READ_AT_LEAST_EVERY_MS, and at the end of each call. */
export async function createOurRunner(
  job: TrainJob,
  images: BenchImages,
  link?: ReplicaLink,
): Promise<{ runner: Runner; warmupMs: number | null }> {
  const warmupMs = job.shaderWarmup ? await warmUpShaders(job, images) : null;
  const step = makeOurStep(job, images, link);
  let index = 0;
  const runner: Runner = {
    async steps(count) {
      const pending: tf.Tensor1D[] = [];
      let lastLoss = Number.NaN;
      let gatherMs = 0;
      const start = performance.now();
      let lastRead = start;
      for (let i = 0; i < count; i++) {
        const ran = step.run(index++);
        gatherMs += ran.gatherMs;
        pending.push(ran.loss);
        if (pending.length >= READ_EVERY || performance.now() - lastRead >= READ_AT_LEAST_EVERY_MS || i === count - 1) {
          lastLoss = await readAndDispose(pending.splice(0));
          lastRead = performance.now();
        }
      }
      const ms = performance.now() - start;
      return { ms, lastLoss, gatherMs, ...((job.replicas ?? 1) > 1 ? { weightsChecksum: step.weightsChecksum() } : {}) };
    },
    profile: () => profileStep(() => step.run(index++).loss),
    dispose: () => step.dispose(),
  };
  return { runner, warmupMs };
}

/**
 * The official examples' way: model.compile with a stock optimizer and
 * Keras's categorical cross-entropy, then one trainOnBatch per batch (which
 * reads the loss back every step). Inputs are standardised on the device with
 * the same toModelInput as ours; no augmentation, as in the examples.
 */
export function createBaselineRunner(job: TrainJob, images: BenchImages): Runner {
  const model = buildModel({ preset: job.preset, color: 'rgb', seed: 1 });
  model.compile({ optimizer: stockOptimizer(job), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const x = new Float32Array(job.batchSize * PIXELS_PER_IMAGE);
  const y = new Int32Array(job.batchSize);
  const smoothing = jobRecipe(job).labelSmoothing;
  let index = 0;
  let gatherMs = 0;
  const trainOn = async (): Promise<number> => {
    const gatherStart = performance.now();
    fillBenchBatch(images, index++, job.batchSize, x, y);
    gatherMs += performance.now() - gatherStart;
    const [xs, ys] = tf.tidy(() => {
      const raw = tf.tensor4d(x, [job.batchSize, IMAGE.height, IMAGE.width, IMAGE.channels]);
      return [
        toModelInput(raw, { color: 'rgb', ...images.stats }),
        tf.oneHot(tf.tensor1d(y, 'int32'), NUM_CLASSES, 1 - smoothing + smoothing / NUM_CLASSES, smoothing / NUM_CLASSES, 'float32'),
      ];
    });
    try {
      const out = await model.trainOnBatch(xs, ys);
      return Array.isArray(out) ? (out[0] as number) : out;
    } finally {
      tf.dispose([xs, ys]);
    }
  };
  return {
    async steps(count) {
      const start = performance.now();
      gatherMs = 0;
      let lastLoss = Number.NaN;
      for (let i = 0; i < count; i++) lastLoss = await trainOn();
      return { ms: performance.now() - start, lastLoss, gatherMs };
    },
    profile: async () => {
      const info = await tf.profile(async () => {
        await trainOn();
      });
      return summarizeProfile(info);
    },
    dispose: () => {
      (model.optimizer as tf.Optimizer | undefined)?.dispose();
      model.dispose();
    },
  };
}

/** True when the engine would run our weight gradient: the registered kernel is not the one that was there before ours. */
export function oursFilterGradient(job: TrainJob): boolean {
  const current = tf.getKernel('Conv2DBackpropFilter', job.backend);
  return current !== undefined && current !== stockKernel('Conv2DBackpropFilter', job.backend);
}

async function readAndDispose(outs: tf.Tensor1D[]): Promise<number> {
  const stacked = tf.stack(outs);
  tf.dispose(outs);
  try {
    const values = await stacked.data();
    return values[values.length - 2] as number;
  } finally {
    stacked.dispose();
  }
}

/** One step under tf.profile, kernel time and calls summed by kernel name. */
async function profileStep(run: () => tf.Tensor1D): Promise<KernelProfile[]> {
  return summarizeProfile(
    await tf.profile(async () => {
      await readAndDispose([run()]);
    }),
  );
}

/**
 * By kernel name. Custom-gradient ops (tfjs-layers' fusedConv2d__op, our
 * BatchNorm's `forward`) are listed by tf.profile beside the kernels they
 * run; they are left out so that no time is counted twice.
 */
function summarizeProfile(info: Awaited<ReturnType<typeof tf.profile>>): KernelProfile[] {
  const byName = new Map<string, KernelProfile>();
  const backend = tf.getBackend();
  for (const k of info.kernels) {
    if (tf.getKernel(k.name, backend) === undefined) continue;
    const entry = byName.get(k.name) ?? { name: k.name, calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, entry);
  }
  return [...byName.values()].sort((a, b) => b.ms - a.ms);
}
