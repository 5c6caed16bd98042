/**
 * One training run inside the worker: split the data as the settings say,
 * build the model, train it, and report everything to the page as protocol
 * messages. Pause and stop arrive as messages between steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/loader';
import { splitTrainingSet, stratifiedSample } from '../data/split';
import { gatherImages } from '../data/samples';
import { buildModel } from '../model/model';
import { summarizeModel } from '../model/summary';
import { trainModel, type BatchMetrics, type LoopState, type TrainResult } from '../train/loop';
import { toModelConfig, type Settings } from '../train/settings';
import type { FromWorker, MemoryInfo } from './protocol';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;

/** What checkpoints, the classifier and the model library need from a run (src/worker/models.ts). */
export interface RunExtras {
  /** Puts a checkpoint's weights into the freshly built model; returns where the loop continues. */
  restore?(model: tf.LayersModel): LoopState;
  /** The model being trained, once built: classification takes snapshots of its weights between steps. */
  onModel?(model: tf.LayersModel): void;
  /** After every epoch; see TrainHooks.onCheckpoint. */
  onCheckpoint?(state: LoopState, model: tf.LayersModel): Promise<void>;
  /** After the test evaluation, before the model is disposed: keep what is worth keeping. */
  onFinished?(model: tf.LayersModel, result: TrainResult): Promise<void>;
  /** Always last, after success or failure. */
  onEnd?(): void;
}

export function memory(): MemoryInfo {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  const info: MemoryInfo = { numTensors: m.numTensors, numBytes: m.numBytes };
  if (m.numBytesInGPU !== undefined) info.gpuBytes = m.numBytesInGPU;
  return info;
}

export class TrainingRun {
  active = false;
  private paused = false;
  private stopRequested = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly dataset: Dataset,
    private readonly settings: Settings,
    private readonly post: Post,
    private readonly extras: RunExtras = {},
  ) {}

  async start(): Promise<void> {
    this.active = true;
    const { dataset, settings, post, extras } = this;
    let model: tf.LayersModel | undefined;
    try {
      post({ type: 'status', status: 'training' });
      const { train, val } = splitTrainingSet(dataset.train.labels, settings);
      const allTest = Uint32Array.from(dataset.test.labels.keys());
      const testIndices =
        settings.testLimit > 0 ? stratifiedSample(dataset.test.labels, allTest, settings.testLimit, settings.seed) : allTest;
      model = buildModel(toModelConfig(settings));
      const resume = extras.restore?.(model);
      extras.onModel?.(model);
      const trained = model;
      post({ type: 'model', summary: summarizeModel(model) });

      const result = await trainModel({
        model,
        settings,
        data: {
          train: { ...dataset.train, indices: train },
          val: { ...dataset.train, indices: val },
          test: { ...dataset.test, indices: testIndices },
        },
        stats: { mean: dataset.manifest.mean, std: dataset.manifest.std },
        hooks: {
          onBatchMetrics: (metrics: BatchMetrics) => post({ type: 'batch-metrics', metrics: [metrics], memory: memory() }),
          onEpochEnd: (record) => post({ type: 'epoch-end', record, memory: memory() }),
          waitWhilePaused: () => (this.paused ? new Promise<void>((resolve) => (this.wakeUp = resolve)) : Promise.resolve()),
          shouldStop: () => this.stopRequested,
          ...(extras.onCheckpoint
            ? { onCheckpoint: (state: LoopState) => extras.onCheckpoint?.(state, trained) ?? Promise.resolve() }
            : {}),
        },
        ...(resume ? { resume } : {}),
      });

      if (result.test) {
        const shown = [...result.test.samples.map((s) => s.index), ...result.test.misclassified.map((m) => m.index)];
        const images = gatherImages(dataset.test.pixels, dataset.test.labels, shown);
        post({ type: 'test-result', result: result.test, images }, [images.pixels.buffer, images.labels.buffer]);
      }
      await extras.onFinished?.(model, result);
      post({ type: 'status', status: 'done' });
    } finally {
      extras.onEnd?.();
      model?.dispose();
      this.active = false;
    }
  }

  pause(): void {
    if (!this.active || this.paused) return;
    this.paused = true;
    this.post({ type: 'status', status: 'paused' });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.wakeUp?.();
    this.wakeUp = undefined;
    this.post({ type: 'status', status: 'training' });
  }

  /** Ends training after the current step; the best weights so far are still evaluated on the test set. */
  stop(): void {
    this.stopRequested = true;
    this.resume();
  }
}
