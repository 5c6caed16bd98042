/**
 * Models in and out of the browser as TensorFlow.js Layers files (.json +
 * .weights.bin). An import is checked all the way before any tensor exists;
 * a refused one leaves the current model as it was.
 */
import { AppError, ModelFileError, toErrorData } from '../errors';
import type { Classifier } from '../classify/classifier';
import type { Dataset } from '../data/loader';
import {
  checkModelFileSizes,
  checkModelJson,
  fileStem,
  toModelFiles,
  type ModelArtifactsData,
  type ModelMetadata,
} from '../model/modelFiles';
import { captureArtifacts } from '../model/modelIO';
import { importHandover, isHandover } from './handoverTransfer';
import { libraryEntry, type Library } from './library';
import type { FromWorker } from './protocol';

interface TransferDeps {
  post: (message: FromWorker, transfer?: Transferable[]) => void;
  library: Library;
  classifier: Classifier;
  /** The loaded data set, whose statistics a foreign model is assumed to use; undefined while loading. */
  dataset: () => Dataset | undefined;
}

/** A library entry, or with null the model that classifies now; answered by 'model-files'. */
export async function exportModel({ post, library, classifier }: TransferDeps, id: string | null): Promise<void> {
  try {
    let artifacts: ModelArtifactsData;
    let metadata: ModelMetadata;
    let savedAt = Date.now();
    if (id === null) {
      const current = classifier.current();
      if (!current) throw new AppError('no-model', 'There is no model to export yet.');
      artifacts = await captureArtifacts(current.model);
      metadata = current.metadata;
    } else {
      const found = await library.load(id);
      artifacts = found.artifacts;
      metadata = found.entry.metadata;
      savedAt = found.entry.savedAt;
    }
    const files = toModelFiles(artifacts, metadata, fileStem(metadata, savedAt));
    post({ type: 'model-files', files }, [files.weights]);
  } catch (error) {
    post({ type: 'model-error', action: 'export', error: toErrorData(error) });
  }
}

/**
 * Everything about the files is checked before any tensor exists (sizes,
 * JSON, topology, byte counts); only then are the weights read and the
 * model built.
 */
export async function importModel({ post, library, dataset }: TransferDeps, files: { name: string; file: Blob }[]): Promise<void> {
  try {
    if (isHandover(files)) return await importHandover({ post, library }, files);
    const json = files.filter((f) => /\.json$/i.test(f.name));
    const bin = files.filter((f) => !/\.json$/i.test(f.name));
    if (json.length !== 1 || bin.length !== 1) {
      throw new ModelFileError(
        `Choose exactly two files, the model's .json and its weights .bin, or a run coming back (its .zip, or its files with run.json) (got ${files.map((f) => `"${f.name}"`).join(', ') || 'none'}).`,
      );
    }
    const [jsonFile, binFile] = [json[0], bin[0]] as [{ name: string; file: Blob }, { name: string; file: Blob }];
    checkModelFileSizes(jsonFile.file.size, binFile.file.size);
    const checked = checkModelJson(await jsonFile.file.text(), binFile.file.size);
    const weightData = await binFile.file.arrayBuffer();
    if (weightData.byteLength !== binFile.file.size) throw new ModelFileError('The weights file changed while it was being read.');
    const metadata = checked.metadata ?? foreignMetadata(checked.channels, dataset());
    const artifacts: ModelArtifactsData = { modelTopology: checked.modelTopology, weightSpecs: checked.weightSpecs, weightData };
    const name = `${metadata.preset} · ${metadata.color} · imported from ${jsonFile.name}`;
    await library.keep(artifacts, metadata, libraryEntry('imported', name, metadata, artifacts));
  } catch (error) {
    post({ type: 'model-error', action: 'import', error: toErrorData(error) });
  }
}

/** A model from elsewhere: trained on CIFAR-10, standardised with its statistics (we assume), in our class order. */
function foreignMetadata(channels: 1 | 3, data: Dataset | undefined): ModelMetadata {
  if (!data) {
    throw new AppError('not-ready', 'This model carries no CIFAR-10 statistics; wait until the data set has loaded, then import it again.');
  }
  const { classes, mean, std } = data.manifest;
  return { version: 1, preset: 'imported', color: channels === 1 ? 'gray' : 'rgb', classes, mean, std, testAccuracy: null, epochs: 0 };
}
