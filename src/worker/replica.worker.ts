/// <reference lib="webworker" />
/**
 * A replica worker: trains a copy of the run's model on its share of every
 * batch, in step with the trainer worker that started it (replicaPool.ts),
 * through shared memory (src/train/replicas.ts). It holds no data set: the
 * trainer puts each whole batch into the shared buffer.
 */
import * as tf from '@tensorflow/tfjs';
import { toErrorData } from '../errors';
import { buildModel, setModelWeights } from '../model/model';
import { raiseFailure, stepShare, takeShare, weightsChecksum, type ReplicaLink } from '../train/replicas';
import { toModelConfig } from '../run/settings';
import { createOptimizer, createTrainStep, stepSettings, type ScheduledOptimizer, type TrainStep } from '../train/step';
import { resolveRecipe } from '../run/recipe';
import { startReplicaBackend } from './backend';
import { frozenWeights, variableValues, writeWeights } from './weightValues';
import { assertNever, type FromReplica, type ToReplica, type WeightValues } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

interface Replica {
  link: ReplicaLink;
  model: tf.LayersModel;
  optimizer: ScheduledOptimizer;
  step: TrainStep;
}

let replica: Replica | null = null;

function post(message: FromReplica): void {
  self.postMessage(message);
}

const toTensor = (w: WeightValues) => tf.tensor(w.values, w.shape, w.dtype);

async function start(message: Extract<ToReplica, { type: 'start' }>): Promise<void> {
  end();
  const { link, settings, classes, stats, totalSteps } = message;
  const model = buildModel(toModelConfig(settings, classes));
  const weights = message.weights.map(toTensor);
  setModelWeights(model, weights);
  tf.dispose(weights);
  const recipe = resolveRecipe(settings);
  const optimizer = createOptimizer(recipe, totalSteps);
  // Iteration count first, then the slots, paired with the variables by position (the same model, the same order).
  const optimizerWeights = message.optimizerWeights.map((w) => ({ name: w.name, tensor: toTensor(w) }));
  await optimizer.optimizer.setWeights(optimizerWeights);
  tf.dispose(optimizerWeights.map((w) => w.tensor));
  const step = createTrainStep({ model, optimizer: optimizer.optimizer, stats, ...stepSettings(settings, recipe), ...stepShare(link) });
  replica = { link, model, optimizer, step };
}

function end(): void {
  if (!replica) return;
  replica.step.dispose();
  replica.optimizer.dispose();
  replica.model.dispose();
  replica = null;
}

function built(): Replica {
  if (!replica) throw new Error('No replica has been built');
  return replica;
}

function runStep(step: number): void {
  if (!replica) throw new Error('A step arrived before the replica was built');
  takeShare(replica.link, replica.step.x, replica.step.y);
  replica.optimizer.setStep(step);
  // The metrics were averaged into the first replica's; this one's are not read.
  replica.step.run(step).dispose();
}

async function handle(message: ToReplica): Promise<void> {
  switch (message.type) {
    case 'init':
      await startReplicaBackend(message.threads);
      return post({ type: 'ready' });
    case 'start':
      await start(message);
      return post({ type: 'ready' });
    case 'step':
      return runStep(message.step);
    case 'read-statistics':
      return post({ type: 'statistics', weights: await variableValues(frozenWeights(built().model)) });
    case 'write-statistics':
      writeWeights(frozenWeights(built().model), message.weights);
      return post({ type: 'statistics-written' });
    case 'checksum':
      return post({ type: 'checksum', sum: weightsChecksum(built().model.weights) });
    case 'end':
      end();
      return post({ type: 'ended' });
    default:
      return assertNever(message);
  }
}

self.onmessage = (event: MessageEvent<ToReplica>) => {
  handle(event.data).catch((error: unknown) => {
    // The others may be waiting for this replica at a barrier: let them go.
    if (replica) raiseFailure(replica.link.shared);
    post({ type: 'failed', error: toErrorData(error) });
  });
};
