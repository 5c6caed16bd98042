/**
 * Reference outputs of the app's own code, for the Python package's tests
 * (python/tests): what the tab computes, written to a folder the tests compare
 * PyTorch against. Runs the app's modules on TensorFlow.js's wasm backend (or
 * cpu) with the app's training kernels, on the real shards.
 *
 *   npx tsx scripts/export-reference.ts --out DIR [--data public/data/cifar10] [--backend wasm] [--cases tiny-rgb,fast-gray]
 *
 * DIR/<preset>-<color>/epoch-1/, epoch-2/   a run as "Continue elsewhere" hands it over after
 *                                           each epoch (Layers files, optimizer slots, run.json);
 *                                           epoch-0/: before its first step (no optimizer state)
 * DIR/<preset>-<color>/predictions.json     the app's probabilities on 64 test images after each epoch
 * DIR/reference.json                        splits, samples, epoch orders, random streams, schedules
 * DIR/augment/                              toModelInput and augmentBatch on real images
 *
 * Never commit DIR: it is made from the CIFAR-10 images.
 *
 *   npx tsx scripts/export-reference.ts --check HANDOVER_DIR [--data …]
 *
 * The way back: takes a hand-over folder (e.g. one the Python package wrote) through
 * the app's import checks, loads it as the app does, and prints its probabilities
 * on the run's test images (settings.testLimit) as JSON.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { IMAGE, PIXELS_PER_IMAGE } from '../src/data/format';
import { loadDataset, type Dataset } from '../src/data/loader';
import { toModelInput, type ChannelStats } from '../src/data/preprocess';
import { STREAMS, mixSeed, mulberry32 } from '../src/data/random';
import { splitTrainingSet, stratifiedSample } from '../src/data/split';
import { COLOR_MODES, FAST_RECIPE, PRESETS } from '../src/model/config';
import { RUN_FILE_NAME, parseRunFile } from '../src/handover/runFile';
import { captureHandover, captureStart, concatFloats, tfjsSegments, type HandoverState } from '../src/handover/capture';
import { README_FILE_NAME, buildRunFile, handoverArchiveName, handoverFiles } from '../src/handover/files';
import { buildModel } from '../src/model/model';
import { checkModelFileSizes, checkModelJson, fileStem, toModelFiles, type ModelMetadata } from '../src/model/modelFiles';
import { modelFromArtifacts } from '../src/model/modelIO';
import { augmentBatch, augmentParams } from '../src/train/augment';
import { epochOrder } from '../src/train/batches';
import { registerTrainingKernels } from '../src/kernels';
import { evaluate } from '../src/train/evaluate';
import { trainModel } from '../src/train/loop';
import type { BatchMetrics, Subset } from '../src/run/records';
import { warmupDecayRate } from '../src/train/schedule';
import { resolveRecipe } from '../src/run/recipe';
import { parseSettings, presetDefaults, toModelConfig, type Settings } from '../src/run/settings';
import { DATA_DIR } from './convert';

// ---- What is exported ---------------------------------------------------------------
/** Test images whose probabilities are compared (a stratified sample, as testLimit picks it). */
const TEST_IMAGES = 64;
/** Of those, the first so many are also compared with flip test-time augmentation (`fast`). */
const TTA_IMAGES = 16;
/**
 * Small runs: the cpu backend takes seconds per step of `seed` and `fast`.
 * Epoch 1 is handed over; where a second epoch is trained, it is what the tab
 * itself makes of the run, for Python's continuation to be compared with. Not
 * for `seed`: its dropout masks are unseeded in TensorFlow.js, so no other
 * engine can repeat its training steps. Between them, the cases use the Adam,
 * SGD and Nesterov paths.
 */
