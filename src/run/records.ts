/**
 * What a training run reports and keeps, as plain data: the loop produces
 * these, the worker sends them, checkpoints store them and the page draws
 * them. No TensorFlow.js here, so every layer can import them.
 */
import type { SplitData } from '../data/loader';
import type { Settings } from './settings';

/** The images of a split that one use of it takes (e.g. the training part after the validation hold-out). */
export interface Subset extends SplitData {
  /** Indices into `pixels` / `labels`. */
  indices: Uint32Array;
}

/** Sent every few steps; loss and accuracy are means over the steps since the previous report. */
export interface BatchMetrics {
  /** Optimizer steps done since the start, 1-based. */
  step: number;
  /** 1-based. */
  epoch: number;
  /** Batches done in this epoch, 1 … batchesPerEpoch. */
  batchInEpoch: number;
  batchesPerEpoch: number;
  loss: number;
  /** Fraction 0–1, on the augmented training images in training mode (dropout on). */
  accuracy: number;
  /** Training throughput since the previous report, pauses excluded. Unit: images/s. */
  imagesPerSecond: number;
}

export interface EpochRecord {
  /** 1-based. */
  epoch: number;
  /** Mean over the epoch's steps, as seen during training (augmented, dropout on). */
  trainLoss: number;
  trainAccuracy: number;
  /** null when there is no validation set. */
  valLoss: number | null;
  valAccuracy: number | null;
  /** Time of the epoch including validation, pauses excluded. Unit: s. */
  seconds: number;
  /** Training throughput (validation time excluded). Unit: images/s. */
  imagesPerSecond: number;
  /** Lowest validation loss so far (the final best epoch is `TrainResult.bestEpoch`). */
  best: boolean;
  /**
   * From Train to the end of this epoch's validation, set-up included, pauses
   * excluded (timeToAccuracy.ts). Unit: s. Absent in records of earlier
   * versions and of the PyTorch side.
   */
  elapsedSeconds?: number;
  /** Training images seen since the run began, this epoch's included. Absent where `elapsedSeconds` is. */
  images?: number;
}

/** A model measured on a subset in inference mode: validation after each epoch, the test report at the end. */
export interface Evaluation {
  /** Mean cross-entropy over the real (unpadded) images. */
  loss: number;
  /** Fraction 0–1. */
  accuracy: number;
  count: number;
  /** Accuracy per true class (recall); NaN for a class with no image in the subset. */
  perClass: number[];
  /** confusion[trueLabel][predicted] = image count, 10 × 10. */
  confusion: number[][];
  /** The first `sampleCount` images of the subset, with the model's probabilities. */
  samples: { index: number; label: number; predicted: number; probs: number[] }[];
  /** Up to `misclassifiedLimit` wrongly classified images, in subset order. */
  misclassified: { index: number; label: number; predicted: number }[];
  /** Every image's prediction, in subset order; only when asked for (`keepPredictions`). */
  predictions?: ImagePredictions;
}

/** What a model said about each image of a subset, position by position (the subset's order). */
export interface ImagePredictions {
  /** Predicted class per image. */
  predicted: Uint8Array;
  /** count × 10 class probabilities, row-major. */
  probs: Float32Array;
}

/** Where a range of a run's epochs was trained: this tab, or (later) a PyTorch process the run was handed to. */
export interface RunSegment {
  /** 1-based, inclusive. */
  fromEpoch: number;
  toEpoch: number;
  where: 'browser' | 'torch';
  /** e.g. the backend and adapter, "wasm (SIMD, single-threaded)". */
  detail: string;
}

/** A finished run's history, kept with its model in the library so runs can be compared later. */
export interface RunRecord {
  settings: Settings;
  epochs: EpochRecord[];
  /** The backend of the run's last segment: webgpu, webgl, wasm, cpu (or torch's device). */
  backend: string;
  /** Training images per second over the whole run (validation excluded). Unit: images/s. */
  imagesPerSecond: number;
  /** Time of all epochs, validation included, pauses excluded. Unit: s. */
  seconds: number;
  /** In epoch order, covering every epoch once. */
  segments: RunSegment[];
}

export type StopReason = 'completed' | 'early-stopping' | 'user';

/** How `trainModel` ended. */
export interface TrainResult {
  epochs: EpochRecord[];
  /** Epoch with the lowest validation loss; null without validation. */
  bestEpoch: number | null;
  stopReason: StopReason;
  /** The model now holds the weights of `bestEpoch` (only when patience > 0 and a later epoch was worse). */
  restoredBestWeights: boolean;
  steps: number;
  /** null when the test subset is empty. */
  test: Evaluation | null;
}

/** The worker's tensors at one moment, so that a leak shows as a count that grows. */
export interface MemoryInfo {
  numTensors: number;
  /** Bytes held by tensors, as `tf.memory().numBytes` reports. */
  numBytes: number;
  /** Bytes in GPU buffers or textures (WebGPU, WebGL); absent on WASM and CPU. */
  gpuBytes?: number;
}
