// The device side of tuning (tune.ts): which convolution calls a model makes
// in a training step, and a timer that runs one formulation of one call on the
// active tfjs backend, checks its answer against the static rule's and times it.
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import type { Clock } from '../../clock';
import { supportedFilterGradMethods, type FilterGradRule } from '../conv/filter-grad';
import { transposedForwardSupported } from '../conv/forward';
import { convShapeKey, planChoice, setPlanChoice } from './plan';
import { stockKernel } from '../backend/installed';
import type { StaticRules } from '../conv/rules';
import { randomTensor, relativeError } from '../testing';
import type { CaseTimer, Measurement, TuneCase } from './tune';

/** What is needed to run one convolution call again with made-up values. */
export interface ConvCall {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid';
}

type ConvLayerConfig = {
  filters: number;
  kernelSize: number | number[];
  strides: number | number[];
  dilationRate: number | number[];
  padding: 'same' | 'valid' | 'causal';
};

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0] ?? 1, v[1] ?? v[0] ?? 1] : [v, v]);

/**
 * The convolution calls one training step of `model` makes at `batchSize`: the
 * forward pass of every Conv2D layer and the weight gradient of the trainable
 * ones, one case per distinct shape, each with the formulations that can run it.
 */
export function convCases(
  model: tf.LayersModel,
  batchSize: number,
  backendName: string,
  rules: StaticRules,
): { cases: TuneCase[]; calls: Map<string, ConvCall> } {
  const byKey = new Map<string, TuneCase>();
  const calls = new Map<string, ConvCall>();
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Conv2D') continue;
    const config = layer.getConfig() as unknown as ConvLayerConfig;
    const inShape = (layer.input as tf.SymbolicTensor).shape;
    const [h, w, cin] = [inShape[1], inShape[2], inShape[3]];
    if (config.padding === 'causal' || h == null || w == null || cin == null) continue;
    const [kh, kw] = pair(config.kernelSize);
    const call: ConvCall = {
      x: [batchSize, h, w, cin],
      filter: [kh, kw, cin, config.filters],
      strides: pair(config.strides),
      dilations: pair(config.dilationRate),
      pad: config.padding,
    };
    const info = backend_util.computeConv2DInfo(call.x, call.filter, call.strides, call.dilations, call.pad);
    const shapeKey = convShapeKey(info);
    calls.set(shapeKey, call);
    const add = (op: TuneCase['op'], candidates: string[], staticChoice: string) => {
      const k = `${op}|${shapeKey}`;
      const known = byKey.get(k);
      if (known) known.layers.push(layer.name);
      else byKey.set(k, { shapeKey, op, layers: [layer.name], candidates, staticChoice });
    };
    if (rules.forward !== undefined) {
      const candidates = transposedForwardSupported(info, undefined, false) ? ['transposed', 'stock'] : ['stock'];
      add('forward', candidates, rules.forward(info));
    }
    if (layer.trainable) {
      const candidates: string[] = supportedFilterGradMethods(info, backendName);
      if (stockKernel('Conv2DBackpropFilter', backendName) !== undefined) candidates.push('stock');
      if (candidates.length > 0) add('filterGrad', candidates, rules.filterGrad(info, candidates as Parameters<FilterGradRule>[1]));
    }
  }
  return { cases: [...byKey.values()], calls };
}

export interface DeviceTimerOptions {
  clock: Clock;
  /** Timed calls per candidate, after one untimed call that builds its pipelines and checks its answer. */
  reps: number;
  /** Largest max-relative-error against the static rule's answer that still counts as the same answer. */
  tolerance: number;
}

/** Whether the active backend can time kernels on the GPU itself (WebGPU timestamp queries, WebGL timer queries). */
function gpuTimers(backendName: string): boolean {
  if (backendName === 'webgpu') return (tf.backend() as unknown as { supportTimestampQuery?: boolean }).supportTimestampQuery === true;
  if (backendName === 'webgl')
    return (
      tf.env().getNumber('WEBGL_DISJOINT_QUERY_TIMER_EXTENSION_VERSION') > 0 &&
      tf.env().getBool('WEBGL_DISJOINT_QUERY_TIMER_EXTENSION_RELIABLE')
    );
  return false;
}

