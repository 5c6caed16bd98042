/**
 * Runs out of the tab and back (src/handover/runFile.ts): "Continue elsewhere"
 * packs a library run as one zip for the Python package; the import takes
 * what that package writes (export.zip, or the loose files of export/) and
 * keeps it as one run whose history spans the tab and PyTorch. Everything is
 * checked before anything is kept: a refused hand-over changes nothing.
 */
import { AppError, ModelFileError, toErrorData } from '../errors';
import { buildModel } from '../model/model';
import { checkModelFileSizes, checkModelJson, fileStem, toModelFiles, type CheckedModel } from '../model/modelFiles';
import { RUN_FILE_NAME, parseRunFile, type RunFile } from '../handover/runFile';
import {
  buildRunFile,
  fileText,
  handoverArchiveName,
  handoverFiles,
  packHandover,
  unpackHandover,
  type HandoverFile,
} from '../handover/files';
import { continuationMissing, earlierCopy, historyText, libraryName, recordFromRunFile } from '../handover/history';
import { toModelConfig } from '../run/settings';
import { libraryEntry, type Library } from './library';
import type { FromWorker } from './protocol';

interface HandoverDeps {
  post: (message: FromWorker, transfer?: Transferable[]) => void;
  library: Library;
}

/** The library run `id` as a hand-over zip; answered by 'handover-archive'. */
export async function continueElsewhere({ post, library }: HandoverDeps, id: string): Promise<void> {
  try {
    const { entry, artifacts, continuation: data } = await library.load(id);
    const { continuation, run: record } = entry;
    if (!continuation || !record || !data) {
      throw new AppError('no-model', `This model cannot continue elsewhere: ${continuationMissing(entry) ?? 'its run is incomplete'}.`);
    }
    // Weights of the run's last epoch when the entry's own differ; the test accuracy was measured on those.
    const metadata = { ...entry.metadata, epochs: record.epochs.length, testAccuracy: data.artifacts ? null : entry.metadata.testAccuracy };
    const files = toModelFiles(data.artifacts ?? artifacts, metadata, fileStem(metadata, entry.savedAt));
    const run = buildRunFile({
      runId: continuation.runId,
      settings: record.settings,
      metadata,
      modelFile: files.jsonName,
      epochs: record.epochs,
      steps: data.steps,
      step: continuation.step,
      stopped: continuation.stopped,
      optimizer: continuation.optimizer,
      segments: continuation.segments,
    });
    parseRunFile(run);
    const name = handoverArchiveName(run);
    const zip = packHandover(handoverFiles(run, files, continuation.optimizer ? data.optimizer : null, name));
    post({ type: 'handover-archive', name, zip: zip.buffer as ArrayBuffer }, [zip.buffer as ArrayBuffer]);
  } catch (error) {
    post({ type: 'model-error', action: 'continue', error: toErrorData(error) });
  }
}

/** True when the picked files are a hand-over coming back rather than a plain model.json and .bin. */
export function isHandover(files: readonly { name: string }[]): boolean {
  return files.some((f) => /\.zip$/i.test(f.name) || f.name === RUN_FILE_NAME);
}

/** export.zip alone, or the loose files of export/: checked all the way, then kept as one run. */
export async function importHandover({ post, library }: HandoverDeps, picked: readonly { name: string; file: Blob }[]): Promise<void> {
  const zips = picked.filter((f) => /\.zip$/i.test(f.name));
  if (zips.length > 0 && picked.length !== 1) {
    throw new ModelFileError(`Choose the .zip alone (got ${picked.map((f) => `"${f.name}"`).join(', ')}).`);
  }
  const zip = zips[0];
  const files = zip
    ? unpackHandover(zip.name, new Uint8Array(await zip.file.arrayBuffer()))
    : await Promise.all(picked.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.file.arrayBuffer()) })));
  const where = zip ? ` in ${zip.name}` : '';
  const run = readRunFile(files, where);
  const { checked, weights } = readModel(files, run, where);
  checkFitsPreset(checked, run, where);
  const optimizer = readOptimizer(files, run, checked, where);

  const metadata = { ...(checked.metadata as NonNullable<CheckedModel['metadata']>), epochs: run.epochsDone };
  const artifacts = { modelTopology: checked.modelTopology, weightSpecs: checked.weightSpecs, weightData: weights };
  const earlier = earlierCopy(await library.entries(), run);
  const record = recordFromRunFile(run, earlier?.run);
  const name = libraryName(run, run.epochsDone, record, metadata.dataSet);
  const { runId, step, stopped, segments } = run;
  const entry = {
    ...libraryEntry('imported', name, metadata, artifacts),
    run: record,
    continuation: { runId, step, stopped, optimizer: run.optimizer, segments },
  };
  await library.keep(artifacts, metadata, entry, { optimizer, steps: run.curves.steps }, earlier?.id);
  post({
    type: 'notice',
    message: `Imported run ${runId}: ${historyText(record)}.${earlier ? " It replaces the library's earlier copy of this run." : ''}`,
  });
}

