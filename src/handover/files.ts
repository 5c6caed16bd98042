/**
 * The hand-over as files (src/handover/runFile.ts defines what they hold): the
 * run.json of a run, the short README that travels with it, and the one flat
 * zip archive the page downloads ("Continue elsewhere") and takes back (the
 * Python package's export.zip). Pure: no TensorFlow.js, no DOM; unit-tested
 * in Node, used by the worker and by scripts/export-reference.ts.
 */
// fflate: a maintained, dependency-free zip implementation that runs in workers and Node alike.
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { ModelFileError } from '../errors';
import type { ModelMetadata } from '../model/modelFiles';
import {
  OPTIMIZER_FILE_NAME,
  RUN_FILE_FORMAT,
  RUN_FILE_NAME,
  RUN_FILE_VERSION,
  type OptimizerState,
  type RunFile,
  type RunSegment,
} from './runFile';
import type { BatchMetrics, EpochRecord } from '../run/records';
import { resolveRecipe } from '../run/recipe';
import type { Settings } from '../run/settings';

export const README_FILE_NAME = 'README.txt';
/** Largest hand-over archive or member the page unpacks: the model's limit plus room for run.json and the optimizer's slots. Unit: bytes. */
export const MAX_HANDOVER_BYTES = 256 * 1024 * 1024;

/** One file of a hand-over, by its plain name (no folders). */
export interface HandoverFile {
  name: string;
  bytes: Uint8Array;
}

export interface RunFileInput {
  runId: string;
  settings: Settings;
  /** classes, mean and std as the model's metadata carries them. */
  metadata: Pick<ModelMetadata, 'classes' | 'mean' | 'std'>;
  /** The Layers model.json beside run.json. */
  modelFile: string;
  epochs: EpochRecord[];
  steps: BatchMetrics[];
  step: number;
  stopped: boolean;
  optimizer: OptimizerState | null;
  segments: RunSegment[];
}

/** run.json's content; `parseRunFile` accepts what this returns. */
export function buildRunFile(input: RunFileInput): RunFile {
  const { settings, metadata } = input;
  return {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    runId: input.runId,
    preset: settings.preset,
    color: settings.color,
    seed: settings.seed,
    settings,
    recipe: resolveRecipe(settings),
    classes: [...metadata.classes],
    mean: [...metadata.mean],
    std: [...metadata.std],
    model: input.modelFile,
    epochsDone: input.epochs.length,
    step: input.step,
    stopped: input.stopped,
    optimizer: input.optimizer,
    curves: { epochs: input.epochs.slice(), steps: input.steps.slice() },
    segments: input.segments.map((s) => ({ ...s })),
  };
}

/** The archive's name, e.g. `cifar10-tiny-rgb-run-3f2a9c1b-epoch-4.zip`. */
export function handoverArchiveName(run: Pick<RunFile, 'preset' | 'color' | 'runId' | 'epochsDone'>): string {
  return `cifar10-${run.preset}-${run.color}-run-${run.runId.slice(0, 8)}-epoch-${run.epochsDone}.zip`.replace(/[^\w.-]+/g, '-');
}

/** README.txt: what the archive holds and the commands that go on with it (python/README.md has the rest). */
export function handoverReadme(run: RunFile, archiveName: string): string {
  const next = run.epochsDone + 1;
  const optimizer = run.optimizer
    ? `${OPTIMIZER_FILE_NAME}  the optimizer's state (${run.optimizer.kind}, ${run.optimizer.iterations} steps): training goes on exactly where it was`
    : run.step === 0
      ? `(no ${OPTIMIZER_FILE_NAME}: no step has been taken, so PyTorch starts a fresh optimizer, as the tab would)`
      : `(no ${OPTIMIZER_FILE_NAME}: this run's optimizer state was not available, so PyTorch continues with a fresh optimizer)`;
  return [
    `CIFAR-10 in a tab: run ${run.runId}, ${run.preset} · ${run.color}, ${run.epochsDone} of ${run.settings.epochs} epochs done.`,
    '',
    run.step === 0
      ? 'This archive is the run before its first step (its initial weights): PyTorch trains all of it, on one process or many (DistributedDataParallel):'
      : 'This archive continues the same run in PyTorch, on one process or many (DistributedDataParallel):',
    `  ${run.model.replace(/\.json$/, '.{json,weights.bin}')}  the TensorFlow.js Layers model`,
    `  ${optimizer}`,
    `  ${RUN_FILE_NAME}  settings, seed, statistics, curves so far, and where each range of epochs ran`,
    '',
    'With a checkout of the app (its python/ folder; PyTorch and NumPy installed) and the CIFAR-10 data',
    '(`npm run data` for the shards, or the official cifar-10-binary.tar.gz):',
    '',
    '  cd python',
    `  torchrun --standalone --nproc_per_node=2 -m cifar_tab.train --from ${archiveName} --run runs/mine \\`,
    `      --data ../public/data/cifar10 --epochs ${Math.max(run.settings.epochs, next)}`,
    '',
    `Epoch ${next} is the next one. One process per GPU on a GPU machine (NCCL), or processes on CPUs (gloo);`,
    'without torchrun, `python3 -m cifar_tab.train ...` trains in one process. Rerun the same command after',
    'an interruption: it resumes from runs/mine/checkpoint.pt. Under Debian 12 (torch 1.13, Python 3.11) add',
    '`--redirects 2 --tee 2` after --nproc_per_node.',
    '',
    "Then import runs/mine/export.zip (or the files of runs/mine/export/) into the app's model library: the",
    'library shows the run with its epochs from the tab and from PyTorch in one history.',
    '',
    "Everything else, the format included: python/README.md in the app's repository.",
    '',
  ].join('\n');
}

