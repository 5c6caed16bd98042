/**
 * What the benchmark page (bench.html) runs: one job per fresh worker, so a
 * baseline never shares a kernel registry, shader cache or GPU device with our
 * code. `npm run bench` (scripts/bench.ts) and e2e/bench.spec.ts drive it
 * through `window.cifarBench.run(job)`.
 */
import { resolveRecipe, type Recipe } from '../run/recipe';
import { PRESET_RECIPES, type Preset } from '../model/config';
import type { OptimizerName } from '../run/settings';
import type { ReplicaLink } from '../train/replicas';
import type { Counts } from './counters';
import type { KernelPlanReport, TuneMode } from '../worker/protocol';

export const BENCH_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/**
 * `ours`: our model through `createTrainStep` (the step of `trainModel`) with
 * our kernels registered. `baseline`: the same tfjs-layers model compiled and
 * trained with `trainOnBatch`, TensorFlow.js's stock kernels only.
 */
export type TrainMode = 'ours' | 'baseline';

/** Sets up one model to train step by step in its worker (see CompareJob). */
export interface TrainJob {
  kind: 'train';
  mode: TrainMode;
  backend: BenchBackend;
  preset: Preset;
  batchSize: number;
  /** `ours` only: compile every shader of a step (without running it) before the first step. */
  shaderWarmup: boolean;
  /** `ours`, `tiny`/`seed` only: the app's optimizer setting (Adam by default, like the app). */
  optimizer: OptimizerName;
  /** `ours` only: flips and shifts on the device, as the app does by default. */
  augment: boolean;
  /** `ours` only: BatchNorm through tfjs-layers' own op-by-op gradient instead of ours (an A/B lever). */
  layersBatchNorm?: boolean;
  /** TensorFlow.js environment flags set before the backend starts (for A/B runs of tfjs's own switches). */
  flags?: Record<string, boolean | number>;
  /** `ours` only: kernels of ours put back to the stock ones after registering (an A/B lever), e.g. ['FusedConv2D']. */
  stockKernels?: string[];
  /** wasm only: threads of the backend's pool (default: one per logical core where the page is isolated, in this one worker). */
  wasmThreads?: number;
  /**
   * `ours`: train with this many workers, each on batchSize / replicas
   * images of every batch, gradients averaged before one identical optimizer
   * step in each (data parallelism, as the app on WASM: src/train/replicas.ts). Default 1.
   */
  replicas?: number;
  /** `ours` only: whether convolution formulations are timed on this device first, as the app's `?tune=` (default 'auto'). */
  tune?: TuneMode;
}

/**
 * The recipe trainModel would train this job's preset with, by the preset's default recipe;
 * the bench's rate is 0.01 for SGD, Adam's default 0.001 else.
 */
export function jobRecipe(job: Pick<TrainJob, 'preset' | 'optimizer' | 'batchSize' | 'augment'>): Readonly<Recipe> {
  const learningRate = job.optimizer === 'sgd' ? 0.01 : 0.001;
  const recipe = PRESET_RECIPES[job.preset][0] ?? 'blog';
  return resolveRecipe({
    preset: job.preset,
    recipe,
    optimizer: job.optimizer,
    learningRate,
    batchSize: job.batchSize,
    augment: job.augment,
  });
}

/**
 * Ours and the baseline side by side: each in its own worker, both set up
 * first, then their steps interleaved round by round (ours `stepsPerRound`
 * steps, then the baseline's), so that a change in the machine's load hits
 * both alike.
 */
export interface CompareJob {
  kind: 'compare';
  /** One per model to compare, e.g. ours and the baseline, or ours with and without a lever. */
  runs: TrainJob[];
  /** Untimed steps after the first (which compiles the shaders). */
  warmupSteps: number;
  rounds: number;
  stepsPerRound: number;
  /** Also profile one more step of each run (kernel time and calls by kernel name). */
  profile: boolean;
}

/** One kernel name's share of a profiled step. */
export interface KernelProfile {
  name: string;
  calls: number;
  /** GPU time where the backend measures it (WebGPU needs timestamp queries), else the kernel's wall time. */
  ms: number;
}