function find(files: readonly HandoverFile[], name: string, why: string, where: string): HandoverFile {
  const file = files.find((f) => f.name === name);
  if (!file) throw new ModelFileError(`${why} "${name}", which is not among the files${where} (${files.map((f) => f.name).join(', ')}).`);
  return file;
}

function readRunFile(files: readonly HandoverFile[], where: string): RunFile {
  const file = find(files, RUN_FILE_NAME, 'A hand-over needs', where);
  let json: unknown;
  try {
    json = JSON.parse(fileText(file));
  } catch (error) {
    throw new ModelFileError(`${RUN_FILE_NAME}${where} is not valid JSON (${(error as Error).message}).`);
  }
  try {
    return parseRunFile(json);
  } catch (error) {
    throw new ModelFileError(`${(error as Error).message.replace(RUN_FILE_NAME, `${RUN_FILE_NAME}${where}`)}`);
  }
}

/** The Layers model run.json names, with its weights file, through the plain import's checks. */
function readModel(files: readonly HandoverFile[], run: RunFile, where: string): { checked: CheckedModel; weights: ArrayBuffer } {
  const jsonFile = find(files, run.model, `${RUN_FILE_NAME} names the model`, where);
  const text = fileText(jsonFile);
  const named = (() => {
    try {
      return JSON.parse(text) as { weightsManifest?: { paths?: unknown[] }[] };
    } catch {
      return {};
    }
  })();
  const path = named.weightsManifest?.[0]?.paths?.[0];
  const binName = typeof path === 'string' ? path.replace(/^\.\//, '') : `${run.model.replace(/\.json$/, '')}.weights.bin`;
  const bin = find(files, binName, `${run.model} names its weights`, where);
  let checked: CheckedModel;
  try {
    checkModelFileSizes(jsonFile.bytes.byteLength, bin.bytes.byteLength);
    checked = checkModelJson(text, bin.bytes.byteLength);
  } catch (error) {
    throw new ModelFileError(`${run.model}${where}: ${(error as Error).message}`);
  }
  const metadata = checked.metadata;
  if (!metadata || metadata.preset !== run.preset || metadata.color !== run.color) {
    const says = metadata ? `${metadata.preset} · ${metadata.color}` : 'no metadata of this app';
    throw new ModelFileError(`${run.model}${where} is ${says}, but ${RUN_FILE_NAME} is a ${run.preset} · ${run.color} run.`);
  }
  const weights = bin.bytes.slice().buffer as ArrayBuffer;
  return { checked, weights };
}

/** The file's weights, by name and shape, are the ones the run's preset builds. */
function checkFitsPreset(checked: CheckedModel, run: RunFile, where: string): void {
  const probe = buildModel(toModelConfig(run.settings));
  try {
    const expected = new Map(probe.weights.map((w) => [w.originalName, w.shape]));
    const shape = (s: readonly (number | null)[] | undefined) => (s ? s.join('×') : 'missing');
    for (const spec of checked.weightSpecs) {
      const want = expected.get(spec.name);
      if (shape(want) !== shape(spec.shape)) {
        throw new ModelFileError(
          `The weights of ${run.model}${where} do not fit the ${run.preset} preset: "${spec.name}" is ${shape(spec.shape)}, the preset's is ${shape(want)}.`,
        );
      }
    }
    if (checked.weightSpecs.length !== expected.size) {
      throw new ModelFileError(
        `${run.model}${where} holds ${checked.weightSpecs.length} weights; the ${run.preset} preset has ${expected.size}.`,
      );
    }
  } finally {
    probe.dispose();
  }
}

/** optimizer.weights.bin, checked against run.json's slots and the model's weights; null without optimizer state. */
function readOptimizer(files: readonly HandoverFile[], run: RunFile, checked: CheckedModel, where: string): ArrayBuffer | null {
  const spec = run.optimizer;
  if (!spec) return null;
  const file = find(files, spec.file, `${RUN_FILE_NAME} names the optimizer state`, where);
  const shapes = new Map(checked.weightSpecs.map((w) => [w.name, w.shape.join('×')]));
  const bad = spec.slots.find((s) => shapes.get(s.weight) !== s.shape.join('×'));
  if (bad) throw new ModelFileError(`${RUN_FILE_NAME}${where}: optimizer slot "${bad.weight}/${bad.slot}" fits no weight of the model.`);
  const floats = spec.slots.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (file.bytes.byteLength !== 4 * floats) {
    throw new ModelFileError(`${spec.file}${where} holds ${file.bytes.byteLength} bytes; ${RUN_FILE_NAME} describes ${4 * floats}.`);
  }
  return file.bytes.slice().buffer as ArrayBuffer;
}