/** The hand-over's files for the archive: model, weights, optimizer slots when there are any, run.json, README.txt. */
export function handoverFiles(
  run: RunFile,
  model: { jsonName: string; json: string; weightsName: string; weights: ArrayBuffer },
  optimizerBytes: ArrayBuffer | null,
  archiveName: string,
): HandoverFile[] {
  if ((run.optimizer === null) !== (optimizerBytes === null)) {
    throw new RangeError('run.json must describe optimizer slots exactly when their bytes are handed over');
  }
  const files: HandoverFile[] = [
    { name: model.jsonName, bytes: strToU8(model.json) },
    { name: model.weightsName, bytes: new Uint8Array(model.weights) },
  ];
  if (run.optimizer && optimizerBytes) files.push({ name: run.optimizer.file, bytes: new Uint8Array(optimizerBytes) });
  files.push({ name: RUN_FILE_NAME, bytes: strToU8(`${JSON.stringify(run)}\n`) });
  files.push({ name: README_FILE_NAME, bytes: strToU8(handoverReadme(run, archiveName)) });
  return files;
}

/** One flat zip. Weights barely compress (float32 noise), so they are stored; text is deflated. */
export function packHandover(files: readonly HandoverFile[]): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
  for (const f of files) {
    if (!isPlainName(f.name) || f.name in entries) throw new RangeError(`Cannot pack "${f.name}": not a plain, unique file name`);
    entries[f.name] = [f.bytes, { level: /\.bin$/.test(f.name) ? 0 : 6 }];
  }
  return zipSync(entries);
}

/**
 * The files of a hand-over archive. Refuses, naming the archive, what is not a
 * zip, members in folders or with unsafe names, and members too large to
 * unpack; a folder entry of a zip made by hand (`export/`) is stepped over.
 */
export function unpackHandover(archiveName: string, bytes: Uint8Array): HandoverFile[] {
  const fail = (why: string): never => {
    throw new ModelFileError(`${archiveName} cannot be imported: ${why}.`);
  };
  if (bytes.byteLength > MAX_HANDOVER_BYTES) fail(`it is larger than ${MAX_HANDOVER_BYTES / 1024 / 1024} MB`);
  let unpacked: Record<string, Uint8Array> = {};
  let total = 0;
  try {
    unpacked = unzipSync(bytes, {
      filter: (file) => {
        if (file.name.endsWith('/')) return false;
        total += file.originalSize;
        if (total > MAX_HANDOVER_BYTES) fail(`its files would take more than ${MAX_HANDOVER_BYTES / 1024 / 1024} MB unpacked`);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    fail(`it is not a readable zip archive (${(error as Error).message})`);
  }
  const files = Object.entries(unpacked).map(([name, data]) => ({ name, bytes: data }));
  const nested = files.find((f) => !isPlainName(f.name));
  if (nested) fail(`"${nested.name}" is inside a folder or has an unsafe name; the archive must hold the files themselves`);
  if (files.length === 0) fail('it holds no files');
  return files;
}

/** A file's text, as the import reads run.json and model.json. */
export function fileText(file: HandoverFile): string {
  return strFromU8(file.bytes);
}

function isPlainName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\]/.test(name);
}