export interface TrainTiming {
  job: TrainJob;
  /** From calling the first step to having its loss on the CPU: shader compilation and first uploads included. */
  firstStepMs: number;
  /** Shader warm-up before the first step; null when not asked for or the backend has no shaders. */
  warmupMs: number | null;
  /** Timed steps (rounds × stepsPerRound). */
  steps: number;
  /** Mean over the timed steps, reading the loss back as each mode does (ours: like trainModel; baseline: every step). */
  msPerStep: number;
  /** Loss of the last timed step, to show both really train. */
  lastLoss: number;
  /** Of msPerStep: filling the batch's pixels and labels on the CPU (ours: the same gather as trainModel's, before the step). */
  gatherMsPerStep: number;
  /** ms per step of the fastest round: on a machine shared with other work, the closest to its speed alone. */
  fastestRoundMsPerStep: number;
  /** ms per step of each timed round, in the order run (the runs take turns round by round); empty for a run that could not train. */
  roundMsPerStep: number[];
  /** Whether the registered Conv2DBackpropFilter was ours (never for the baseline). */
  oursFilterGradient: boolean;
  /** `ours`: the convolution formulations it ran, and how they were chosen (as the app's model details show them). */
  kernelPlan?: KernelPlanReport;
  /** Kernels of ours registered in this worker; empty for the baseline. */
  registered: string[];
  /** WebGPU adapter / WebGL renderer / wasm flavour. */
  adapter: string;
  /** By kernel name, slowest first, when the job asked for a profile. */
  profile?: KernelProfile[];
  /**
   * WebGPU / WebGL calls per timed step (see counters.ts), loss readbacks
   * included as the mode makes them; absent on wasm and cpu and for a run
   * that could not train.
   */
  countsPerStep?: Counts;
  /** Why this run could not train (e.g. no weight-gradient kernel on stock wasm); its times are then NaN. */
  error?: string;
}

export interface CompareResult {
  kind: 'compare';
  runs: TrainTiming[];
}

/** A convolution weight gradient: x [batch, size, size, inChannels], k×k filter, stride 1 unless given. */
export interface ConvShape {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: 'same' | 'valid';
}

export interface KernelJob {
  kind: 'kernels';
  backend: BenchBackend;
  shapes: ConvShape[];
  /** Timed calls per kernel and shape after one warm-up call; the median is reported. */
  reps: number;
  /** TensorFlow.js environment flags set before the backend starts. */
  flags?: Record<string, boolean | number>;
  /** Also time these formulations, whatever the rule picks (for choosing rules). */
  methods?: ('im2col' | 'im2colNhwc' | 'taps' | 'conv')[];
  /** wasm only: threads of the backend's pool (default: as the app). */
  wasmThreads?: number;
  /** Also time each shape's forward Conv2D and (registered) input gradient. */
  passes?: boolean;
}

export interface KernelRow {
  shape: ConvShape;
  /** The formulation our rule picked for this shape. */
  method: string;
  /** Median of `oursRepsMs`. */
  oursMs: number;
  /** Each timed call of ours, in order; ours and the stock kernel take turns call by call. Unit: ms. */
  oursRepsMs: number[];
  /** Each timed call of the stock kernel, in order; null where there is none. Unit: ms. */
  stockRepsMs: number[] | null;
  /** ms per call of each formulation asked for in `methods`. */
  methodMs?: Record<string, number>;
  /** null where the backend has no stock kernel (wasm). */
  stockMs: number | null;
  /** With `passes`: the layer's forward Conv2D and input gradient, ms per call. */
  forwardMs?: number;
  inputGradMs?: number;
}

export interface KernelResult {
  kind: 'kernels';
  backend: BenchBackend;
  rows: KernelRow[];
}

export interface CheckJob {
  kind: 'check';
  backend: BenchBackend;
  shapes: ConvShape[];
}

export interface CheckRow {
  shape: ConvShape;
  /** What our registered kernel chose (`stock` means the rule left the shape to tfjs). */
  method: string;
  /**
   * max|ours − stock| / max|stock| for our registered weight gradient
   * (`registered`), for each formulation that can do the shape, and for the
   * registered forward convolution with a bias (`forward`).
   */
  errors: Record<string, number>;
}

export interface CheckResult {
  kind: 'check';
  backend: BenchBackend;
  rows: CheckRow[];
}

/** Our fused ops against their unfused TensorFlow.js references (the checks of fused-checks.ts). */
export interface FusedJob {
  kind: 'fused';
  backend: BenchBackend;
}

export interface FusedResult {
  kind: 'fused';
  backend: BenchBackend;
  /** Each check's relative error against its reference (see fused-checks.ts), by check name. */
  errors: Record<string, number>;
  /** webgpu only: dispatches of one fused BatchNorm + ELU layer, forward, backward and running averages. */
  bnActDispatches?: number;
}

export interface PeerJob {
  kind: 'peer';
  backend: BenchBackend;
  /** ConvNetJS: images trained after its warm-up. */
  peerImages: number;
  /** Ours: batch sizes to time (the demo's 4, and a GPU-friendly one). */
  batchSizes: number[];
  /** Ours: timed steps per batch size, after two warm-up steps. */
  steps: number;
  /** wasm: ours on this many threads (ConvNetJS has one); default one per core, as the app. */
  wasmThreads?: number;
}

export interface PeerRow {
  trainer: 'convnetjs' | 'ours';
  backend: string;
  /** Threads the trainer computed on: ConvNetJS always 1; ours on wasm as the job asked; null on a GPU backend. */
  threads: number | null;
  batchSize: number;
  images: number;
  ms: number;
  imagesPerSecond: number;
  lastLoss: number;
}

