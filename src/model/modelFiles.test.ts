import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors';
import { buildModel } from './model';
import {
  MAX_MODEL_JSON_BYTES,
  MAX_WEIGHTS_BYTES,
  METADATA_KEY,
  checkModelFileSizes,
  checkModelJson,
  fileStem,
  toModelFiles,
  type ModelFiles,
  type ModelMetadata,
} from './modelFiles';
import { captureArtifacts, modelFromArtifacts } from './modelIO';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const metadata = (color: 'rgb' | 'gray'): ModelMetadata => ({
  version: 1,
  preset: 'tiny',
  color,
  classes: CLASSES,
  mean: [125.3, 123, 113.9],
  std: [63, 62.1, 66.7],
  testAccuracy: 0.5,
  epochs: 2,
});

async function filesOf(model: tf.LayersModel, color: 'rgb' | 'gray' = 'rgb'): Promise<ModelFiles> {
  return toModelFiles(await captureArtifacts(model), metadata(color), fileStem(metadata(color), Date.UTC(2024, 4, 1)));
}

/** Parsed JSON, untyped on purpose: the tests below damage arbitrary fields. */
type ParsedJson = ReturnType<typeof JSON.parse>;

/** model.json with `edit` applied to its parsed form. */
function edited(files: ModelFiles, edit: (json: ParsedJson) => void): string {
  const json: ParsedJson = JSON.parse(files.json);
  edit(json);
  return JSON.stringify(json);
}

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as ModelFileError).code).toBe('model-invalid');
    return (error as Error).message;
  }
  throw new Error('expected a ModelFileError');
};