/** ms per call of `call`, `reps` calls in a row, by the GPU's own timers where the backend has them, else by `clock`. */
async function measure(call: () => tf.Tensor, backendName: string, clock: Clock, reps: number): Promise<Measurement> {
  if (gpuTimers(backendName)) {
    let hostMs = 0;
    const timing = await tf.time(() => {
      const start = clock.now();
      for (let r = 0; r < reps; r++) call().dispose();
      hostMs = clock.now() - start;
    });
    // A call costs its GPU time or its host-side encoding, whichever is longer: on a real GPU a small
    // convolution's dispatches often cost the host more than the GPU, and timestamps see only the GPU.
    if (typeof timing.kernelMs === 'number') return { ms: Math.max(timing.kernelMs, hostMs) / reps, via: 'timestamp' };
  }
  const start = clock.now();
  let last: tf.Tensor | null = null;
  for (let r = 0; r < reps; r++) {
    last?.dispose();
    last = call();
  }
  await last?.data();
  last?.dispose();
  return { ms: (clock.now() - start) / reps, via: 'wall' };
}

/**
 * A CaseTimer for tune.ts on the active backend. It forces one formulation
 * through the plan table, so the call goes through the registered kernels as in
 * training. `dispose` frees the made-up inputs.
 */
export function deviceCaseTimer(
  backendName: string,
  calls: Map<string, ConvCall>,
  options: DeviceTimerOptions,
): { time: CaseTimer; dispose: () => void } {
  const inputs = new Map<string, Record<'x' | 'filter' | 'dy', tf.Tensor>>();
  const references = new Map<string, Float32Array>();
  const { clock, reps, tolerance } = options;

  const run = (c: TuneCase): tf.Tensor => {
    const call = calls.get(c.shapeKey);
    if (call === undefined) throw new Error(`no call recorded for ${c.shapeKey}`);
    let t = inputs.get(c.shapeKey);
    if (t === undefined) {
      const info = backend_util.computeConv2DInfo(call.x, call.filter, call.strides, call.dilations, call.pad);
      t = { x: randomTensor(call.x, 1), filter: randomTensor(call.filter, 2), dy: randomTensor(info.outShape, 3) };
      inputs.set(c.shapeKey, t);
    }
    const attrs = { strides: call.strides, pad: call.pad, dataFormat: 'NHWC', dilations: call.dilations };
    return c.op === 'forward'
      ? (tf.engine().runKernel('Conv2D', { x: t.x, filter: t.filter }, attrs) as tf.Tensor)
      : (tf.engine().runKernel('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, { ...attrs, filterShape: call.filter }) as tf.Tensor);
  };
  const answer = async (c: TuneCase): Promise<Float32Array> => {
    const y = run(c);
    try {
      return (await y.data()) as Float32Array;
    } finally {
      y.dispose();
    }
  };

  const time: CaseTimer = async (c, method) => {
    const prior = planChoice(backendName, c.shapeKey, c.op) ?? null;
    try {
      const refKey = `${c.op}|${c.shapeKey}`;
      let reference = references.get(refKey);
      if (reference === undefined) {
        setPlanChoice(backendName, c.shapeKey, c.op, null);
        reference = await answer(c);
        references.set(refKey, reference);
      }
      setPlanChoice(backendName, c.shapeKey, c.op, method);
      // The first call builds the candidate's pipelines: checked, not timed.
      const error = relativeError(await answer(c), reference);
      if (!(error <= tolerance))
        throw new Error(`its answer differs from the static plan's (max relative error ${error.toExponential(1)})`);
      return await measure(() => run(c), backendName, clock, reps);
    } finally {
      setPlanChoice(backendName, c.shapeKey, c.op, prior);
    }
  };

  const dispose = () => {
    for (const t of inputs.values()) tf.dispose(Object.values(t));
    inputs.clear();
  };
  return { time, dispose };
}
