/**
 * The model that classifies the user's images, in the worker. It is either
 *
 * - the run in progress ("follow"): before each batch of images, the training
 *   model's weights are copied into a separate inference model. Copying is
 *   synchronous and training steps are too, so the copy always falls between
 *   two steps; predicting with the copy never touches the training model, its
 *   BatchNorm statistics or the optimizer, so the run is not disturbed; or
 * - a model of its own ("adopt"): a finished run, a library entry or an import.
 *
 * Inputs go through `toModelInput`, the same function training uses.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE, PIXELS_PER_IMAGE } from '../data/format';
import { grayscaleBytes } from '../data/grayscale';
import { toModelInput } from '../data/preprocess';
import { AppError } from '../errors';
import { inputChannels, type ModelConfig } from '../model/config';
import { buildModel, setModelWeights } from '../model/model';
import type { ModelMetadata } from '../model/modelFiles';
import type { ColorMode } from '../model/config';
import { saliencyMaps } from './saliency';

/** What the page is told about the model that classifies now. */
export interface ClassifierInfo {
  /** `training`: snapshots of the run in progress; `trained`: the run that just finished; else a saved or imported model. */
  source: 'training' | 'trained' | 'library' | 'imported';
  /** Shown to the user, e.g. "tiny · rgb · 3 epochs". */
  name: string;
  color: ColorMode;
  /** Output index → class name. */
  classes: string[];
  /** The library entry it came from or was saved as; null when not in the library. */
  libraryId: string | null;
}

interface Source {
  info: ClassifierInfo;
  /** Colour, class names and the statistics inputs are standardised with; also what an export writes. */
  metadata: ModelMetadata;
}

export class Classifier {
  /** The training model (not ours: never disposed here) and our copy of its weights. */
  private live: (Source & { model: tf.LayersModel; config: ModelConfig; copy: tf.LayersModel | null }) | null = null;
  private owned: (Source & { model: tf.LayersModel }) | null = null;

  get info(): ClassifierInfo | null {
    return (this.live ?? this.owned)?.info ?? null;
  }

  /** Classify with snapshots of a model that is being trained. Replaces any model of our own. */
  follow(model: tf.LayersModel, config: ModelConfig, metadata: ModelMetadata, info: ClassifierInfo): void {
    this.release();
    this.live = { model, config, copy: null, metadata, info };
  }

  /** The followed model is about to be disposed: stop using it. */
  unfollow(model: tf.LayersModel): void {
    if (this.live?.model !== model) return;
    this.live.copy?.dispose();
    this.live = null;
  }

  /** Classify with `model` from now on; the classifier owns and eventually disposes it. */
  adopt(model: tf.LayersModel, metadata: ModelMetadata, info: ClassifierInfo): void {
    const channels = model.inputs[0]?.shape[3];
    if (channels !== inputChannels(metadata.color)) {
      model.dispose();
      throw new RangeError(`The model takes ${channels} channels but is labelled "${metadata.color}"`);
    }
    this.release();
    this.owned = { model, metadata, info };
  }

  /** Changes the description only (e.g. the library entry was deleted). */
  relabel(info: ClassifierInfo): void {
    if (this.live) this.live.info = info;
    else if (this.owned) this.owned.info = info;
  }

  /**
   * The model as it classifies now: our own model, or a fresh snapshot of the
   * training model's weights. Used for export; not to be disposed by the caller.
   */
  current(): { model: tf.LayersModel; info: ClassifierInfo; metadata: ModelMetadata } | null {
    if (this.live) return { model: this.snapshot(), info: this.live.info, metadata: this.live.metadata };
    return this.owned;
  }

  /**
   * `count` images of 32 × 32 × 3 bytes (HWC, RGB) → count × (the model's classes) probabilities.
   * Throws AppError('no-model') when there is no model.
   */
  async predict(pixels: Uint8Array, count: number): Promise<Float32Array> {
    return predictWith(this.require(), pixels, count);
  }

  /**
   * `predict`, and for each image a saliency map of its top class (count × 32 × 32 bytes, or null
   * when the gradient could not be computed), both from the same weights.
   */
  async predictAndExplain(pixels: Uint8Array, count: number): Promise<{ probs: Float32Array; saliency: Uint8Array | null }> {
    const source = this.require();
    const probs = await predictWith(source, pixels, count);
    const top = Array.from({ length: count }, (_, i) => {
      const classes = source.metadata.classes.length;
      const row = probs.subarray(i * classes, (i + 1) * classes);
      return row.indexOf(Math.max(...row));
    });
    const saliency = await saliencyMaps(source.model, source.metadata, pixels, count, top).catch((error: unknown) => {
      // The prediction stands without its map (e.g. a backend without some gradient kernel).
      console.warn('No saliency map:', error);
      return null;
    });
    return { probs, saliency };
  }

  private require(): { model: tf.LayersModel; metadata: ModelMetadata } {
    const source = this.current();
    if (!source) throw new AppError('no-model', 'There is no trained model to classify with yet.');
    return source;
  }

  /** What the model sees, for display: luma in all three channels when it is a grayscale model. */
  displayPixels(pixels: Uint8Array): Uint8Array {
    if ((this.live ?? this.owned)?.metadata.color !== 'gray') return pixels;
    const luma = grayscaleBytes(pixels);
    const out = new Uint8Array(pixels.length);
    luma.forEach((v, i) => out.fill(v, 3 * i, 3 * i + 3));
    return out;
  }

  dispose(): void {
    this.release();
  }

  /** Copies the training model's current weights into our inference model (built once per followed model). */
  private snapshot(): tf.LayersModel {
    const live = this.live as NonNullable<Classifier['live']>;
    if (!live.copy) live.copy = buildModel(live.config);
    // setWeights makes each variable share the training variable's current data
    // (reference counted); the optimizer's next step gives the training
    // variables new data, so the copy keeps these values: a true snapshot.
    setModelWeights(live.copy, live.model.getWeights());
    return live.copy;
  }

  private release(): void {
    this.live?.copy?.dispose();
    this.live = null;
    this.owned?.model.dispose();
    this.owned = null;
  }
}

async function predictWith(
  { model, metadata }: { model: tf.LayersModel; metadata: ModelMetadata },
  pixels: Uint8Array,
  count: number,
): Promise<Float32Array> {
  if (pixels.length !== count * PIXELS_PER_IMAGE)
    throw new RangeError(`Expected ${count} images of ${PIXELS_PER_IMAGE} bytes, got ${pixels.length} bytes`);
  // Everything up to the asynchronous read-back happens in this one synchronous block.
  const probs = tf.tidy(() => {
    const raw = tf.tensor4d(Float32Array.from(pixels), [count, IMAGE.height, IMAGE.width, IMAGE.channels]);
    return model.predict(toModelInput(raw, metadata)) as tf.Tensor2D;
  });
  try {
    const classes = metadata.classes.length;
    if (probs.shape[1] !== classes) throw new RangeError(`The model gives ${probs.shape[1]} outputs for its ${classes} classes`);
    return (await probs.data()) as Float32Array;
  } finally {
    probs.dispose();
  }
}
