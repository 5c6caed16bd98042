import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIXELS_PER_IMAGE } from '../data/format';
import {
  CONTROL_INTS,
  METRIC_VALUES,
  ReplicaError,
  averageReplicaValues,
  barrier,
  loadBatch,
  meanOfSlots,
  meanShare,
  raiseFailure,
  shareOf,
  sharedBytes,
  sharedViews,
  stepShare,
  takeShare,
  weightsChecksum,
  type ReplicaLink,
  type ReplicaValues,
} from './replicas';
import { createTrainStep } from './step';

function link(index: number, count: number, params: number, batchSize: number, shared?: SharedArrayBuffer): ReplicaLink {
  return { index, count, params, batchSize, shared: shared ?? new SharedArrayBuffer(sharedBytes(count, params, batchSize)) };
}

describe('the shared buffer', () => {
  it('holds the control words, one slot per replica, then the whole batch', () => {
    const l = link(0, 3, 10, 6);
    const views = sharedViews(l);
    expect(views.control.length).toBe(CONTROL_INTS);
    expect(views.slots.length).toBe(3 * (10 + METRIC_VALUES));
    expect(views.x.length).toBe(6 * PIXELS_PER_IMAGE);
    expect(views.y.length).toBe(6);
    expect(views.y.byteOffset + views.y.byteLength).toBe(l.shared.byteLength);
    expect(() => sharedViews({ ...l, params: 11 })).toThrow(RangeError);
  });

  it('splits a batch evenly or not at all', () => {
    expect(shareOf(64, 2)).toBe(32);
    expect(shareOf(64, 1)).toBe(64);
    expect(() => shareOf(65, 2)).toThrow(/does not split evenly across 2 workers/);
    expect(() => shareOf(64, 0)).toThrow(RangeError);
  });

  it('gives each replica its own rows of the batch', () => {
    const shared = new SharedArrayBuffer(sharedBytes(2, 1, 4));
    const views = sharedViews(link(0, 2, 1, 4, shared));
    for (let row = 0; row < 4; row++) {
      views.x.fill(row + 1, row * PIXELS_PER_IMAGE, (row + 1) * PIXELS_PER_IMAGE);
      views.y[row] = 10 + row;
    }
    const x = new Float32Array(2 * PIXELS_PER_IMAGE);
    const y = new Int32Array(2);
    takeShare(link(1, 2, 1, 4, shared), x, y);
    expect([x[0], x[PIXELS_PER_IMAGE - 1], x[PIXELS_PER_IMAGE], x[2 * PIXELS_PER_IMAGE - 1]]).toEqual([3, 3, 4, 4]);
    expect([...y]).toEqual([12, 13]);
  });
});

describe('loadBatch and stepShare', () => {
  const fillRows = (x: Float32Array, y: Int32Array) => {
    for (let row = 0; row < y.length; row++) {
      x.fill(row + 1, row * PIXELS_PER_IMAGE, (row + 1) * PIXELS_PER_IMAGE);
      y[row] = 10 + row;
    }
  };

  it('fills the shared buffer with the whole batch and the step with this replica’s rows', () => {
    const shared = new SharedArrayBuffer(sharedBytes(2, 1, 4));
    const second = link(1, 2, 1, 4, shared);
    const step = { x: new Float32Array(2 * PIXELS_PER_IMAGE), y: new Int32Array(2) };
    loadBatch(second, step, fillRows);
    expect([...sharedViews(second).y]).toEqual([10, 11, 12, 13]);
    expect([...step.y]).toEqual([12, 13]);
    expect([step.x[0], step.x[2 * PIXELS_PER_IMAGE - 1]]).toEqual([3, 4]);
    expect(stepShare(second)).toEqual({ batchSize: 2, replica: second });
  });

  it('fills the step itself when it trains alone', () => {
    const step = { x: new Float32Array(3 * PIXELS_PER_IMAGE), y: new Int32Array(3) };
    loadBatch(null, step, fillRows);
    expect([...step.y]).toEqual([10, 11, 12]);
    expect(stepShare(null)).toEqual({});
  });
});

