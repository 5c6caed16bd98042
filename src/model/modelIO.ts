/**
 * Models to and from plain data (topology JSON + one weights buffer), the
 * form kept in the library and written to files. TensorFlow.js side of
 * modelFiles.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelFileError } from '../errors';
import type { ModelArtifactsData } from './modelFiles';

/** The model's topology and current weights, through a tf.io save handler that keeps them in memory. */
export async function captureArtifacts(model: tf.LayersModel): Promise<ModelArtifactsData> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (
    !captured ||
    !captured.modelTopology ||
    captured.modelTopology instanceof ArrayBuffer ||
    !captured.weightSpecs ||
    !captured.weightData
  ) {
    throw new Error('TensorFlow.js saved no topology or weights');
  }
  return {
    modelTopology: captured.modelTopology as Record<string, unknown>,
    weightSpecs: captured.weightSpecs,
    weightData: tf.io.CompositeArrayBuffer.join(captured.weightData),
  };
}

/**
 * A new model from checked artifacts (see `checkModelJson`). The topology is
 * deserialised first; weights that do not fit it (names, shapes) dispose the
 * half-built model again, so a refused file leaves no tensors behind.
 */
export async function modelFromArtifacts(artifacts: ModelArtifactsData): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'] } as never);
  } catch (error) {
    throw new ModelFileError(`The model's topology cannot be built: ${(error as Error).message}`);
  }
  try {
    const named = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
    try {
      // strict: every weight of the model must be in the file, and nothing else.
      model.loadWeights(named, true);
    } finally {
      // loadWeights shares the data with the model's variables (reference counted).
      tf.dispose(Object.values(named));
    }
  } catch (error) {
    model.dispose();
    throw new ModelFileError(`The weights do not fit the model: ${(error as Error).message}`);
  }
  return model;
}
