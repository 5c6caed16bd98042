/**
 * Models as files: the TensorFlow.js Layers format (`model.json` + one
 * weights `.bin`), which `tensorflowjs_converter --input_format tfjs_layers_model
 * --output_format keras` turns into a Keras model.
 *
 * Import checks everything it can from the two files' sizes and the JSON text
 * BEFORE a single tensor is allocated: size limits, JSON syntax, the Keras
 * topology (a known layer set, one 32×32×1 or 32×32×3 input, 10 outputs) and
 * that the weight manifest's byte count equals the .bin's size. Pure: no
 * TensorFlow.js at run time, unit-tested in Node.
 */
import type * as tf from '@tensorflow/tfjs';
import { ModelFileError } from '../errors';
import { IMAGE, MAX_CLASS_NAME_LENGTH, MAX_CLASSES, MIN_CLASSES, NUM_CLASSES } from '../data/format';
import { COLOR_MODES, type ColorMode } from './config';

/** Largest model.json read. Unit: bytes (1 MiB; ours is ~6 kB, the topology of a 200-layer net ~200 kB). */
export const MAX_MODEL_JSON_BYTES = 1024 * 1024;
/** Largest weights file read. Unit: bytes (64 MiB = 16 M float32 parameters; the seed preset has 309 k). */
export const MAX_WEIGHTS_BYTES = 64 * 1024 * 1024;
/** Most layers a model may have. */
export const MAX_LAYERS = 500;

/** Our own facts about a model, kept in model.json's `userDefinedMetadata` under this key. */
export const METADATA_KEY = 'cifar10InATab';

export interface ModelMetadata {
  version: 1;
  /** `tiny`, `seed`, …, or `imported` for a model from elsewhere. */
  preset: string;
  color: ColorMode;
  /** Output index → class name. */
  classes: string[];
  /** Training-set statistics the model's inputs were standardised with (0–255 scale, R, G, B). */
  mean: [number, number, number];
  std: [number, number, number];
  /** Fraction 0–1 on the test set; null when not measured. */
  testAccuracy: number | null;
  /** Epochs trained. */
  epochs: number;
  /** The data set it was trained on when not CIFAR-10: the name of the user's folder or zip. */
  dataSet?: string;
}

