/**
 * One training run inside the worker, from split to library: it owns the
 * run's history (what the page's curves are drawn from), its checkpoints and
 * the classifier's view of the model being trained. Pause, resume and stop
 * arrive as messages and take effect between steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier, ClassifierInfo } from '../classify/classifier';
import type { Dataset } from '../data/loader';
import { gatherImages } from '../data/samples';
import { splitTrainingSet, stratifiedSample } from '../data/split';
import { buildModel, modelClasses } from '../model/model';
import type { ModelMetadata } from '../model/modelFiles';
import { captureArtifacts } from '../model/modelIO';
import { summarizeModel } from '../model/summary';
import type { Checkpoint } from '../store/checkpoints';
import { trainBatchesPerEpoch } from '../train/batches';
import { RunControl } from '../train/control';
import { captureHandover, captureStart, tfjsSegments, type HandoverState } from '../handover/capture';
import { libraryName } from '../handover/history';
import { trainModel, type LoopState, type TrainEvent } from '../train/loop';
import type { Evaluation, Subset, TrainResult } from '../run/records';
import { shareOf, type ReplicaGroup } from '../train/replicas';
import { toModelConfig, type Settings } from '../run/settings';
import { toErrorData } from '../errors';
import { restoreCheckpoint, type CheckpointSlot, type RunHistory } from './checkpointSlot';
import { libraryEntry, type Library } from './library';
import { runRecord } from './runRecord';
import { tensorMemory } from './memory';
import { assertNever, type FromWorker, type RunPlan } from './protocol';

/** The worker's long-lived parts a run works with. */
export interface RunServices {
  post: (message: FromWorker, transfer?: Transferable[]) => void;
  checkpoints: CheckpointSlot;
  library: Library;
  classifier: Classifier;
  /** Chooses the convolution formulations for the model's training step on this device, and tells the page. */
  prepareKernels: (model: tf.LayersModel, batchSize: number) => Promise<void>;
  /** The workers that train each batch together with this one (WASM on several cores); null for none. */
  replicas: () => ReplicaGroup | null;
}

export class Run {
  private readonly control = new RunControl();
  private readonly history: RunHistory;
  private model: tf.LayersModel | null = null;
  private runPlan: RunPlan | null = null;
  /** The run after its latest epoch, for "Continue elsewhere" once it is in the library. */
  private handover: HandoverState | null = null;
  /** Workers that shared each batch of this run: 1, or the replica group's size. */
  private workers = 1;
  active = false;

  constructor(
    private readonly services: RunServices,
    private readonly dataset: Dataset,
    private readonly settings: Settings,
    /** The checkpoint this run continues from; null for a new run. */
    private readonly restored: Checkpoint | null,
  ) {
    this.history = restored ? { steps: [...restored.meta.steps], memory: [...restored.meta.memory] } : { steps: [], memory: [] };
  }

  async start(): Promise<void> {
    const { post, checkpoints, classifier } = this.services;
    const { dataset, settings, restored } = this;
    this.active = true;
    let restoredTensors: tf.Tensor[] = [];
    try {
      post({ type: 'status', status: 'training' });
      // A new run starts over: the old checkpoint is no longer to be resumed.
      if (!restored) await checkpoints.clear();
      const data = this.subsets();
      this.runPlan = this.plan(data);
      post({ type: 'run-plan', plan: this.runPlan });
      const model = buildModel(toModelConfig(settings, dataset.manifest.classes.length));
      this.model = model;
      let resume;
      if (restored) {
        ({ state: resume, tensors: restoredTensors } = restoreCheckpoint(model, restored));
        const { steps, epochs, memory } = restored.meta;
        post({ type: 'run-restored', settings, steps, epochs, memory });
      }
      this.followWithClassifier(model);
      post({ type: 'model', summary: summarizeModel(model) });
      const replicas = await replicasFor(this.services.replicas(), settings.batchSize, post);
      this.workers = replicas?.count ?? 1;
      await this.services.prepareKernels(model, replicas ? shareOf(settings.batchSize, replicas.count) : settings.batchSize);

      const result = await trainModel({
        model,
        settings,
        data,
        stats: { mean: dataset.manifest.mean, std: dataset.manifest.std },
        sink: (event) => this.report(event),
        control: this.control,
        ...(resume ? { resume } : {}),
        ...(replicas ? { replicas } : {}),
      });
      if (result.test) this.postTestResult(result.test, data.test);
      await this.finish(model, result);
      post({ type: 'status', status: 'done' });
    } finally {
      if (this.model) classifier.unfollow(this.model);
      if (!classifier.info) post({ type: 'classifier', info: null });
      tf.dispose(restoredTensors);
      this.model?.dispose();
      this.model = null;
      this.active = false;
    }
  }

