/**
 * A peer: ConvNetJS (Karpathy's pure-JavaScript library, the `convnetjs` npm
 * package itself) training its own CIFAR-10 demo network as its demo does,
 * and the same network trained by our step, on the same real images in the
 * same worker. Reported as images per second.
 *
 * The demo network: conv 5×5×16 ReLU, pool 2, conv 5×5×20 ReLU, pool 2,
 * conv 5×5×20 ReLU, pool 2, softmax 10; trainer: Adadelta (ρ 0.95, ε 1e-6),
 * batch 4, L2 decay 1e-4; each image shifted by −2…2 px and flipped at
 * random.
 */
import * as tf from '@tensorflow/tfjs';
import convnetjs from 'convnetjs';
import { IMAGE, NUM_CLASSES, PIXELS_PER_IMAGE } from '../data/format';
import { READ_AT_LEAST_EVERY_MS, READ_EVERY } from '../train/metricReader';
import { createTrainStep } from '../train/step';
import { fillBenchBatch, type BenchImages } from './data';
import type { PeerJob, PeerRow } from './protocol';

/** ConvNetJS's demo trainer settings. */
const DEMO = { batchSize: 4, l2Decay: 1e-4, rho: 0.95, epsilon: 1e-6, maxShift: 2 } as const;

function demoLayers(): convnetjs.LayerDef[] {
  return [
    { type: 'input', out_sx: IMAGE.width, out_sy: IMAGE.height, out_depth: IMAGE.channels },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 20, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 20, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'softmax', num_classes: NUM_CLASSES },
  ];
}

/** The same network as a tfjs-layers model (5×5 'same' = ConvNetJS's pad 2 at stride 1). */
export function demoNetwork(): tf.Sequential {
  const conv = (filters: number, first: boolean) =>
    tf.layers.conv2d({
      ...(first ? { inputShape: [IMAGE.height, IMAGE.width, IMAGE.channels] } : {}),
      filters,
      kernelSize: 5,
      padding: 'same',
      activation: 'relu',
    });
  const pool = () => tf.layers.maxPooling2d({ poolSize: 2 });
  return tf.sequential({
    layers: [
      conv(16, true),
      pool(),
      conv(20, false),
      pool(),
      conv(20, false),
      pool(),
      tf.layers.flatten(),
      tf.layers.dense({ units: NUM_CLASSES, activation: 'softmax' }),
    ],
  });
}

function peerRow(
  trainer: PeerRow['trainer'],
  backend: string,
  threads: number | null,
  batchSize: number,
  images: number,
  ms: number,
  lastLoss: number,
): PeerRow {
  return { trainer, backend, threads, batchSize, images, ms, imagesPerSecond: (images * 1000) / ms, lastLoss };
}

function runConvnetjs(job: PeerJob, images: BenchImages): PeerRow {
  const net = new convnetjs.Net();
  net.makeLayers(demoLayers());
  const trainer = new convnetjs.SGDTrainer(net, { method: 'adadelta', batch_size: DEMO.batchSize, l2_decay: DEMO.l2Decay });
  const pixels = IMAGE.height * IMAGE.width * IMAGE.channels;
  // As the demo: one Vol per image, values p/255 − 0.5, then its random shift and flip.
  const trainOne = (n: number) => {
    const image = n % images.count;
    const v = new convnetjs.Vol(IMAGE.width, IMAGE.height, IMAGE.channels, 0);
    for (let i = 0; i < pixels; i++) v.w[i] = (images.pixels[image * PIXELS_PER_IMAGE + i] as number) / 255 - 0.5;
    const shift = () => Math.floor(Math.random() * (2 * DEMO.maxShift + 1)) - DEMO.maxShift;
    const x = convnetjs.augment(v, IMAGE.width, shift(), shift(), Math.random() < 0.5);
    return trainer.train(x, images.labels[image] as number).loss;
  };
  for (let n = 0; n < 2 * DEMO.batchSize; n++) trainOne(n);
  const start = performance.now();
  let loss = Number.NaN;
  for (let n = 0; n < job.peerImages; n++) loss = trainOne(2 * DEMO.batchSize + n);
  // ConvNetJS is plain JavaScript on the worker's one thread.
  return peerRow('convnetjs', 'JavaScript', 1, DEMO.batchSize, job.peerImages, performance.now() - start, loss);
}

async function runOursOnDemo(
  job: PeerJob,
  images: BenchImages,
  batchSize: number,
  backendName: string,
  threads: number | null,
): Promise<PeerRow> {
  const model = demoNetwork();
  // ConvNetJS's Adadelta has no learning rate (it is 1); tfjs's takes one.
  const optimizer = tf.train.adadelta(1, DEMO.rho, DEMO.epsilon);
  const step = createTrainStep({
    model,
    optimizer,
    batchSize,
    color: 'rgb',
    stats: images.stats,
    augment: true,
    seed: 1,
    maxShift: DEMO.maxShift,
    weightDecay: DEMO.l2Decay,
  });
  const read = async (outs: tf.Tensor1D[]) => {
    const stacked = tf.stack(outs);
    tf.dispose(outs);
    const values = await stacked.data().finally(() => stacked.dispose());
    return values[values.length - 2] as number;
  };
  const run = (i: number) => {
    fillBenchBatch(images, i, batchSize, step.x, step.y);
    return step.run(i);
  };
  try {
    for (let i = 0; i < 2; i++) await read([run(i)]);
    const pending: tf.Tensor1D[] = [];
    let loss = Number.NaN;
    const start = performance.now();
    let lastRead = start;
    for (let i = 0; i < job.steps; i++) {
      pending.push(run(2 + i));
      if (pending.length >= READ_EVERY || performance.now() - lastRead >= READ_AT_LEAST_EVERY_MS || i === job.steps - 1) {
        loss = await read(pending.splice(0));
        lastRead = performance.now();
      }
    }
    return peerRow('ours', backendName, threads, batchSize, job.steps * batchSize, performance.now() - start, loss);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

export async function runPeerJob(
  job: PeerJob,
  images: BenchImages,
  threads: number | null,
  log: (text: string) => void,
): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  const peer = runConvnetjs(job, images);
  log(`convnetjs: ${peer.imagesPerSecond.toFixed(1)} images/s`);
  rows.push(peer);
  for (const batchSize of job.batchSizes) {
    const row = await runOursOnDemo(job, images, batchSize, job.backend, threads);
    log(
      `ours (${job.backend}${threads === null ? '' : `, ${threads} thread(s)`}, batch ${batchSize}): ${row.imagesPerSecond.toFixed(1)} images/s`,
    );
    rows.push(row);
  }
  return rows;
}