describe('toModelFiles / checkModelJson', () => {
  it('writes the TensorFlow.js Layers format, and reads it back as valid (rgb and gray)', async () => {
    for (const color of ['rgb', 'gray'] as const) {
      const model = buildModel({ preset: 'tiny', color, seed: 1 });
      const files = await filesOf(model, color);
      expect(files.jsonName).toBe(`cifar10-tiny-${color}-2024-05-01.json`);
      expect(files.weightsName).toBe(`cifar10-tiny-${color}-2024-05-01.weights.bin`);
      const json = JSON.parse(files.json);
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest).toEqual([{ paths: [`./${files.weightsName}`], weights: expect.any(Array) }]);
      expect(json.userDefinedMetadata[METADATA_KEY]).toEqual(metadata(color));
      const checked = checkModelJson(files.json, files.weights.byteLength);
      expect(checked.channels).toBe(color === 'gray' ? 1 : 3);
      expect(checked.metadata).toEqual(metadata(color));
      expect(files.weights.byteLength).toBe(model.countParams() * 4);
      model.dispose();
    }
  });

  it("keeps the name of the user's data set a model was trained on", async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const files = await filesOf(model);
    const json = edited(files, (j) => (j.userDefinedMetadata[METADATA_KEY].dataSet = 'feuilles d’automne'));
    expect(checkModelJson(json, files.weights.byteLength).metadata?.dataSet).toBe('feuilles d’automne');
    model.dispose();
  });

  it('accepts every preset of this app, including `fast` (logit scaling after the Dense layer)', async () => {
    for (const preset of ['seed', 'fast'] as const) {
      const model = buildModel({ preset, color: 'rgb', seed: 1 });
      const files = await filesOf(model);
      expect(checkModelJson(files.json, files.weights.byteLength).channels).toBe(3);
      model.dispose();
    }
  });

  it('accepts a functional (tf.model) Keras topology', async () => {
    const input = tf.input({ shape: [32, 32, 3] });
    const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
    const output = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    const files = await filesOf(model);
    expect(checkModelJson(files.json, files.weights.byteLength).channels).toBe(3);
    model.dispose();
  });

  it('checks the sizes before anything is read', () => {
    expect(() => checkModelFileSizes(5000, 40_000)).not.toThrow();
    expect(refusal(() => checkModelFileSizes(0, 10))).toMatch(/empty/);
    expect(refusal(() => checkModelFileSizes(MAX_MODEL_JSON_BYTES + 1, 10))).toMatch(/model\.json file is 1\.0 MB/);
    expect(refusal(() => checkModelFileSizes(100, MAX_WEIGHTS_BYTES + 1))).toMatch(/weights file is 64\.0 MB/);
  });

  it('refuses bad model.json files with a message that says what is wrong', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 1 });
    const files = await filesOf(model);
    const size = files.weights.byteLength;
    const cases: [string, string, number, RegExp][] = [
      ['not JSON', '{"modelTopology": ', size, /not valid JSON/],
      ['an array', '[1, 2]', size, /JSON object/],
      ['a graph model', edited(files, (j) => (j.format = 'graph-model')), size, /not a TensorFlow\.js Layers model/],
      ['no topology', edited(files, (j) => delete j.modelTopology), size, /no "modelTopology"/],
      [
        '64×64 input',
        edited(files, (j) => (j.modelTopology.config.layers[0].config.batch_input_shape = [null, 64, 64, 3])),
        size,
        /input is 64×64×3/,
      ],
      [
        '2-channel input',
        edited(files, (j) => (j.modelTopology.config.layers[0].config.batch_input_shape = [null, 32, 32, 2])),
        size,
        /input is 32×32×2/,
      ],
      [
        '5 outputs, 10 names',
        edited(files, (j) => (j.modelTopology.config.layers.at(-1).config.units = 5)),
        size,
        /names 10 classes but its output has 5/,
      ],
      [
        '1 output',
        edited(files, (j) => (j.modelTopology.config.layers.at(-1).config.units = 1)),
        size,
        /a Dense with 1 units; it must be a Dense layer with one output per class \(2 to 100\)/,
      ],
      ['101 outputs', edited(files, (j) => (j.modelTopology.config.layers.at(-1).config.units = 101)), size, /a Dense with 101 units/],
      [
        '5 outputs, no names',
        edited(files, (j) => {
          j.modelTopology.config.layers.at(-1).config.units = 5;
          delete j.userDefinedMetadata;
        }),
        size,
        /5 outputs and no class names of this app: a model from elsewhere must be a CIFAR-10 classifier/,
      ],
      ['1 class name', edited(files, (j) => (j.userDefinedMetadata[METADATA_KEY].classes = ['oak'])), size, /metadata is malformed/],
      ['a Lambda layer', edited(files, (j) => (j.modelTopology.config.layers[1].class_name = 'Lambda')), size, /"Lambda"/],
      ['a nested model', edited(files, (j) => (j.modelTopology.config.layers[1].class_name = 'Sequential')), size, /"Sequential"/],
      ['weights 4 bytes short', files.json, size - 4, /has [\d,]+ bytes but model\.json describes/],
      ['weights 1 byte long', files.json, size + 1, /do not belong together/],
      ['two weight files', edited(files, (j) => j.weightsManifest[0].paths.push('./more.bin')), size, /split into 2 files/],
      ['no manifest', edited(files, (j) => delete j.weightsManifest), size, /no "weightsManifest"/],
      ['a string weight', edited(files, (j) => (j.weightsManifest[0].weights[0].dtype = 'string')), size, /unsupported type "string"/],
      ['a negative shape', edited(files, (j) => (j.weightsManifest[0].weights[0].shape = [-1, 3])), size, /invalid shape/],
      ['bad metadata', edited(files, (j) => (j.userDefinedMetadata[METADATA_KEY].std = [0, 1, 1])), size, /metadata is malformed/],
      ['a data set name not text', edited(files, (j) => (j.userDefinedMetadata[METADATA_KEY].dataSet = 7)), size, /metadata is malformed/],
      [
        'metadata colour mismatch',
        edited(files, (j) => (j.userDefinedMetadata[METADATA_KEY].color = 'gray')),
        size,
        /says "gray" but its input has 3/,
      ],
    ];
    for (const [name, json, bytes, message] of cases)
      expect(
        refusal(() => checkModelJson(json, bytes)),
        name,
      ).toMatch(message);
    model.dispose();
  });

  it("accepts a model of a data set of the user's own classes, its outputs matching its class names", async () => {
    const model = buildModel({ preset: 'quick', color: 'rgb', seed: 1, classes: 3 });
    const own = { ...metadata('rgb'), preset: 'quick', classes: ['oak', 'maple', 'birch'] };
    const files = toModelFiles(await captureArtifacts(model), own, fileStem(own, Date.UTC(2024, 4, 1)));
    expect(checkModelJson(files.json, files.weights.byteLength).metadata?.classes).toEqual(['oak', 'maple', 'birch']);
    model.dispose();
  });

  it('accepts a model without our metadata (from elsewhere) and reports none', async () => {
    const model = buildModel({ preset: 'tiny', color: 'gray', seed: 1 });
    const files = await filesOf(model, 'gray');
    const checked = checkModelJson(
      edited(files, (j) => delete j.userDefinedMetadata),
      files.weights.byteLength,
    );
    expect(checked.metadata).toBeNull();
    expect(checked.channels).toBe(1);
    model.dispose();
  });
});

describe('modelFromArtifacts', () => {
  it('rebuilds a model that predicts exactly like the original', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
    const files = await filesOf(model);
    const checked = checkModelJson(files.json, files.weights.byteLength);
    const copy = await modelFromArtifacts({
      modelTopology: checked.modelTopology,
      weightSpecs: checked.weightSpecs,
      weightData: files.weights,
    });
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 5);
    const [a, b] = [model.predict(x) as tf.Tensor, copy.predict(x) as tf.Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    copy.dispose();
  });

  it('refuses weights that do not fit the topology and leaves no tensors behind', async () => {
    const model = buildModel({ preset: 'tiny', color: 'rgb', seed: 3 });
    const artifacts = await captureArtifacts(model);
    model.dispose();
    // Same byte count, but two weights' names swapped: the model cannot take them.
    const specs = artifacts.weightSpecs.map((s) => ({ ...s }));
    const [first, second] = [specs[0]?.name, specs[1]?.name] as [string, string];
    (specs[0] as { name: string }).name = second;
    (specs[1] as { name: string }).name = first;
    const before = tf.memory().numTensors;
    await expect(modelFromArtifacts({ ...artifacts, weightSpecs: specs })).rejects.toBeInstanceOf(ModelFileError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