  pause(): void {
    if (this.active && this.control.pause()) this.services.post({ type: 'status', status: 'paused' });
  }

  resume(): void {
    if (this.control.resume()) this.services.post({ type: 'status', status: 'training' });
  }

  /** Ends training after the current step; the best weights so far are still evaluated on the test set. */
  stop(): void {
    const wasPaused = this.control.paused;
    this.control.stop();
    if (wasPaused) this.services.post({ type: 'status', status: 'training' });
  }

  /** The training, validation and test images as the settings ask (validation share, limits, seed). */
  private subsets(): { train: Subset; val: Subset; test: Subset } {
    const { dataset, settings } = this;
    const { train, val } = splitTrainingSet(dataset.train.labels, settings);
    const allTest = Uint32Array.from(dataset.test.labels.keys());
    const test = settings.testLimit > 0 ? stratifiedSample(dataset.test.labels, allTest, settings.testLimit, settings.seed) : allTest;
    return {
      train: { ...dataset.train, indices: train },
      val: { ...dataset.train, indices: val },
      test: { ...dataset.test, indices: test },
    };
  }

  private plan(data: { train: Subset; val: Subset; test: Subset }): RunPlan {
    const { batchSize, epochs } = this.settings;
    const trainImages = data.train.indices.length;
    return {
      preset: this.settings.preset,
      trainImages,
      valImages: data.val.indices.length,
      testImages: data.test.indices.length,
      batchSize,
      batchesPerEpoch: trainBatchesPerEpoch(trainImages, batchSize),
      epochs,
    };
  }

  /** Everything the loop reports goes into the history and to the page; checkpoints to storage. */
  private async report(event: TrainEvent): Promise<void> {
    const { post, checkpoints } = this.services;
    switch (event.type) {
      case 'metrics':
        this.history.steps.push(event.metrics);
        post({ type: 'batch-metrics', metrics: [event.metrics], memory: tensorMemory() });
        return;
      case 'epoch-end': {
        const memory = tensorMemory();
        this.history.memory.push(memory);
        post({ type: 'epoch-end', record: event.record, memory });
        return;
      }
      case 'start':
        this.handover = await this.captureHandover(null);
        return;
      case 'checkpoint':
        if (this.model) {
          this.handover = await this.captureHandover(event.state);
          await checkpoints.save(this.settings, event.state, this.model, this.history);
        }
        return;
      default:
        return assertNever(event);
    }
  }

  /**
   * The state "Continue elsewhere" needs, after an epoch or (null) before
   * the first step. Optional to the run: a failure here costs only that
   * button (the library then says the run cannot continue elsewhere), never
   * the training or its checkpoint.
   */
  private async captureHandover(state: LoopState | null): Promise<HandoverState | null> {
    if (!this.model) return null;
    try {
      return state ? await captureHandover(this.model, this.settings, state) : await captureStart(this.model);
    } catch (error) {
      console.warn('No hand-over state for this epoch:', error);
      return null;
    }
  }

  /** The test report, the images it shows, and every test image's prediction (buffers transferred, not copied). */
  private postTestResult({ predictions, ...result }: Evaluation, test: Subset): void {
    const { dataset } = this;
    const shown = [...result.samples.map((s) => s.index), ...result.misclassified.map((m) => m.index)];
    const images = gatherImages(dataset.test.pixels, dataset.test.labels, shown);
    const kept = predictions ?? { predicted: new Uint8Array(0), probs: new Float32Array(0) };
    const all = {
      indices: test.indices.slice(),
      labels: Uint8Array.from(test.indices, (i) => test.labels[i] as number),
      predicted: kept.predicted,
      probs: kept.probs,
    };
    const buffers = [images.pixels, images.labels, all.indices, all.labels, all.predicted, all.probs].map((a) => a.buffer as ArrayBuffer);
    this.services.post({ type: 'test-result', result, images, predictions: all }, buffers);
  }

