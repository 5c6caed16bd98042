import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors';
import { resolveRecipe } from '../run/recipe';
import { DEFAULT_SETTINGS } from '../run/settings';
import { RUN_FILE_FORMAT, RUN_FILE_VERSION, optimizerSlots, parseRunFile, type RunFile } from './runFile';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function epoch(n: number) {
  return { epoch: n, trainLoss: 2, trainAccuracy: 0.2, valLoss: 2.1, valAccuracy: 0.2, seconds: 1, imagesPerSecond: 100, best: true };
}

function segment(engine: 'tfjs' | 'torch', fromEpoch: number, toEpoch: number) {
  const worldSize = engine === 'tfjs' ? 1 : 2;
  return { fromEpoch, toEpoch, fromStep: 0, toStep: 0, engine, backend: 'wasm', worldSize, device: 'cpu', detail: '', endedAt: 0 };
}

function runFile(): RunFile {
  const settings = { ...DEFAULT_SETTINGS, preset: 'tiny' as const, epochs: 4, seed: 3 };
  return {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    runId: 'run-1',
    preset: 'tiny',
    color: 'rgb',
    seed: 3,
    settings,
    recipe: resolveRecipe(settings),
    classes: CLASSES,
    mean: [125, 123, 114],
    std: [63, 62, 66],
    model: 'cifar10-tiny-rgb-2026-01-01.json',
    epochsDone: 3,
    step: 30,
    stopped: false,
    optimizer: null,
    curves: { epochs: [epoch(1), epoch(2), epoch(3)], steps: [] },
    segments: [segment('tfjs', 1, 2), segment('torch', 3, 3)],
  };
}

describe('optimizerSlots', () => {
  const trainable = [
    { originalName: 'conv1/kernel', shape: [3, 3, 3, 8] },
    { originalName: 'conv1/bias', shape: [8] },
  ];

  it("names each slot after the model weight, whatever suffix the page's variables got", () => {
    const weights = [
      { name: 'iter', shape: [] },
      { name: 'conv1/kernel_1/m', shape: [3, 3, 3, 8] },
      { name: 'conv1/bias_1/m', shape: [8] },
      { name: 'conv1/kernel_1/v', shape: [3, 3, 3, 8] },
      { name: 'conv1/bias_1/v', shape: [8] },
    ];
    expect(optimizerSlots(weights, trainable)).toEqual([
      { weight: 'conv1/kernel', slot: 'm', shape: [3, 3, 3, 8] },
      { weight: 'conv1/bias', slot: 'm', shape: [8] },
      { weight: 'conv1/kernel', slot: 'v', shape: [3, 3, 3, 8] },
      { weight: 'conv1/bias', slot: 'v', shape: [8] },
    ]);
  });

  it('finds the weight of a slot restored from a checkpoint, which keeps the suffix of the session that saved it', () => {
    // Seen in e2e: after a reload the model's variables are conv1/kernel_1, the restored slots still say conv1/kernel_3.
    const weights = [
      { name: 'iter', shape: [] },
      { name: 'conv1/kernel_3/momentum', shape: [3, 3, 3, 8] },
      { name: 'conv1/bias_3/momentum', shape: [8] },
    ];
    expect(optimizerSlots(weights, trainable).map((s) => `${s.weight}/${s.slot}`)).toEqual([
      'conv1/kernel/momentum',
      'conv1/bias/momentum',
    ]);
  });

  it('accepts slots for only some weights (those that get a gradient), in their own order', () => {
    const weights = [
      { name: 'iter', shape: [] },
      { name: 'conv1/bias/m', shape: [8] },
    ];
    expect(optimizerSlots(weights, trainable)).toEqual([{ weight: 'conv1/bias', slot: 'm', shape: [8] }]);
  });

  it('refuses a state without its iteration count, or a slot of an unknown weight, kind or shape', () => {
    const slot = (name: string, shape: number[]) => ({ name, shape });
    expect(() => optimizerSlots([slot('conv1/kernel/m', [3, 3, 3, 8])], trainable)).toThrow(RangeError);
    expect(() => optimizerSlots([slot('iter', []), slot('other/kernel/m', [1])], trainable)).toThrow(/belongs to no trainable weight/);
    expect(() => optimizerSlots([slot('iter', []), slot('conv1/bias/m', [9])], trainable)).toThrow(/belongs to no trainable weight/);
    expect(() => optimizerSlots([slot('iter', []), slot('conv1/bias/x', [8])], trainable)).toThrow(RangeError);
  });
});

describe('parseRunFile', () => {
  it('accepts a run that moved from the tab to torch and back', () => {
    expect(parseRunFile(JSON.parse(JSON.stringify(runFile())))).toEqual(runFile());
  });

  it('gives a file from before the recipe was written the recipe its settings make', () => {
    const { recipe, ...older } = runFile();
    expect(parseRunFile(JSON.parse(JSON.stringify(older))).recipe).toEqual(recipe);
  });

  it('takes a recipe whose keys come in another order (as Python may write them)', () => {
    const run = JSON.parse(JSON.stringify(runFile())) as Record<string, unknown>;
    run.recipe = Object.fromEntries(Object.entries(run.recipe as object).reverse());
    expect(parseRunFile(run)).toEqual(runFile());
  });

  it("accepts the class names of a data set of the user's own, 2 to 100 of them", () => {
    for (const classes of [['oak', 'maple'], Array.from({ length: 100 }, (_, i) => `class ${i}`)]) {
      expect(parseRunFile({ ...JSON.parse(JSON.stringify(runFile())), classes }).classes).toEqual(classes);
    }
  });

  it.each([
    ['one class', (r: Record<string, unknown>) => (r.classes = ['oak'])],
    ['101 classes', (r: Record<string, unknown>) => (r.classes = Array.from({ length: 101 }, (_, i) => `c${i}`))],
    ['a class named twice', (r: Record<string, unknown>) => (r.classes = ['oak', 'oak', 'maple'])],
    ['another format', (r: Record<string, unknown>) => (r.format = 'something-else')],
    ['a newer version', (r: Record<string, unknown>) => (r.version = 2)],
    ['invalid settings', (r: Record<string, unknown>) => ((r.settings as Record<string, unknown>).batchSize = 0)],
    ["a preset that is not the settings'", (r: Record<string, unknown>) => (r.preset = 'seed')],
    ['more epochs done than planned', (r: Record<string, unknown>) => (r.epochsDone = 5)],
    ['curves missing an epoch', (r: Record<string, unknown>) => (r.curves as { epochs: unknown[] }).epochs.pop()],
    ['a gap between segments', (r: Record<string, unknown>) => (((r.segments as { fromEpoch: number }[]).at(-1) ?? r).fromEpoch = 4)],
    ['segments short of the epochs done', (r: Record<string, unknown>) => (r.segments as unknown[]).pop()],
    ['a model file in another folder', (r: Record<string, unknown>) => (r.model = '../x.json')],
    ['a recipe its settings do not make', (r: Record<string, unknown>) => ((r.recipe as { labelSmoothing: number }).labelSmoothing = 0.1)],
    ['a recipe with another batch size', (r: Record<string, unknown>) => ((r.recipe as { batchSize: number }).batchSize = 7)],
    ['a malformed optimizer', (r: Record<string, unknown>) => (r.optimizer = { kind: 'adam', iterations: 1, file: 'o.bin', slots: [{}] })],
  ])('refuses %s', (_, damage) => {
    const run = JSON.parse(JSON.stringify(runFile())) as Record<string, unknown>;
    damage(run);
    expect(() => parseRunFile(run)).toThrow(ModelFileError);
  });
});
