import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '../errors';
import { validateModelConfig, type ModelConfig } from './config';
import { WHITEN_LAYER, buildModel, modelClasses, setModelWeights, setWhitening } from './model';
import { summarizeModel } from './summary';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Builds, runs `check`, and frees the model's weights so tests do not leak into each other. */
function withModel(config: ModelConfig, check: (model: tf.LayersModel) => void): void {
  const model = buildModel(config);
  try {
    check(model);
  } finally {
    model.dispose();
  }
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('seed preset', () => {
  /*
   * The same network in Keras (model.summary()):
   *   conv k·k·cin·cout + cout          BN 4·c (γ, β trainable; moving mean/var not)
   *   conv1a 3·3·3·32+32    =    896    bn 128
   *   conv1b 3·3·32·32+32   =  9 248    bn 128
   *   conv2a 3·3·32·64+64   = 18 496    bn 256
   *   conv2b 3·3·64·64+64   = 36 928    bn 256
   *   conv3a 3·3·64·128+128 = 73 856    bn 512
   *   conv3b 3·3·128·128+128=147 584    bn 512
   *   dense  (4·4·128)·10+10 = 20 490
   *   total 287 008 + 1 792 + 20 490 = 309 290; non-trainable 1 792 / 2 = 896; trainable 308 394.
   * Gray: conv1a is 3·3·1·32+32 = 320, 576 fewer: 308 714 total, 307 818 trainable.
   */
  it('has the Keras parameter counts (rgb)', () => {
    withModel({ preset: 'seed', color: 'rgb', seed: 1 }, (model) => {
      const s = summarizeModel(model);
      expect(s.totalParams).toBe(309_290);
      expect(s.trainableParams).toBe(308_394);
      expect(s.nonTrainableParams).toBe(896);
      expect(model.countParams()).toBe(309_290);
    });
  });

  it('has the Keras parameter counts (gray)', () => {
    withModel({ preset: 'seed', color: 'gray', seed: 1 }, (model) => {
      const s = summarizeModel(model);
      expect(s.totalParams).toBe(308_714);
      expect(s.trainableParams).toBe(307_818);
      expect(s.nonTrainableParams).toBe(896);
    });
  });

  it('has the blog layout: conv-BN-ELU ×2, pool, dropout per block', () => {
    withModel({ preset: 'seed', color: 'rgb', seed: 1 }, (model) => {
      const types = model.layers.map((l) => l.getClassName());
      const block = ['Conv2D', 'BatchNormalization', 'ELU', 'Conv2D', 'BatchNormalization', 'ELU', 'MaxPooling2D', 'Dropout'];
      expect(types).toEqual([...block, ...block, ...block, 'Flatten', 'Dense']);
      const rates = model.layers.filter((l) => l.getClassName() === 'Dropout').map((l) => l.getConfig().rate);
      expect(rates).toEqual([0.2, 0.3, 0.4]);
      const shapes = summarizeModel(model)
        .rows.filter((r) => r.type === 'MaxPooling2D')
        .map((r) => r.outputShape);
      expect(shapes).toEqual(['16×16×32', '8×8×64', '4×4×128']);
    });
  });
});

describe('tiny preset', () => {
  /*
   * conv1 3·3·3·8+8 = 224, bn1 32, conv2 3·3·8·16+16 = 1 168, bn2 64,
   * dense (8·8·16)·10+10 = 10 250 → 11 738 total, 48 non-trainable.
   * Gray: conv1 3·3·1·8+8 = 80 → 11 594.
   */
  it('has the expected parameter counts', () => {
    withModel({ preset: 'tiny', color: 'rgb', seed: 1 }, (model) => {
      expect(summarizeModel(model)).toMatchObject({ totalParams: 11_738, trainableParams: 11_690, nonTrainableParams: 48 });
    });
    withModel({ preset: 'tiny', color: 'gray', seed: 1 }, (model) => {
      expect(summarizeModel(model)).toMatchObject({ totalParams: 11_594, trainableParams: 11_546, nonTrainableParams: 48 });
    });
  });
});

describe('fast preset', () => {
  /*
   * whiten 2·2·3·24 = 288 (frozen, no bias)
   * convs without bias: 3·3·24·64 = 13 824, 3·3·64·64 = 36 864, 3·3·64·256 = 147 456,
   *   3·3·256·256 = 589 824 (×3)                                         → 1 967 616
   * BN per c channels: β trainable c; γ frozen at 1, moving mean/var → 3c non-trainable;
   *   c = 64, 64, 256, 256, 256, 256 (Σ 1 152)                           → 1 152 + 3 456
   * dense 256·10 (no bias)                                                → 2 560
   * trainable 1 967 616 + 1 152 + 2 560 = 1 971 328; non-trainable 288 + 3 456 = 3 744.
   */
  it('has the airbench-style layout and parameter counts', () => {
    withModel({ preset: 'fast', color: 'rgb', seed: 1 }, (model) => {
      const s = summarizeModel(model);
      expect(s).toMatchObject({ totalParams: 1_975_072, trainableParams: 1_971_328, nonTrainableParams: 3_744 });
      const block = ['Conv2D', 'MaxPooling2D', 'BatchNormalization', 'ReLU', 'Conv2D', 'BatchNormalization', 'ReLU'];
      expect(model.layers.map((l) => l.getClassName())).toEqual([
        'Conv2D',
        'ReLU',
        ...block,
        ...block,
        ...block,
        'GlobalMaxPooling2D',
        'Dense',
        'Rescaling',
        'Activation',
      ]);
      expect(s.rows.filter((r) => r.type === 'MaxPooling2D').map((r) => r.outputShape)).toEqual(['15×15×64', '7×7×256', '3×3×256']);
      // Frozen: the whitening filters and every BatchNorm scale.
      const trainable = model.trainableWeights.map((w) => w.originalName);
      expect(trainable.some((n) => n.startsWith('whiten') || n.endsWith('/gamma'))).toBe(false);
      expect(trainable.filter((n) => n.endsWith('/beta'))).toHaveLength(6);
    });
  });

  it.each(['fast', 'quick'] as const)(
    '%s keeps its BatchNorm scales frozen through predict, countParams and setWeights (each builds a Sequential)',
    (preset) => {
      withModel({ preset, color: 'rgb', seed: 1 }, (model) => {
        const frozenScales = () => model.weights.filter((w) => w.originalName.endsWith('/gamma') && !w.trainable).length;
        const trainable = model.trainableWeights.length;
        expect(frozenScales()).toBe(6);
        tf.tidy(() => model.predict(tf.zeros([1, 32, 32, 3])));
        model.countParams();
        model.setWeights(model.getWeights());
        expect(frozenScales()).toBe(6);
        expect(model.trainableWeights.length).toBe(trainable);
      });
    },
  );

  it('takes its whitening filters from setWhitening and refuses filters of the wrong size', () => {
    withModel({ preset: 'fast', color: 'gray', seed: 1 }, (model) => {
      // Gray: 2·2·1 patch values → 8 filters.
      const filters = Float32Array.from({ length: 2 * 2 * 1 * 8 }, (_, i) => i);
      setWhitening(model, filters);
      expect(Array.from(model.getLayer(WHITEN_LAYER).getWeights()[0]?.dataSync() ?? [])).toEqual(Array.from(filters));
      expect(() => setWhitening(model, new Float32Array(7))).toThrow(RangeError);
    });
  });
});

describe('quick preset', () => {
  /*
   * fast's layers at widths 32 / 64 / 128:
   * whiten 288 (frozen); convs 3·3·24·32 = 6 912, 3·3·32·32 = 9 216, 3·3·32·64 = 18 432,
   *   3·3·64·64 = 36 864, 3·3·64·128 = 73 728, 3·3·128·128 = 147 456          → 292 608
   * BN β trainable Σc = 32+32+64+64+128+128 = 448; γ, moving mean/var 3·448 = 1 344
   * dense 128·10 = 1 280
   * trainable 292 608 + 448 + 1 280 = 294 336; non-trainable 288 + 1 344 = 1 632.
   */
  it("has fast's layout at its own widths", () => {
    withModel({ preset: 'quick', color: 'rgb', seed: 1 }, (model) => {
      const s = summarizeModel(model);
      expect(s).toMatchObject({ totalParams: 295_968, trainableParams: 294_336, nonTrainableParams: 1_632 });
      expect(s.rows.filter((r) => r.type === 'MaxPooling2D').map((r) => r.outputShape)).toEqual(['15×15×32', '7×7×64', '3×3×128']);
      const classes = model.layers.map((l) => l.getClassName());
      withModel({ preset: 'fast', color: 'rgb', seed: 1 }, (fast) => expect(classes).toEqual(fast.layers.map((l) => l.getClassName())));
    });
  });
});

describe('buildModel', () => {
  it.each([
    ['tiny', 'rgb', 3],
    ['tiny', 'gray', 1],
    ['seed', 'rgb', 3],
    ['seed', 'gray', 1],
    ['quick', 'rgb', 3],
    ['quick', 'gray', 1],
    ['fast', 'rgb', 3],
    ['fast', 'gray', 1],
  ] as const)('%s/%s takes 32×32×%i and outputs 10 probabilities', (preset, color, channels) => {
    withModel({ preset, color, seed: 1 }, (model) => {
      expect(model.inputs[0]?.shape).toEqual([null, 32, 32, channels]);
      expect(model.outputs[0]?.shape).toEqual([null, 10]);
      const sums = tf.tidy(() => (model.predict(tf.randomNormal([2, 32, 32, channels])) as tf.Tensor).sum(1).arraySync() as number[]);
      sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
    });
  });

  it.each(['tiny', 'seed', 'quick', 'fast'] as const)(
    '%s is built with one output per class of a data set of 2 to 100 classes',
    (preset) => {
      for (const classes of [2, 100]) {
        withModel({ preset, color: 'rgb', seed: 1, classes }, (model) => {
          expect(model.outputs[0]?.shape).toEqual([null, classes]);
          expect(modelClasses(model)).toBe(classes);
        });
      }
      // The same seed starts the layers before the last one from the same weights whatever the class count.
      withModel({ preset, color: 'rgb', seed: 1 }, (ten) => {
        withModel({ preset, color: 'rgb', seed: 1, classes: 3 }, (three) => {
          expect(modelClasses(ten)).toBe(10);
          expect(Array.from(three.weights[0]?.read().dataSync() ?? [])).toEqual(Array.from(ten.weights[0]?.read().dataSync() ?? []));
        });
      });
    },
  );

  it('gives identical weights for the same config and different ones for another seed', () => {
    const weights = (seed: number) => {
      const model = buildModel({ preset: 'tiny', color: 'rgb', seed });
      const values = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return values;
    };
    const a = weights(1);
    expect(weights(1)).toEqual(a);
    const b = weights(2);
    expect(b[0]).not.toEqual(a[0]); // conv1 kernel
    expect(b[4]).not.toEqual(a[4]); // conv2 kernel
  });

  it('gives every layer its own initial weights', () => {
    withModel({ preset: 'seed', color: 'rgb', seed: 1 }, (model) => {
      // Glorot draws are limit·(2u − 1): with one shared seed every kernel would
      // start with the same u's, i.e. the same sign pattern, whatever its limit.
      const signs = model.weights
        .filter((w) => w.name.includes('kernel'))
        .map((w) => Array.from(w.read().dataSync().slice(0, 32), (v) => (v > 0 ? '+' : '-')).join(''));
      expect(signs).toHaveLength(7);
      expect(new Set(signs).size).toBe(signs.length);
    });
  });

  it('refuses unknown keys and bad values, naming each field', () => {
    const bad = { preset: 'huge', color: 'rgb', seed: -1, depth: 3 } as unknown as ModelConfig;
    expect(() => buildModel(bad)).toThrow(SettingsError);
    const error = catchError(() => validateModelConfig(bad));
    expect(error).toBeInstanceOf(SettingsError);
    expect(Object.keys((error as SettingsError).fields).sort()).toEqual(['depth', 'preset', 'seed']);
    expect(() => validateModelConfig({ preset: 'tiny', color: 'sepia', seed: 1 })).toThrow(SettingsError);
    expect(() => validateModelConfig({ preset: 'tiny', color: 'rgb', seed: 1.5 })).toThrow(SettingsError);
    expect(validateModelConfig({ preset: 'tiny', color: 'gray', seed: 0 })).toEqual({ preset: 'tiny', color: 'gray', seed: 0 });
    expect(validateModelConfig({ preset: 'tiny', color: 'gray', seed: 0, classes: 7 })).toEqual({
      preset: 'tiny',
      color: 'gray',
      seed: 0,
      classes: 7,
    });
    for (const classes of [1, 101, 2.5, '3']) {
      const refused = catchError(() => validateModelConfig({ preset: 'tiny', color: 'rgb', seed: 1, classes }));
      expect((refused as SettingsError).fields).toEqual({ classes: 'Classes must be a whole number from 2 to 100' });
    }
  });
});

describe('setModelWeights', () => {
  it.each(['tiny', 'seed', 'quick', 'fast'] as const)('copies every weight of a %s model into another, frozen ones included', (preset) => {
    const from = buildModel({ preset, color: 'rgb', seed: 1 });
    const to = buildModel({ preset, color: 'rgb', seed: 2 });
    try {
      setModelWeights(to, from.getWeights());
      // Compared as bytes: a deep equality of fast's 2M floats, value by value, took seconds.
      const bytes = (model: typeof from) =>
        model.getWeights().map((t) => {
          const values = t.dataSync();
          return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
        });
      expect(bytes(to)).toEqual(bytes(from));
      expect(() => setModelWeights(to, from.getWeights().slice(1))).toThrow(RangeError);
    } finally {
      from.dispose();
      to.dispose();
    }
  });
});
