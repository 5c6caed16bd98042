/**
 * A model measured on a subset in inference mode (BatchNorm running
 * statistics, no dropout, no augmentation): validation after each epoch and
 * the final test report.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE, PIXELS_PER_IMAGE } from '../data/format';
import { toModelInput, type ChannelStats } from '../data/preprocess';
import { inputChannels, type ColorMode } from '../model/config';
import { modelClasses } from '../model/model';
import { fillBatch } from './batches';
import type { Evaluation, Subset } from '../run/records';
import { CE_EPSILON } from './step';

/** Images per evaluation batch: larger than training batches since no gradients are kept. Unit: images. */
export const EVAL_BATCH_SIZE = 200;
/** First images of the test set reported with their probabilities (the UI's sample grid). */
export const TEST_SAMPLES = 16;
/** Misclassified test images listed at most. */
export const MAX_MISCLASSIFIED = 32;

export interface EvaluateOptions {
  color: ColorMode;
  stats: ChannelStats;
  /** Images per batch; the last batch is padded to this size. Defaults to EVAL_BATCH_SIZE. */
  batchSize?: number;
  /** Defaults to TEST_SAMPLES. */
  sampleCount?: number;
  /** Defaults to MAX_MISCLASSIFIED. */
  misclassifiedLimit?: number;
  /** Average the probabilities of each image and its mirror image (test-time augmentation); off by default. */
  flipTestTime?: boolean;
  /** Also return every image's prediction and probabilities (`Evaluation.predictions`): 41 bytes an image. Off by default. */
  keepPredictions?: boolean;
}

/**
 * Loss, accuracy and the confusion matrix of `subset`.
 *
 * Probabilities come back to the CPU one batch at a time (one float per
 * class and image), while the GPU already works on the next batch.
 */
export async function evaluate(model: tf.LayersModel, subset: Subset, opts: EvaluateOptions): Promise<Evaluation> {
  const n = subset.indices.length;
  if (n === 0) throw new RangeError('Cannot evaluate an empty subset');
  checkModelInput(model, opts.color);
  const batchSize = Math.min(opts.batchSize ?? EVAL_BATCH_SIZE, n);
  const sampleCount = opts.sampleCount ?? TEST_SAMPLES;
  const misclassifiedLimit = opts.misclassifiedLimit ?? MAX_MISCLASSIFIED;
  const xBuffer = new Float32Array(batchSize * PIXELS_PER_IMAGE);
  const yBuffer = new Int32Array(batchSize);

  const classes = modelClasses(model);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const samples: Evaluation['samples'] = [];
  const misclassified: Evaluation['misclassified'] = [];
  const kept = opts.keepPredictions ? { predicted: new Uint8Array(n), probs: new Float32Array(n * classes) } : null;
  let lossSum = 0;
  let correct = 0;

  interface InFlight {
    probs: tf.Tensor2D;
    start: number;
    labels: Int32Array;
  }
  const consume = async ({ probs, start, labels }: InFlight) => {
    const values = await probs.data();
    labels.forEach((label, row) => {
      const p = values.subarray(row * classes, (row + 1) * classes);
      let predicted = 0;
      for (let c = 1; c < classes; c++) if ((p[c] as number) > (p[predicted] as number)) predicted = c;
      lossSum -= Math.log(Math.min(1, Math.max(CE_EPSILON, p[label] as number)));
      const counts = confusion[label] as number[];
      counts[predicted] = (counts[predicted] as number) + 1;
      const position = start + row;
      const index = subset.indices[position] as number;
      if (kept) {
        kept.predicted[position] = predicted;
        kept.probs.set(p, position * classes);
      }
      if (predicted === label) correct++;
      else if (misclassified.length < misclassifiedLimit) misclassified.push({ index, label, predicted });
      if (position < sampleCount) samples.push({ index, label, predicted, probs: Array.from(p) });
    });
  };

  let inFlight: InFlight | null = null;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const real = fillBatch(subset.pixels, subset.labels, subset.indices, start, batchSize, xBuffer, yBuffer);
      const probs = tf.tidy(() => {
        const raw = tf.tensor4d(xBuffer, [batchSize, IMAGE.height, IMAGE.width, IMAGE.channels]);
        const x = toModelInput(raw, { color: opts.color, ...opts.stats });
        const probs = model.apply(x, { training: false }) as tf.Tensor2D;
        if (!opts.flipTestTime) return probs;
        // Axis 2 is the width: the mirror image, as augmentBatch's flips show it in training.
        return tf.div(tf.add(probs, model.apply(tf.reverse(x, 2), { training: false }) as tf.Tensor2D), 2) as tf.Tensor2D;
      });
      const previous: InFlight | null = inFlight;
      inFlight = { probs, start, labels: yBuffer.slice(0, real) };
      if (previous) await consume(previous).finally(() => previous.probs.dispose());
    }
    const last = inFlight;
    inFlight = null;
    if (last) await consume(last).finally(() => last.probs.dispose());
  } finally {
    inFlight?.probs.dispose();
  }

  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? Number.NaN : (row[c] as number) / total;
  });
  const result: Evaluation = { loss: lossSum / n, accuracy: correct / n, count: n, perClass, confusion, samples, misclassified };
  return kept ? { ...result, predictions: kept } : result;
}

/** Throws unless the model's input has the channels of `color`. */
export function checkModelInput(model: tf.LayersModel, color: ColorMode): void {
  const channels = model.inputs[0]?.shape[3];
  if (channels !== inputChannels(color)) {
    throw new RangeError(`The model takes ${channels} channels but colour "${color}" gives ${inputChannels(color)}`);
  }
}