describe('meanOfSlots', () => {
  it('averages slot by slot, element by element, over the range it is given', () => {
    const slots = Float32Array.from([1, 2, 3, 3, 4, 5]);
    const mean = new Float32Array(3).fill(9);
    meanOfSlots(slots, 2, 3, mean);
    expect([...mean]).toEqual([2, 3, 4]);
    meanOfSlots(slots, 1, 3, mean);
    expect([...mean]).toEqual([1, 2, 3]);
    mean.fill(9);
    meanOfSlots(slots, 2, 3, mean, 1, 3);
    expect([...mean]).toEqual([9, 3, 4]);
  });

  it('splits the values among the replicas, every one covered once', () => {
    for (const [length, count] of [
      [10, 2],
      [11, 2],
      [7, 3],
      [2, 4],
    ] as const) {
      const covered = new Array<number>(length).fill(0);
      for (let r = 0; r < count; r++) {
        const [from, to] = meanShare(length, r, count);
        for (let i = from; i < to; i++) covered[i] = (covered[i] as number) + 1;
      }
      expect(covered).toEqual(new Array<number>(length).fill(1));
    }
  });
});

describe('averageReplicaValues', () => {
  const weight = (name: string, values: number[], shape = [values.length]): ReplicaValues => ({
    name,
    shape,
    values: Float32Array.from(values),
  });

  it('averages each weight element by element over the replicas', () => {
    const mean = averageReplicaValues([
      [weight('bn1/moving_mean', [1, 2]), weight('bn1/moving_variance', [4, 8])],
      [weight('bn1/moving_mean', [3, -2]), weight('bn1/moving_variance', [2, 2])],
    ]);
    expect(mean.map((m) => [...m])).toEqual([
      [2, 0],
      [3, 5],
    ]);
    expect(mean[0]).toBeInstanceOf(Float32Array);
  });

  it('sums in float64 in replica order and rounds to float32 once', () => {
    // 1 + 2⁻²⁴ + 2⁻²⁴: in float32, step by step, each 2⁻²⁴ is lost to rounding (ties to even); in float64 the two
    // make 2⁻²³, one float32 ulp of 1, which survives the division by 3 as the float32 nearest (1 + 2⁻²³)/3.
    const tiny = 2 ** -24;
    const replicas = [[weight('w', [1])], [weight('w', [tiny])], [weight('w', [tiny])]];
    const [mean] = averageReplicaValues(replicas);
    expect(mean?.[0]).toBe(Math.fround((1 + 2 * tiny) / 3));
    expect(mean?.[0]).not.toBe(Math.fround(Math.fround(Math.fround(1 + tiny) + tiny) / 3));
    // The same inputs give the same bits, whoever asks: every replica is set to one array's values.
    const again = averageReplicaValues(replicas);
    expect(new Uint32Array((again[0] as Float32Array).buffer)).toEqual(new Uint32Array((mean as Float32Array).buffer));
  });

  it('refuses replicas whose weights do not pair up', () => {
    const a = [weight('bn1/moving_mean', [1, 2])];
    expect(() => averageReplicaValues([a, [weight('bn2/moving_mean', [1, 2])]])).toThrow(ReplicaError);
    expect(() => averageReplicaValues([a, [weight('bn1/moving_mean', [1, 2, 3])]])).toThrow(ReplicaError);
    expect(() => averageReplicaValues([a, []])).toThrow(/has 0 weights/);
    expect(() => averageReplicaValues([a, [{ name: 'bn1/moving_mean', shape: [2], values: Int32Array.from([1, 2]) }]])).toThrow(/float32/);
    expect(() => averageReplicaValues([])).toThrow(RangeError);
  });
});

describe('weightsChecksum', () => {
  const variables = (...arrays: number[][]) => arrays.map((a) => ({ read: () => ({ dataSync: () => Float32Array.from(a) }) }));

  it('is equal for equal bits and differs for any change a sum would miss', () => {
    const sum = weightsChecksum(variables([1, 2], [3]));
    expect(weightsChecksum(variables([1, 2], [3]))).toBe(sum);
    expect(Number.isSafeInteger(sum)).toBe(true);
    // What a float64 sum would not tell apart: swapped values, zero's sign; and one ulp.
    expect(weightsChecksum(variables([2, 1], [3]))).not.toBe(sum);
    expect(weightsChecksum(variables([0]))).not.toBe(weightsChecksum(variables([-0])));
    expect(weightsChecksum(variables([1 + 2 ** -23, 2], [3]))).not.toBe(sum);
  });
});