  /** Dropped pictures are classified with snapshots of the weights being trained. */
  private followWithClassifier(model: tf.LayersModel): void {
    const { settings } = this;
    const info: ClassifierInfo = {
      source: 'training',
      name: `${settings.preset} · ${settings.color} · training`,
      color: settings.color,
      classes: this.dataset.manifest.classes,
      libraryId: null,
    };
    this.services.classifier.follow(
      model,
      toModelConfig(settings, modelClasses(model)),
      this.metadata(null, this.restored?.meta.epoch ?? 0),
      info,
    );
    this.services.post({ type: 'classifier', info });
  }

  /** The run is complete: nothing to resume any more, and its model goes into the library. */
  private async finish(model: tf.LayersModel, result: TrainResult): Promise<void> {
    const { checkpoints, library, post } = this.services;
    await checkpoints.flushed();
    await checkpoints.clear();
    try {
      const metadata = this.metadata(result.test?.accuracy ?? null, result.epochs.length);
      const artifacts = await captureArtifacts(model);
      const imagesPerEpoch = this.runPlan ? this.runPlan.batchesPerEpoch * this.runPlan.batchSize : 0;
      const run = runRecord(this.settings, result.epochs, tf.getBackend(), imagesPerEpoch);
      const name = libraryName(this.settings, result.epochs.length, run, metadata.dataSet);
      const entry = { ...libraryEntry('trained', name, metadata, artifacts), run };
      const h = this.handover;
      if (!h) return await library.keep(artifacts, metadata, entry);
      // The hand-over continues from the last epoch's end: its own weights when the model's now differ.
      const sameWeights = result.steps === h.step && !result.restoredBestWeights;
      const steps = this.history.steps.filter((s) => s.step <= h.step);
      const continuation = {
        runId: entry.id,
        step: h.step,
        stopped: h.stopped,
        optimizer: h.optimizer,
        segments: tfjsSegments(h, 'browser', Date.now(), this.workers),
      };
      await library.keep(
        artifacts,
        metadata,
        { ...entry, continuation },
        {
          ...(sameWeights ? {} : { artifacts: h.artifacts }),
          optimizer: h.optimizerData,
          steps,
        },
      );
    } catch (error) {
      // The run itself succeeded; only keeping its model failed.
      post({ type: 'model-error', action: 'save', error: toErrorData(error) });
    }
  }

  /** What this run's model is, for the classifier, the library and model.json. */
  private metadata(testAccuracy: number | null, epochs: number): ModelMetadata {
    const { classes, mean, std } = this.dataset.manifest;
    const { ownName } = this.dataset;
    return {
      version: 1,
      preset: this.settings.preset,
      color: this.settings.color,
      classes,
      mean,
      std,
      testAccuracy,
      epochs,
      ...(ownName === undefined ? {} : { dataSet: ownName }),
    };
  }
}

/**
 * The replica workers, when the batch splits evenly across them and they
 * start; otherwise null (the run trains in this worker alone) and the page is told why.
 */
export async function replicasFor(group: ReplicaGroup | null, batchSize: number, post: RunServices['post']): Promise<ReplicaGroup | null> {
  if (!group) return null;
  const alone = (why: string) => {
    post({ type: 'notice', message: `${why}, so this run trains in one worker, on part of the cores.` });
    return null;
  };
  if (batchSize % group.count !== 0) {
    return alone(
      `A batch of ${batchSize} images does not split evenly across the ${group.count} WASM workers (choose a multiple of ${group.count} to use every core)`,
    );
  }
  try {
    await group.prepare();
    return group;
  } catch (error) {
    console.warn('The replica workers could not start:', error);
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
    return alone(`The other WASM workers could not start (${reason})`);
  }
}