/** What tf.io hands a save handler / takes from `fromMemory`, with the weights as ONE buffer. */
export interface ModelArtifactsData {
  modelTopology: Record<string, unknown>;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export interface ModelFiles {
  jsonName: string;
  /** model.json text, UTF-8. */
  json: string;
  weightsName: string;
  weights: ArrayBuffer;
}

/** A file-name-safe stem, e.g. `cifar10-tiny-rgb-2024-05-01`. */
export function fileStem(metadata: Pick<ModelMetadata, 'preset' | 'color'>, savedAt: number): string {
  const day = new Date(savedAt).toISOString().slice(0, 10);
  return `cifar10-${metadata.preset}-${metadata.color}-${day}`.replace(/[^\w.-]+/g, '-');
}

/** The two files of the TensorFlow.js Layers format, as `tf.io.browserDownloads` would write them. */
export function toModelFiles(artifacts: ModelArtifactsData, metadata: ModelMetadata, stem: string): ModelFiles {
  const weightsName = `${stem}.weights.bin`;
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0 (CIFAR-10 in a tab)',
    convertedBy: null,
    // The converter looks the weights up relative to model.json, so both files must stay side by side.
    weightsManifest: [{ paths: [`./${weightsName}`], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { [METADATA_KEY]: metadata },
  };
  return { jsonName: `${stem}.json`, json: JSON.stringify(modelJson), weightsName, weights: artifacts.weightData };
}

/** The first check of an import, on the files' sizes alone (nothing read yet). */
export function checkModelFileSizes(jsonBytes: number, weightsBytes: number): void {
  if (jsonBytes === 0) throw new ModelFileError('The model.json file is empty.');
  if (jsonBytes > MAX_MODEL_JSON_BYTES) {
    throw new ModelFileError(
      `The model.json file is ${formatBytes(jsonBytes)}; a model description is at most ${formatBytes(MAX_MODEL_JSON_BYTES)}.`,
    );
  }
  if (weightsBytes > MAX_WEIGHTS_BYTES) {
    throw new ModelFileError(`The weights file is ${formatBytes(weightsBytes)}; the limit is ${formatBytes(MAX_WEIGHTS_BYTES)}.`);
  }
}

export interface CheckedModel {
  modelTopology: Record<string, unknown>;
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** Input channels: 1 (grayscale) or 3 (RGB). */
  channels: 1 | 3;
  /** Our metadata, when the file has it (a model from elsewhere has none). */
  metadata: ModelMetadata | null;
}

/**
 * Parses and checks model.json against the weights file's size. Throws a
 * ModelFileError whose message says what is wrong, in words a user can act on.
 */
export function checkModelJson(text: string, weightsBytes: number): CheckedModel {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(`The model.json file is not valid JSON (${(error as Error).message}).`);
  }
  if (!isRecord(parsed)) throw new ModelFileError('The model.json file does not hold a JSON object.');
  if (parsed.format !== undefined && parsed.format !== 'layers-model') {
    throw new ModelFileError(`The model.json file is a "${String(parsed.format)}", not a TensorFlow.js Layers model.`);
  }
  if (!isRecord(parsed.modelTopology))
    throw new ModelFileError('The model.json file has no "modelTopology": it is not a TensorFlow.js Layers model.');
  const { channels, classes } = checkTopology(parsed.modelTopology);
  const weightSpecs = checkManifest(parsed.weightsManifest, weightsBytes);
  const metadata = readMetadata(parsed.userDefinedMetadata);
  if (metadata && (metadata.color === 'gray' ? 1 : 3) !== channels) {
    throw new ModelFileError(`The model's metadata says "${metadata.color}" but its input has ${channels} channel(s).`);
  }
  // A model without this app's metadata names no classes: it is taken for a CIFAR-10 classifier.
  const named = metadata?.classes.length ?? NUM_CLASSES;
  if (classes !== named) {
    throw new ModelFileError(
      metadata
        ? `The model's metadata names ${named} classes but its output has ${classes}.`
        : `The model has ${classes} outputs and no class names of this app: a model from elsewhere must be a CIFAR-10 classifier, with 10 outputs.`,
    );
  }
  return { modelTopology: parsed.modelTopology, weightSpecs, channels, metadata };
}

/**
 * Layer classes a CIFAR-10 classifier from this app or a typical Keras
 * script uses, all deserialisable by tfjs-layers. Anything else (Lambda,
 * custom layers, nested models) is refused up front.
 */
const ALLOWED_LAYERS = new Set([
  'InputLayer',
  'Conv2D',
  'SeparableConv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'LayerNormalization',
  'ELU',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'Softmax',
  'Activation',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Dropout',
  'SpatialDropout2D',
  'GaussianNoise',
  'Flatten',
  'Reshape',
  'Dense',
  'Add',
  'Concatenate',
  'Multiply',
  'Rescaling',
]);
/** Layers that may follow the 10-unit Dense without changing the output's size (`fast` scales its logits). */
const SHAPE_KEEPING = new Set(['Activation', 'Softmax', 'Dropout', 'GaussianNoise', 'Rescaling']);

interface LayerJson {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
}

/** Checks the Keras topology (Sequential or functional) and returns the input's channel count. */
function checkTopology(topology: Record<string, unknown>): { channels: 1 | 3; classes: number } {
  const model = isRecord(topology.model_config) ? topology.model_config : topology;
  const className = model.class_name;
  if (className !== 'Sequential' && className !== 'Model' && className !== 'Functional') {
    throw new ModelFileError(`The model is a "${String(className)}"; only Sequential and functional Keras models can be imported.`);
  }
  const config = model.config;
  // Keras 1 wrote a Sequential's config as the bare list of layers.
  const rawLayers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) throw new ModelFileError('The model has no layers.');
  if (rawLayers.length > MAX_LAYERS)
    throw new ModelFileError(`The model has ${rawLayers.length} layers; at most ${MAX_LAYERS} are accepted.`);
  const layers = rawLayers.map((layer, i): LayerJson => {
    if (!isRecord(layer) || typeof layer.class_name !== 'string' || !isRecord(layer.config)) {
      throw new ModelFileError(`Layer ${i + 1} of the model is malformed.`);
    }
    if (!ALLOWED_LAYERS.has(layer.class_name)) {
      throw new ModelFileError(`Layer ${i + 1} is a "${layer.class_name}", which this app does not load.`);
    }
    const name = typeof layer.name === 'string' ? layer.name : typeof layer.config.name === 'string' ? layer.config.name : `layer${i}`;
    return { class_name: layer.class_name, name, config: layer.config };
  });