describe('barrier', () => {
  it('lets the last of the replicas through at once', () => {
    const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_INTS));
    barrier(control, 1);
    expect(control[0]).toBe(1);
    expect(control[1]).toBe(0);
  });

  it('stops waiting when another replica raised the failure flag', () => {
    const shared = new SharedArrayBuffer(4 * CONTROL_INTS);
    raiseFailure(shared);
    expect(() => barrier(new Int32Array(shared), 2)).toThrow(ReplicaError);
  });

  it('gives up after the limit, on the clock it is given', () => {
    const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_INTS));
    let t = 0;
    // Each look at the clock is 0.4 s later: the third wait slice is past a 1 s limit (and 0.75 s of real waiting).
    expect(() => barrier(control, 2, () => (t += 400), 1_000)).toThrow(/did not answer for 1 s/);
  });

  it('does not count a suspension of its own thread (a laptop asleep) as the others’ silence', () => {
    const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_INTS));
    let looks = 0;
    // The first wait slice ends an hour later, as after a night asleep; by then the other replica has arrived.
    const now = () => {
      looks += 1;
      if (looks < 2) return 0;
      Atomics.add(control, 0, 1);
      return 3_600_000;
    };
    expect(() => barrier(control, 2, now, 60_000)).not.toThrow();
    expect(looks).toBe(2);
  });
});

/**
 * The other replica (index 1 of 2), played by a thread that knows nothing of
 * tfjs: it puts `values` into its slot, arrives at the step's first barrier,
 * averages the second half of the values into the mean, and arrives at the
 * second, as allReduceMean does.
 */
const OTHER_REPLICA = `
const { workerData } = require('node:worker_threads');
const { shared, slotsOffset, meanOffset, values, count, steps } = workerData;
const control = new Int32Array(shared, 0, 4);
const length = values.length;
const slots = new Float32Array(shared, slotsOffset, 2 * length);
const mean = new Float32Array(shared, meanOffset, length);
function arrive() {
  const generation = Atomics.load(control, 0);
  if (Atomics.add(control, 1, 1) === count - 1) {
    Atomics.store(control, 1, 0);
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
    return;
  }
  while (Atomics.load(control, 0) === generation) Atomics.wait(control, 0, generation, 1000);
}
for (let step = 0; step < steps; step++) {
  slots.set(values, length);
  arrive();
  for (let i = Math.ceil(length / 2); i < length; i++) mean[i] = (slots[i] + slots[length + i]) / 2;
  arrive();
}
`;

