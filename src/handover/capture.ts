/**
 * What a hand-over takes from a live run (TensorFlow.js side of
 * files.ts): the model's weights and the optimizer's slots as they
 * are after an epoch, read from the loop's 'checkpoint' state. The worker
 * keeps one per epoch for "Continue elsewhere"; scripts/export-reference.ts
 * writes it as the Python tests' reference.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelArtifactsData } from '../model/modelFiles';
import { captureArtifacts } from '../model/modelIO';
import { OPTIMIZER_FILE_NAME, optimizerSlots, type OptimizerState, type RunSegment } from './runFile';
import type { LoopState } from '../train/loop';
import type { EpochRecord } from '../run/records';
import type { Settings } from '../run/settings';
import { resolveRecipe } from '../run/recipe';

/** A run as it stood after an epoch, or before its first step: everything run.json and the Layers files need. */
export interface HandoverState {
  artifacts: ModelArtifactsData;
  /** null before the first step: the optimizer has no state yet, and a fresh one elsewhere is the same. */
  optimizer: OptimizerState | null;
  /** The slots' float32 values, little-endian, in `optimizer.slots` order; null with `optimizer`. */
  optimizerData: ArrayBuffer | null;
  epochs: EpochRecord[];
  step: number;
  stopped: boolean;
}

/** Reads the state now (the loop awaits its sink, so the tensors are those of the epoch just ended). */
export async function captureHandover(model: tf.LayersModel, settings: Settings, state: LoopState): Promise<HandoverState> {
  const artifacts = await captureArtifacts(model);
  const named = state.optimizerWeights.map((w) => ({ name: w.name, shape: w.tensor.shape }));
  const slots = optimizerSlots(named, model.trainableWeights);
  const [iter, ...rest] = state.optimizerWeights;
  if (!iter) throw new RangeError('The optimizer state must start with its iteration count');
  const iterations = (await iter.tensor.data())[0] as number;
  const values = await Promise.all(rest.map((w) => w.tensor.data<'float32'>()));
  // The run's optimizer, as createOptimizer (../train/step.ts) makes it from the same recipe.
  const spec = resolveRecipe(settings).optimizer;
  const adam = spec.kind === 'adam';
  const optimizer: OptimizerState = {
    kind: spec.kind,
    iterations,
    beta1: adam ? spec.beta1 : null,
    beta2: adam ? spec.beta2 : null,
    epsilon: adam ? tf.backend().epsilon() : null,
    momentum: adam ? null : spec.momentum,
    nesterov: !adam && spec.nesterov,
    file: OPTIMIZER_FILE_NAME,
    slots,
  };
  return {
    artifacts,
    optimizer,
    optimizerData: concatFloats(values).buffer as ArrayBuffer,
    epochs: state.epochs.slice(),
    step: state.step,
    stopped: state.stopped,
  };
}

/**
 * A new run's state before its first step (the loop's 'start' event): what
 * "Continue elsewhere" hands over when the run is stopped before its first
 * epoch ends, for PyTorch to train it from the start.
 */
export async function captureStart(model: tf.LayersModel): Promise<HandoverState> {
  return { artifacts: await captureArtifacts(model), optimizer: null, optimizerData: null, epochs: [], step: 0, stopped: false };
}

/**
 * The segments of a run trained by TensorFlow.js from its first epoch: in a
 * tab (`browser`) or in Node; none before an epoch has ended. `workers`: how
 * many shared each batch (WASM's data-parallel workers), the tab's
 * counterpart of a DDP world size.
 */
export function tfjsSegments(
  state: Pick<HandoverState, 'epochs' | 'step'>,
  device: 'browser' | 'node',
  endedAt: number,
  workers = 1,
): RunSegment[] {
  if (state.epochs.length === 0) return [];
  return [
    {
      fromEpoch: 1,
      toEpoch: state.epochs.length,
      fromStep: 0,
      toStep: state.step,
      engine: 'tfjs',
      backend: tf.getBackend(),
      worldSize: workers,
      device,
      detail: `TensorFlow.js ${tf.version.tfjs}`,
      endedAt,
    },
  ];
}

export function concatFloats(arrays: readonly Float32Array[]): Uint8Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return new Uint8Array(out.buffer);
}