  let inputShape: unknown;
  let outputLayer: LayerJson | undefined;
  if (className === 'Sequential') {
    inputShape = batchShape(layers[0] as LayerJson);
    // The last layer that sets the output size.
    outputLayer = [...layers].reverse().find((l) => !SHAPE_KEEPING.has(l.class_name));
    const after = layers.slice(layers.indexOf(outputLayer as LayerJson) + 1);
    if (after.some((l) => l.class_name === 'Activation' && l.config.activation !== 'softmax' && l.config.activation !== 'linear')) {
      throw new ModelFileError('The model does not end in class probabilities (softmax).');
    }
  } else {
    const cfg = config as Record<string, unknown>;
    const inputs = cfg.input_layers;
    const outputs = cfg.output_layers;
    if (!Array.isArray(inputs) || inputs.length !== 1 || !Array.isArray(outputs) || outputs.length !== 1) {
      throw new ModelFileError('The model must have exactly one input and one output.');
    }
    const inputName = Array.isArray(inputs[0]) ? inputs[0][0] : undefined;
    const outputName = Array.isArray(outputs[0]) ? outputs[0][0] : undefined;
    const input = layers.find((l) => l.name === inputName);
    inputShape = input ? batchShape(input) : undefined;
    outputLayer = layers.find((l) => l.name === outputName);
  }

  const shape = inputShape;
  const okShape =
    Array.isArray(shape) &&
    shape.length === 4 &&
    shape[0] === null &&
    shape[1] === IMAGE.height &&
    shape[2] === IMAGE.width &&
    (shape[3] === 1 || shape[3] === 3);
  if (!okShape) {
    throw new ModelFileError(`The model's input is ${describeShape(shape)}; it must be 32×32×3 (colour) or 32×32×1 (grayscale) images.`);
  }
  const units = outputLayer?.config.units;
  if (
    !outputLayer ||
    outputLayer.class_name !== 'Dense' ||
    typeof units !== 'number' ||
    !Number.isInteger(units) ||
    units < MIN_CLASSES ||
    units > MAX_CLASSES
  ) {
    throw new ModelFileError(
      `The model's output is ${outputLayer ? `a ${outputLayer.class_name}${typeof units === 'number' ? ` with ${units} units` : ''}` : 'missing'}; it must be a Dense layer with one output per class (${MIN_CLASSES} to ${MAX_CLASSES}).`,
    );
  }
  return { channels: (shape as number[])[3] as 1 | 3, classes: units };
}

/** A layer's declared input shape including the batch axis: Keras 2 `batch_input_shape`, Keras 3 `batch_shape`. */
function batchShape(layer: LayerJson): unknown {
  return layer.config.batch_input_shape ?? layer.config.batch_shape ?? layer.config.batchInputShape;
}

function describeShape(shape: unknown): string {
  if (!Array.isArray(shape)) return 'not declared';
  return (
    shape
      .slice(1)
      .map((d) => (d === null ? '?' : String(d)))
      .join('×') || 'empty'
  );
}

