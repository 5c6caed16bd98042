import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../errors';
import { OPTIMIZER_FILE_NAME, parseRunFile, type OptimizerState } from './runFile';
import { buildRunFile, fileText, handoverArchiveName, handoverFiles, packHandover, unpackHandover } from './files';
import { DEFAULT_SETTINGS } from '../run/settings';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const epoch = (n: number) => ({
  epoch: n,
  trainLoss: 2,
  trainAccuracy: 0.2,
  valLoss: 2.1,
  valAccuracy: 0.2,
  seconds: 1,
  imagesPerSecond: 100,
  best: true,
});

const optimizer: OptimizerState = {
  kind: 'adam',
  iterations: 8,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  momentum: null,
  nesterov: false,
  file: OPTIMIZER_FILE_NAME,
  slots: [{ weight: 'dense/bias', slot: 'm', shape: [2] }],
};

function run(withOptimizer = true) {
  return buildRunFile(runInput(withOptimizer));
}

function runInput(withOptimizer: boolean): Parameters<typeof buildRunFile>[0] {
  return {
    runId: '3f2a9c1b-0000-4000-8000-000000000000',
    settings: { ...DEFAULT_SETTINGS, preset: 'tiny', epochs: 5, seed: 4 },
    metadata: { classes: CLASSES, mean: [125, 123, 114], std: [63, 62, 66] },
    modelFile: 'cifar10-tiny-rgb-2026-01-01.json',
    epochs: [epoch(1), epoch(2)],
    steps: [{ step: 4, epoch: 1, batchInEpoch: 4, batchesPerEpoch: 4, loss: 2, accuracy: 0.2, imagesPerSecond: 90 }],
    step: 8,
    stopped: false,
    optimizer: withOptimizer ? optimizer : null,
    segments: [
      {
        fromEpoch: 1,
        toEpoch: 2,
        fromStep: 0,
        toStep: 8,
        engine: 'tfjs',
        backend: 'wasm',
        worldSize: 1,
        device: 'browser',
        detail: '',
        endedAt: 1,
      },
    ],
  };
}

const model = {
  jsonName: 'cifar10-tiny-rgb-2026-01-01.json',
  json: '{"format":"layers-model"}',
  weightsName: 'cifar10-tiny-rgb-2026-01-01.weights.bin',
  weights: new Float32Array([1, 2, 3]).buffer,
};

describe('hand-over files', () => {
  it('builds a run.json that parseRunFile accepts, from the settings and the history', () => {
    const r = run();
    expect(parseRunFile(JSON.parse(JSON.stringify(r)))).toEqual(r);
    expect([r.preset, r.color, r.seed, r.epochsDone, r.step]).toEqual(['tiny', 'rgb', 4, 2, 8]);
    expect(handoverArchiveName(r)).toBe('cifar10-tiny-rgb-run-3f2a9c1b-epoch-2.zip');
  });

  it('zips the model, the optimizer slots, run.json and a README, and unzips them to the same bytes', () => {
    const r = run();
    const slots = new Float32Array([0.5, -0.25]).buffer;
    const files = handoverFiles(r, model, slots, handoverArchiveName(r));
    expect(files.map((f) => f.name)).toEqual([model.jsonName, model.weightsName, OPTIMIZER_FILE_NAME, 'run.json', 'README.txt']);
    const back = unpackHandover('x.zip', packHandover(files));
    expect(back.map((f) => f.name).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) expect(back.find((b) => b.name === f.name)?.bytes).toEqual(f.bytes);
    const readme = fileText(back.find((f) => f.name === 'README.txt') as { name: string; bytes: Uint8Array });
    expect(readme).toContain(
      'torchrun --standalone --nproc_per_node=2 -m cifar_tab.train --from cifar10-tiny-rgb-run-3f2a9c1b-epoch-2.zip',
    );
    expect(readme).toContain('python/README.md');
    expect(readme).toContain('Epoch 3 is the next one');
  });

  it('leaves optimizer.weights.bin out, and says so, when the run carries no optimizer state', () => {
    const r = run(false);
    const files = handoverFiles(r, model, null, 'a.zip');
    expect(files.map((f) => f.name)).not.toContain(OPTIMIZER_FILE_NAME);
    expect(fileText(files.at(-1) as { name: string; bytes: Uint8Array })).toContain('fresh optimizer');
    expect(() => handoverFiles(r, model, new ArrayBuffer(8), 'a.zip')).toThrow(RangeError);
  });

  it('hands over a run before its first step: no epoch, no segment, no optimizer state, and a README that says so', () => {
    const start = buildRunFile({ ...runInput(false), epochs: [], steps: [], step: 0, segments: [] });
    expect(parseRunFile(JSON.parse(JSON.stringify(start)))).toEqual(start);
    expect(handoverArchiveName(start)).toBe('cifar10-tiny-rgb-run-3f2a9c1b-epoch-0.zip');
    const readme = fileText(handoverFiles(start, model, null, 'a.zip').at(-1) as { name: string; bytes: Uint8Array });
    expect(readme).toContain('0 of 5 epochs done');
    expect(readme).toContain('the run before its first step');
    expect(readme).toContain('no step has been taken, so PyTorch starts a fresh optimizer');
    expect(readme).toContain('Epoch 1 is the next one');
  });

  it('refuses, naming the archive, what is no zip, members in folders, and an empty archive; steps over folder entries', () => {
    expect(() => unpackHandover('export.zip', strToU8('not a zip at all'))).toThrow(ModelFileError);
    expect(() => unpackHandover('export.zip', strToU8('not a zip at all'))).toThrow(
      /^export\.zip cannot be imported: it is not a readable zip archive/,
    );
    const nested = zipSync({ 'export/run.json': strToU8('{}') });
    expect(() => unpackHandover('nested.zip', nested)).toThrow(/"export\/run\.json" is inside a folder/);
    const escape = zipSync({ '../run.json': strToU8('{}') });
    expect(() => unpackHandover('escape.zip', escape)).toThrow(/unsafe name/);
    expect(() => unpackHandover('empty.zip', zipSync({}))).toThrow(/holds no files/);
    const withFolder = zipSync({ 'run.json': strToU8('{}'), 'docs/': new Uint8Array(0) });
    expect(unpackHandover('ok.zip', withFolder).map((f) => f.name)).toEqual(['run.json']);
  });
});