export interface PeerResult {
  kind: 'peer';
  rows: PeerRow[];
}

/** The forward convolution under each of the backend's flag settings (a lever: which program tfjs picks). */
export interface ForwardJob {
  kind: 'forward';
  backend: BenchBackend;
  shapes: ConvShape[];
  /** Named sets of tfjs environment flags to time the forward Conv2D under; '' = defaults. */
  variants: Record<string, Record<string, boolean | number>>;
  reps: number;
}

export interface ForwardResult {
  kind: 'forward';
  backend: BenchBackend;
  /** ms per call by variant name, one entry per shape. */
  rows: { shape: ConvShape; ms: Record<string, number> }[];
}

/** The kernels of a seed step one at a time on WASM, at a given thread count (see ops.ts). */
export interface OpsJob {
  kind: 'ops';
  batch: number;
  /** Timed calls per kernel after one untimed call; the median is reported. */
  reps: number;
  wasmThreads?: number;
}

export interface OpRow {
  name: string;
  ms: number;
}

export interface OpsResult {
  kind: 'ops';
  adapter: string;
  rows: OpRow[];
}

/** The seed network's convolutions as matrix products: tfjs's matMul on WASM against ours (see gemm.ts). */
export interface GemmJob {
  kind: 'gemm';
  batch: number;
  /** Timed calls per product after one untimed call; the median is reported. */
  reps: number;
}

export interface GemmRow {
  /** e.g. "32→32 32², forward": which convolution, and which of its products. */
  name: string;
  m: number;
  k: number;
  n: number;
  /** ms per product: tfjs's matMul (XNNPACK), ours with the fused multiply-add (null where relaxed SIMD is off), ours with mul then add. */
  tfjs: number;
  fma: number | null;
  mulAdd: number;
  /** ms to pack A and B into ours' layout, apart from the product (its copies would fold into a convolution's own). */
  pack: number;
}

export interface GemmResult {
  kind: 'gemm';
  adapter: string;
  rows: GemmRow[];
}

/** Jobs a worker runs in one go. */
export type WorkerJob = KernelJob | CheckJob | FusedJob | PeerJob | ForwardJob | OpsJob | GemmJob;
export type WorkerResult = KernelResult | CheckResult | FusedResult | PeerResult | ForwardResult | OpsResult | GemmResult;
export type BenchJob = CompareJob | WorkerJob;
export type BenchResult = CompareResult | WorkerResult;

/** Requests to a benchmark worker; each gets exactly one `reply` or `error`, with `log`s before it. */
export type ToBenchWorker =
  | { type: 'job'; job: WorkerJob; dataUrl: string }
  /** Starts the backend and builds the model; replies with a SetupReply. */
  | { type: 'setup'; job: TrainJob; dataUrl: string }
  /** After setup, for a job with replicas: this worker's place among them; replies null. */
  | { type: 'link'; link: ReplicaLink }
  /** Replies with a StepsReply. */
  | { type: 'steps'; count: number }
  /** Replies with KernelProfile[]. */
  | { type: 'profile' };
export interface SetupReply {
  /** Trainable values of the model (the size of a gradient slot). */
  params: number;
  adapter: string;
  registered: string[];
  warmupMs: number | null;
  oursFilterGradient: boolean;
  kernelPlan?: KernelPlanReport;
}
export interface StepsReply {
  ms: number;
  lastLoss: number;
  /** Of `ms`: filling the batches on the CPU. */
  gatherMs: number;
  /** webgpu / webgl: GPU API calls made during these steps (totals, not per step). */
  counts?: Counts;
  /** Replicas only, after the steps: a hash of the trainable weights (weightsChecksum), equal in every replica while they train as one (their BatchNorm statistics differ until averaged). */
  weightsChecksum?: number;
}
export type FromBenchWorker = { type: 'log'; text: string } | { type: 'reply'; value: unknown } | { type: 'error'; message: string };

/** What bench.html puts on `window`. */
export interface BenchApi {
  run(job: BenchJob): Promise<BenchResult>;
}

/**
 * The six 3×3 'same' convolutions of the `seed` network at batch `batch`:
 * 3→32 and 32→32 at 32², 32→64 and 64→64 at 16², 64→128 and 128→128 at 8².
 */
export function seedConvShapes(batch: number): ConvShape[] {
  const layers: [number, number, number][] = [
    [3, 32, 32],
    [32, 32, 32],
    [32, 64, 16],
    [64, 64, 16],
    [64, 128, 8],
    [128, 128, 8],
  ];
  return layers.map(([inChannels, outChannels, size]) => ({
    batch,
    height: size,
    width: size,
    inChannels,
    outChannels,
    kernel: 3,
    stride: 1,
    pad: 'same',
  }));
}