/** Bytes per value as stored in the .bin: the quantized dtype when quantized, else the tensor's own. */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function checkManifest(manifest: unknown, weightsBytes: number): tf.io.WeightsManifestEntry[] {
  if (!Array.isArray(manifest) || manifest.length === 0) throw new ModelFileError('The model.json file has no "weightsManifest".');
  const specs: tf.io.WeightsManifestEntry[] = [];
  let paths = 0;
  for (const group of manifest) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights))
      throw new ModelFileError('The weights manifest is malformed.');
    paths += group.paths.length;
    for (const spec of group.weights) {
      if (!isRecord(spec) || typeof spec.name !== 'string' || !Array.isArray(spec.shape) || typeof spec.dtype !== 'string') {
        throw new ModelFileError('An entry of the weights manifest is malformed.');
      }
      if (!spec.shape.every((d) => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= 2 ** 31)) {
        throw new ModelFileError(`The weight "${spec.name}" has an invalid shape.`);
      }
      if (!['float32', 'int32', 'bool'].includes(spec.dtype))
        throw new ModelFileError(`The weight "${spec.name}" has the unsupported type "${spec.dtype}".`);
      if (spec.quantization !== undefined) {
        const q = spec.quantization;
        if (!isRecord(q) || typeof q.dtype !== 'string' || !['uint8', 'uint16', 'float16'].includes(q.dtype)) {
          throw new ModelFileError(`The weight "${spec.name}" has an unsupported quantization.`);
        }
      }
      specs.push(spec as unknown as tf.io.WeightsManifestEntry);
    }
  }
  if (paths !== 1) {
    throw new ModelFileError(
      `The model's weights are split into ${paths} files; import takes exactly one .bin file (re-export the model as one file).`,
    );
  }
  const expected = specs.reduce((sum, s) => {
    const count = s.shape.reduce((a, b) => a * b, 1);
    return sum + count * (STORED_BYTES[s.quantization?.dtype ?? s.dtype] as number);
  }, 0);
  if (expected !== weightsBytes) {
    throw new ModelFileError(
      `The weights file has ${weightsBytes.toLocaleString('en-US')} bytes but model.json describes ${expected.toLocaleString('en-US')}: the two files do not belong together, or one is damaged.`,
    );
  }
  return specs;
}

/** Longest data set name kept in a model file. Unit: characters. */
const MAX_DATA_SET_NAME_LENGTH = 200;

/** Our metadata when present; a present but malformed entry is refused (it decides how inputs are scaled). */
function readMetadata(meta: unknown): ModelMetadata | null {
  if (!isRecord(meta) || meta[METADATA_KEY] === undefined) return null;
  const m = meta[METADATA_KEY];
  const triple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  const valid =
    isRecord(m) &&
    m.version === 1 &&
    typeof m.preset === 'string' &&
    m.preset.length <= 40 &&
    COLOR_MODES.includes(m.color as ColorMode) &&
    Array.isArray(m.classes) &&
    m.classes.length >= MIN_CLASSES &&
    m.classes.length <= MAX_CLASSES &&
    m.classes.every((c) => typeof c === 'string' && c.length <= MAX_CLASS_NAME_LENGTH) &&
    triple(m.mean) &&
    triple(m.std) &&
    (m.std as number[]).every((s) => s > 0) &&
    (m.testAccuracy === null || (typeof m.testAccuracy === 'number' && m.testAccuracy >= 0 && m.testAccuracy <= 1)) &&
    Number.isInteger(m.epochs) &&
    (m.epochs as number) >= 0 &&
    (m.dataSet === undefined || (typeof m.dataSet === 'string' && m.dataSet.length <= MAX_DATA_SET_NAME_LENGTH));
  if (!valid) throw new ModelFileError(`The model's "${METADATA_KEY}" metadata is malformed.`);
  return m as unknown as ModelMetadata;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}