const CASES: readonly Record<string, string | number | boolean>[] = [
  { preset: 'tiny', color: 'rgb', seed: 7, trainLimit: 64, batchSize: 16, epochs: 2 },
  { preset: 'tiny', color: 'gray', seed: 8, trainLimit: 64, batchSize: 16, epochs: 2, optimizer: 'sgd', learningRate: 0.01 },
  { preset: 'seed', color: 'rgb', seed: 9, trainLimit: 16, batchSize: 8, epochs: 1 },
  { preset: 'seed', color: 'gray', seed: 10, trainLimit: 16, batchSize: 8, epochs: 1 },
  { preset: 'fast', color: 'rgb', seed: 11, trainLimit: 16, batchSize: 8, epochs: 2 },
  { preset: 'fast', color: 'gray', seed: 12, trainLimit: 16, batchSize: 8, epochs: 2 },
  // seed with its tuned recipe: Adam, warm-up/decay, weight decay, label smoothing, flip TTA, no whitening.
  { preset: 'seed', recipe: 'tuned', color: 'rgb', seed: 13, trainLimit: 16, batchSize: 8, epochs: 1 },
  // quick: fast's layers and recipe at its own widths.
  { preset: 'quick', color: 'rgb', seed: 14, trainLimit: 16, batchSize: 8, epochs: 2 },
];
/** (seed, validationShare, trainLimit) of the split comparisons. */
const SPLITS = [
  [1, 0.1, 0],
  [7, 0.1, 2000],
  [123456789, 0.2, 512],
  [4294967295, 0, 100],
  [5, 0.5, 0],
] as const;
// -------------------------------------------------------------------------------------

/**
 * wasm by default: what the app trains on where there is no real GPU, and 20–40× faster here than
 * the plain-JavaScript cpu backend (a forward pass of 64 images through `fast`: 1.1 s against 46 s).
 */
const BACKENDS = ['wasm', 'cpu'];

const USAGE = `Usage: npx tsx scripts/export-reference.ts --out DIR [--data DIR] [--backend wasm|cpu] [--cases ${PRESETS[0]}-${COLOR_MODES[0]},seed-rgb-tuned,…]\n`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      data: { type: 'string' },
      cases: { type: 'string' },
      check: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || (!values.out && !values.check)) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const data = await readShards(resolve(values.data ?? DATA_DIR));
  const backend = values.backend as string;
  if (!BACKENDS.includes(backend)) throw new Error(`--backend must be one of ${BACKENDS.join(', ')}`);
  // As the worker starts it (src/worker/backend.ts): single-threaded WASM, then the app's training kernels.
  if (backend === 'wasm') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js could not start its ${backend} backend`);
  registerTrainingKernels(backend);
  if (values.check) {
    process.stdout.write(`${JSON.stringify(await checkImport(resolve(values.check), data))}\n`);
    return 0;
  }
  const out = resolve(values.out as string);
  await mkdir(out, { recursive: true });

  await writeJson(join(out, 'reference.json'), { backend, ...referenceData(data) });
  await exportAugmentation(join(out, 'augment'), data);
  const wanted = values.cases?.split(',');
  for (const raw of CASES) {
    const settings = parseSettings({ ...raw, patience: 0, testLimit: TEST_IMAGES });
    const name = caseName(settings);
    if (wanted && !wanted.includes(name)) continue;
    const started = performance.now();
    await exportCase(join(out, name), settings, data);
    process.stdout.write(`${name}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return 0;
}

/** preset-colour, and -tuned where the preset's default recipe is another (seed-rgb-tuned). */
function caseName(settings: Settings): string {
  const own = settings.recipe !== presetDefaults(settings.preset).recipe ? `-${settings.recipe}` : '';
  return `${settings.preset}-${settings.color}${own}`;
}

/** The shards through the app's own loader (SHA-256 and record checks included), read from disk. */
async function readShards(dir: string): Promise<Dataset> {
  const readFromDisk = (async (url: string | URL) => new Response(await readFile(fileURLToPath(url)))) as typeof fetch;
  return loadDataset({ baseUrl: pathToFileURL(`${dir}/`).href, fetch: readFromDisk });
}