describe('a training step as one of two replicas', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => tf.disposeVariables());

  /** A small model without BatchNorm or Dropout: two halves' mean gradient is then exactly the whole batch's. */
  function model(): tf.Sequential {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [32, 32, 3],
          filters: 2,
          kernelSize: 3,
          strides: 4,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    return m;
  }

  /** An SGD step that keeps the gradients it was given, instead of (or before) applying them. */
  class Capturing extends tf.SGDOptimizer {
    grads: Float32Array[] = [];
    override applyGradients(g: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
      this.grads = (g as { name: string; tensor: tf.Tensor }[]).map((n) => n.tensor.dataSync() as Float32Array);
      super.applyGradients(g);
    }
  }

  const stats = { mean: [120, 120, 110] as [number, number, number], std: [60, 60, 65] as [number, number, number] };
  const base = { color: 'rgb' as const, stats, augment: false, seed: 1 };
  const pixels = Float32Array.from({ length: 8 * PIXELS_PER_IMAGE }, (_, i) => (i * 37) % 256);
  const labels = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);

  it('applies the mean of both halves’ gradients: the same update as one worker on the whole batch', async () => {
    const whole = model();
    const first = model();
    const second = model();
    first.setWeights(whole.getWeights());
    second.setWeights(whole.getWeights());

    // One worker, the whole batch of 8.
    const plain = createTrainStep({ model: whole, optimizer: tf.train.sgd(0.5), batchSize: 8, ...base });
    plain.x.set(pixels);
    plain.y.set(labels);
    const wholeMetrics = plain.run(0).dataSync();

    // The second half's gradients and metrics, as the other replica would send them.
    const capture = new Capturing(0);
    const other = createTrainStep({ model: second, optimizer: capture, batchSize: 4, ...base });
    other.x.set(pixels.subarray(4 * PIXELS_PER_IMAGE));
    other.y.set(labels.subarray(4));
    const otherMetrics = other.run(0).dataSync();
    const otherValues = Float32Array.from([...capture.grads.flatMap((g) => [...g]), ...otherMetrics]);

    // The first replica: rows 0–3 of the shared batch, meeting the other at the barriers.
    const params = first.trainableWeights.reduce((s, w) => s + w.read().size, 0);
    expect(otherValues.length).toBe(params + METRIC_VALUES);
    const mine = link(0, 2, params, 8);
    const views = sharedViews(mine);
    views.x.set(pixels);
    views.y.set(labels);
    const thread = new Worker(OTHER_REPLICA, {
      eval: true,
      workerData: {
        shared: mine.shared,
        slotsOffset: views.slots.byteOffset,
        meanOffset: views.mean.byteOffset,
        values: otherValues,
        count: 2,
        steps: 1,
      },
    });
    const step = createTrainStep({ model: first, optimizer: tf.train.sgd(0.5), batchSize: 4, ...base, replica: mine });
    takeShare(mine, step.x, step.y);
    const metrics = step.run(0).dataSync();
    await thread.terminate();

    const expected = whole.trainableWeights.map((w) => w.read().dataSync());
    const got = first.trainableWeights.map((w) => w.read().dataSync());
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i] as Float32Array;
      const g = got[i] as Float32Array;
      for (let j = 0; j < e.length; j++) expect(g[j]).toBeCloseTo(e[j] as number, 5);
    }
    // The weights moved: the check above compares a real update.
    expect(got.some((g, i) => g.some((v, j) => v !== (second.getWeights()[i]?.dataSync()[j] ?? v)))).toBe(true);
    // The batch's loss and accuracy are the mean of both halves: the whole batch's.
    expect(metrics[0]).toBeCloseTo(wholeMetrics[0] as number, 5);
    expect(metrics[1]).toBeCloseTo(wholeMetrics[1] as number, 5);
    for (const s of [plain, other, step]) s.dispose();
    for (const m of [whole, first, second]) m.dispose();
  });

  it('keeps no tensor of its own from one step to the next', async () => {
    const m = model();
    const params = m.trainableWeights.reduce((s, w) => s + w.read().size, 0);
    const mine = link(0, 2, params, 8);
    const views = sharedViews(mine);
    views.x.set(pixels);
    views.y.set(labels);
    const steps = 4;
    const other = new Float32Array(params + METRIC_VALUES).fill(0.01);
    const thread = new Worker(OTHER_REPLICA, {
      eval: true,
      workerData: {
        shared: mine.shared,
        slotsOffset: views.slots.byteOffset,
        meanOffset: views.mean.byteOffset,
        values: other,
        count: 2,
        steps,
      },
    });
    const optimizer = tf.train.adam(0.01);
    const step = createTrainStep({ model: m, optimizer, batchSize: 4, ...base, replica: mine });
    takeShare(mine, step.x, step.y);
    // The first step creates Adam's moments; every later one must leave the count as it found it.
    step.run(0).dispose();
    const after = tf.memory().numTensors;
    for (let i = 1; i < steps; i++) step.run(i).dispose();
    expect(tf.memory().numTensors).toBe(after);
    await thread.terminate();
    step.dispose();
    optimizer.dispose();
    m.dispose();
  });

  it('refuses a share that is not its part of the link’s batch', () => {
    const m = model();
    const params = m.trainableWeights.reduce((s, w) => s + w.read().size, 0);
    expect(() =>
      createTrainStep({ model: m, optimizer: tf.train.sgd(0.1), batchSize: 8, ...base, replica: link(0, 2, params, 8) }),
    ).toThrow(RangeError);
    m.dispose();
  });
});