/** Trains one case through `trainModel` and writes the hand-over after every epoch. */
async function exportCase(dir: string, settings: Settings, data: Dataset): Promise<void> {
  const { train, val } = splitTrainingSet(data.train.labels, settings);
  const testIndices = stratifiedSample(data.test.labels, Uint32Array.from(data.test.labels.keys()), TEST_IMAGES, settings.seed);
  const test: Subset = { ...data.test, indices: testIndices };
  const ttaTest: Subset = { ...data.test, indices: testIndices.slice(0, TTA_IMAGES) };
  // No test report at the end of training: the probabilities below are what is compared.
  const noTest: Subset = { ...data.test, indices: new Uint32Array(0) };
  const stats: ChannelStats = { mean: data.manifest.mean, std: data.manifest.std };
  const model = buildModel(toModelConfig(settings));
  const steps: BatchMetrics[] = [];
  const predictions: Record<string, unknown> = { testIndices: Array.from(testIndices) };
  const runId = `reference-${caseName(settings)}`;
  try {
    await trainModel({
      model,
      settings,
      data: { train: { ...data.train, indices: train }, val: { ...data.train, indices: val }, test: noTest },
      stats,
      // Every step's loss in the curves (the app reads every 10th), so Python can be compared step by step.
      readEvery: 1,
      sink: async (event) => {
        if (event.type === 'metrics') steps.push(event.metrics);
        // Before the first step: the hand-over of a run stopped before its first epoch ended.
        if (event.type === 'start')
          await writeHandover(join(dir, 'epoch-0'), { runId, settings, captured: await captureStart(model), steps, data });
        if (event.type === 'checkpoint') {
          const { state } = event;
          const epoch = state.epochs.length;
          const captured = await captureHandover(model, settings, state);
          await writeHandover(join(dir, `epoch-${epoch}`), { runId, settings, captured, steps, data });
          const options = { color: settings.color, stats, sampleCount: TEST_IMAGES };
          const plain = await evaluate(model, test, { ...options, flipTestTime: false });
          predictions[`epoch${epoch}`] = plain.samples.map((s) => s.probs);
          if (resolveRecipe(settings).flipTestTime) {
            const flipped = await evaluate(model, ttaTest, { ...options, flipTestTime: true });
            predictions[`epoch${epoch}Tta`] = flipped.samples.map((s) => s.probs);
          }
        }
      },
    });
  } finally {
    model.dispose();
  }
  await writeJson(join(dir, 'predictions.json'), predictions);
}

interface HandoverInput {
  runId: string;
  settings: Settings;
  captured: HandoverState;
  steps: BatchMetrics[];
  data: Dataset;
}

/** The folder "Continue elsewhere" downloads as one zip (python/README.md): Layers files, optimizer slots, run.json. */
async function writeHandover(dir: string, { runId, settings, captured, steps, data }: HandoverInput): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { classes, mean, std } = data.manifest;
  const metadata: ModelMetadata = {
    version: 1,
    preset: settings.preset,
    color: settings.color,
    classes,
    mean,
    std,
    testAccuracy: null,
    epochs: captured.epochs.length,
  };
  // A fixed date: the file names do not change from run to run.
  const files = toModelFiles(captured.artifacts, metadata, fileStem(metadata, Date.UTC(2026, 0, 1)));
  const run = buildRunFile({
    runId,
    settings,
    metadata,
    modelFile: files.jsonName,
    epochs: captured.epochs,
    steps,
    step: captured.step,
    stopped: captured.stopped,
    optimizer: captured.optimizer,
    segments: tfjsSegments(captured, 'node', Date.now()),
  });
  parseRunFile(run);
  // The archive's files, loose: the Python tests read the folder; README.txt is left out.
  const archive = handoverFiles(run, files, captured.optimizerData, handoverArchiveName(run));
  for (const file of archive) if (file.name !== README_FILE_NAME) await writeFile(join(dir, file.name), file.bytes);
}

/** A hand-over folder through the app's import checks and loader; its probabilities on the run's test images. */
async function checkImport(dir: string, data: Dataset): Promise<{ testIndices: number[]; probs: number[][] }> {
  const run = parseRunFile(JSON.parse(await readFile(join(dir, RUN_FILE_NAME), 'utf8')));
  const json = await readFile(join(dir, run.model), 'utf8');
  // The app's import gets the .bin from the user; here it is the file model.json names (checked below).
  const named = JSON.parse(json) as { weightsManifest?: { paths?: string[] }[] };
  const weightsPath = named.weightsManifest?.[0]?.paths?.[0];
  if (!weightsPath) throw new Error(`${run.model} names no weights file`);
  const bytes = await readFile(join(dir, weightsPath));
  checkModelFileSizes(Buffer.byteLength(json), bytes.byteLength);
  const checked = checkModelJson(json, bytes.byteLength);
  if (!checked.metadata) throw new Error(`${run.model} carries no metadata of this app`);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const model = await modelFromArtifacts({ modelTopology: checked.modelTopology, weightSpecs: checked.weightSpecs, weightData });
  try {
    const all = Uint32Array.from(data.test.labels.keys());
    const { testLimit, seed } = run.settings;
    const indices = testLimit > 0 ? stratifiedSample(data.test.labels, all, testLimit, seed) : all;
    const { color, mean, std } = checked.metadata;
    const result = await evaluate(model, { ...data.test, indices }, { color, stats: { mean, std }, sampleCount: indices.length });
    return { testIndices: Array.from(indices), probs: result.samples.map((s) => s.probs) };
  } finally {
    model.dispose();
  }
}

/** Splits, samples, epoch orders and the random streams, for the ports in python/cifar_tab/data.py. */
function referenceData(data: Dataset): Record<string, unknown> {
  const labels = data.train.labels;
  const splits = SPLITS.map(([seed, validationShare, trainLimit]) => {
    const { train, val } = splitTrainingSet(labels, { seed, validationShare, trainLimit });
    return { seed, validationShare, trainLimit, train: Array.from(train), val: Array.from(val) };
  });
  const allTest = Uint32Array.from(data.test.labels.keys());
  const testSamples = [64, 1000].map((limit) => ({
    seed: 3,
    limit,
    indices: Array.from(stratifiedSample(data.test.labels, allTest, limit, 3)),
  }));
  const limited = splitTrainingSet(labels, { seed: 7, validationShare: 0.1, trainLimit: 2000 }).train;
  const orders = [1, 2, 3].map((epoch) => ({ seed: 7, epoch, order: Array.from(epochOrder(limited, epoch, 7)) }));
  const seeds = [0, 1, 7, 123456789, 4294967295];
  const mulberry = seeds.map((seed) => {
    const random = mulberry32(seed);
    return { seed, values: Array.from({ length: 8 }, () => random()) };
  });
  const mixes = [[1], [1, 2], [2, 1], [7, STREAMS.augment, 0], [7, STREAMS.augment, 123456], [4294967295, 5, 4294967295]];
  const augment = [
    { step: 0, seed: 7, batchSize: 16, maxShift: 4 },
    { step: 999, seed: 123456789, batchSize: 33, maxShift: 2 },
  ].map((a) => {
    const p = augmentParams(a.step, a.seed, a.batchSize, a.maxShift);
    return { ...a, flip: Array.from(p.flip), dx: Array.from(p.dx), dy: Array.from(p.dy) };
  });
  const schedule = [1, 4, 97, 980].map((totalSteps) => ({
    totalSteps,
    schedule: FAST_RECIPE.schedule,
    rates: Array.from({ length: Math.min(totalSteps + 2, 200) }, (_, s) => warmupDecayRate(s, totalSteps, FAST_RECIPE.schedule)),
  }));
  return {
    manifest: { classes: data.manifest.classes, mean: data.manifest.mean, std: data.manifest.std },
    splits,
    testSamples,
    orders,
    mulberry,
    mixSeed: mixes.map((parts) => ({ parts, value: mixSeed(...parts) })),
    augment,
    schedule,
  };
}

/** toModelInput (rgb and gray) of 8 test images, and augmentBatch of the rgb ones, as float32 files. */
async function exportAugmentation(dir: string, data: Dataset): Promise<void> {
  await mkdir(dir, { recursive: true });
  const count = 8;
  const stats: ChannelStats = { mean: data.manifest.mean, std: data.manifest.std };
  const raw = Float32Array.from(data.test.pixels.subarray(0, count * PIXELS_PER_IMAGE));
  const shape: [number, number, number, number] = [count, IMAGE.height, IMAGE.width, IMAGE.channels];
  const cases = [
    { step: 3, seed: 7, maxShift: 4 },
    { step: 41, seed: 11, maxShift: 2 },
  ];
  const outputs = tf.tidy(() => {
    const rgb = toModelInput(tf.tensor4d(raw, shape), { color: 'rgb', ...stats });
    const gray = toModelInput(tf.tensor4d(raw, shape), { color: 'gray', ...stats });
    const augmented = cases.map((c) => augmentBatch(rgb, augmentParams(c.step, c.seed, count, c.maxShift), c.maxShift));
    return [rgb, gray, ...augmented];
  });
  const [rgb, gray, ...augmented] = await Promise.all(outputs.map((t) => t.data<'float32'>()));
  tf.dispose(outputs);
  await writeFile(join(dir, 'rgb.f32'), concatFloats([rgb as Float32Array]));
  await writeFile(join(dir, 'gray.f32'), concatFloats([gray as Float32Array]));
  for (const [i, values] of augmented.entries()) await writeFile(join(dir, `augmented-${i}.f32`), concatFloats([values]));
  await writeJson(join(dir, 'cases.json'), { testImages: count, cases });
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value)}\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
