/**
 * Our convolution weight gradient (the registered Conv2DBackpropFilter)
 * against TensorFlow.js's own kernel for the same backend: time per call, and
 * numerical agreement. Runs in an `ours` worker, where `stockKernel` still
 * hands out the kernel ours replaced.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { conv2DBackpropFilterWith, stockKernel } from '../kernels';
import { filterGradConvInfo, supportedFilterGradMethods, type FilterGradMethod } from '../kernels/conv/filter-grad';
import { cpuFilterGradRule, wasmFilterGradRule, webglFilterGradRule, webgpuFilterGradRule } from '../kernels/conv/rules';
import { randomValues, relativeError } from '../kernels/testing';
import type {
  BenchBackend,
  CheckJob,
  CheckResult,
  ConvShape,
  ForwardJob,
  ForwardResult,
  KernelJob,
  KernelResult,
  KernelRow,
} from './protocol';

const RULES = { wasm: wasmFilterGradRule, cpu: cpuFilterGradRule, webgpu: webgpuFilterGradRule, webgl: webglFilterGradRule } as const;

interface Inputs {
  x: tf.Tensor4D;
  dy: tf.Tensor4D;
  attrs: Conv2DBackpropFilterAttrs;
}

function makeInputs(shape: ConvShape, seed: number): Inputs {
  const { batch, height, width, inChannels, outChannels, kernel, stride, pad } = shape;
  const x = tf.tensor4d(randomValues(batch * height * width * inChannels, seed), [batch, height, width, inChannels]);
  const filterShape: [number, number, number, number] = [kernel, kernel, inChannels, outChannels];
  const outShape = tf.backend_util.computeConv2DInfo(x.shape, filterShape, stride, 1, pad).outShape;
  const dy = tf.tensor4d(
    randomValues(
      outShape.reduce((a, b) => a * b, 1),
      seed + 1,
    ),
    outShape,
  );
  return { x, dy, attrs: { strides: stride, pad, dataFormat: 'NHWC', filterShape } };
}

/** The formulation our registered kernel picks for this shape on this backend. */
function chosenMethod(backend: BenchBackend, inputs: Inputs): FilterGradMethod {
  const info = filterGradConvInfo(inputs.x, inputs.attrs);
  const possible = supportedFilterGradMethods(info, backend);
  if (stockKernel('Conv2DBackpropFilter', backend) !== undefined) possible.push('stock');
  return RULES[backend](info, possible);
}

/** Our registered kernel, through the engine like any op. */
function ours(inputs: Inputs): tf.Tensor {
  return tf
    .engine()
    .runKernel('Conv2DBackpropFilter', { x: inputs.x, dy: inputs.dy }, inputs.attrs as unknown as NamedAttrMap) as tf.Tensor;
}

/** The kernel that was registered before ours (null where there was none), called directly. */
function stock(backend: BenchBackend, inputs: Inputs): tf.Tensor | null {
  const config = stockKernel('Conv2DBackpropFilter', backend);
  if (config === undefined) return null;
  const out = config.kernelFunc({
    inputs: { x: inputs.x, dy: inputs.dy },
    backend: tf.backend(),
    attrs: inputs.attrs as unknown as NamedAttrMap,
  });
  return tf.engine().makeTensorFromTensorInfo(out as TensorInfo);
}

function formulation(backend: BenchBackend, method: Exclude<FilterGradMethod, 'stock'>, inputs: Inputs): tf.Tensor {
  const out = conv2DBackpropFilterWith(
    method,
    { inputs: { x: inputs.x, dy: inputs.dy }, backend: tf.backend() as KernelBackend, attrs: inputs.attrs as unknown as NamedAttrMap },
    backend,
  );
  return tf.engine().makeTensorFromTensorInfo(out);
}

/** Milliseconds from the call until the result is on the CPU (a GPU backend only finishes then). */
async function timeCall(make: () => tf.Tensor | null): Promise<number | null> {
  const start = performance.now();
  const out = make();
  if (out === null) return null;
  await out.data();
  const ms = performance.now() - start;
  out.dispose();
  return ms;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * The layer's other two passes, for comparison with native frameworks: the
 * forward Conv2D and the registered input gradient, ms (median of `reps`).
 * On wasm the kernels finish before they return, so nothing is read back.
 */
async function timePasses(shape: ConvShape, inputs: Inputs, reps: number): Promise<{ forwardMs: number; inputGradMs: number }> {
  const w = tf.tensor4d(randomValues(9 * shape.inChannels * shape.outChannels, 7), inputs.attrs.filterShape);
  const attrs = { ...inputs.attrs, inputShape: inputs.x.shape } as unknown as NamedAttrMap;
  const passes = {
    forwardMs: () => tf.conv2d(inputs.x, w, shape.stride, shape.pad),
    inputGradMs: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: inputs.dy, filter: w }, attrs) as tf.Tensor,
  };
  const out = { forwardMs: 0, inputGradMs: 0 };
  try {
    for (const [name, make] of Object.entries(passes) as [keyof typeof out, () => tf.Tensor][]) {
      const times: number[] = [];
      for (let r = 0; r <= reps; r++) {
        const start = performance.now();
        const t = make();
        if (tf.getBackend() !== 'wasm') await t.data();
        if (r > 0) times.push(performance.now() - start);
        t.dispose();
      }
      out[name] = median(times);
    }
  } finally {
    w.dispose();
  }
  return out;
}

export async function runKernelJob(job: KernelJob, log: (text: string) => void): Promise<KernelResult> {
  const rows: KernelRow[] = [];
  for (const [i, shape] of job.shapes.entries()) {
    const inputs = makeInputs(shape, 1000 + 10 * i);
    try {
      // One untimed call each first: shader compilation is not the kernel's speed.
      await timeCall(() => ours(inputs));
      await timeCall(() => stock(job.backend, inputs));
      const oursTimes: number[] = [];
      const stockTimes: number[] = [];
      for (let r = 0; r < job.reps; r++) {
        oursTimes.push((await timeCall(() => ours(inputs))) as number);
        const s = await timeCall(() => stock(job.backend, inputs));
        if (s !== null) stockTimes.push(s);
      }
      const methodMs: Record<string, number> = {};
      for (const method of job.methods ?? []) {
        await timeCall(() => formulation(job.backend, method, inputs));
        const times: number[] = [];
        for (let r = 0; r < job.reps; r++) times.push((await timeCall(() => formulation(job.backend, method, inputs))) as number);
        methodMs[method] = median(times);
      }
      const row: KernelRow = {
        shape,
        method: chosenMethod(job.backend, inputs),
        oursMs: median(oursTimes),
        stockMs: stockTimes.length > 0 ? median(stockTimes) : null,
        oursRepsMs: oursTimes,
        stockRepsMs: stockTimes.length > 0 ? stockTimes : null,
        ...(job.methods ? { methodMs } : {}),
        ...(job.passes ? await timePasses(shape, inputs, job.reps) : {}),
      };
      const extra = Object.entries(methodMs)
        .map(([m, v]) => `, ${m} ${v.toFixed(0)} ms`)
        .join('');
      log(
        `kernel ${shape.inChannels}→${shape.outChannels} ${shape.height}²: ours (${row.method}) ${row.oursMs.toFixed(0)} ms, stock ${row.stockMs?.toFixed(0) ?? '—'} ms${extra}`,
      );
      rows.push(row);
    } finally {
      tf.dispose([inputs.x, inputs.dy]);
    }
  }
  return { kind: 'kernels', backend: job.backend, rows };
}

/**
 * For every shape: our registered kernel and each formulation that can do the
 * shape, against the stock kernel, as max|a − b| / max|b|.
 */
export async function runCheckJob(job: CheckJob): Promise<CheckResult> {
  if (stockKernel('Conv2DBackpropFilter', job.backend) === undefined)
    throw new Error(`'${job.backend}' has no stock Conv2DBackpropFilter to compare with`);
  const rows: CheckResult['rows'] = [];
  for (const [i, shape] of job.shapes.entries()) {
    const inputs = makeInputs(shape, 2000 + 10 * i);
    try {
      const want = stock(job.backend, inputs) as tf.Tensor;
      const expected = await want.data();
      want.dispose();
      const errors: Record<string, number> = {};
      const compare = async (name: string, make: () => tf.Tensor) => {
        const got = make();
        const values = await got.data();
        got.dispose();
        errors[name] = relativeError(values, expected);
      };
      await compare('registered', () => ours(inputs));
      if (shape.stride === 1) {
        // The forward convolution with a bias, registered (ours where the rule says so) against the stock FusedConv2D,
        // on the backends where ours replaced it: elsewhere both would be the stock kernel.
        const filter = tf.tensor4d(
          randomValues(
            inputs.attrs.filterShape.reduce((p, q) => p * q, 1),
            2005 + 10 * i,
          ),
          inputs.attrs.filterShape,
        );
        const bias = tf.tensor1d(randomValues(shape.outChannels, 2006 + 10 * i));
        const attrs = { strides: 1, pad: shape.pad, dataFormat: 'NHWC', dilations: 1, activation: 'linear' } as unknown as NamedAttrMap;
        const stockForward = stockKernel('FusedConv2D', job.backend);
        if (stockForward && stockForward.kernelFunc !== tf.getKernel('FusedConv2D', job.backend).kernelFunc) {
          const out = stockForward.kernelFunc({ inputs: { x: inputs.x, filter, bias }, backend: tf.backend(), attrs });
          const wantForward = tf.engine().makeTensorFromTensorInfo(out as TensorInfo);
          const expectedForward = await wantForward.data();
          wantForward.dispose();
          const got = tf.engine().runKernel('FusedConv2D', { x: inputs.x, filter, bias }, attrs) as tf.Tensor;
          errors.forward = relativeError(await got.data(), expectedForward);
          got.dispose();
        }
        tf.dispose([filter, bias]);
      }
      const info = filterGradConvInfo(inputs.x, inputs.attrs);
      for (const method of supportedFilterGradMethods(info, job.backend)) {
        if (method !== 'stock') await compare(method, () => formulation(job.backend, method, inputs));
      }
      rows.push({ shape, method: chosenMethod(job.backend, inputs), errors });
    } finally {
      tf.dispose([inputs.x, inputs.dy]);
    }
  }
  return { kind: 'check', backend: job.backend, rows };
}

/**
 * The forward convolution (what a conv layer with bias runs: FusedConv2D)
 * under each variant's tfjs flags, e.g. tfjs-webgpu's implicit-GEMM program
 * against its separate im2col shader.
 */
export async function runForwardJob(job: ForwardJob, log: (text: string) => void): Promise<ForwardResult> {
  const rows: ForwardResult['rows'] = [];
  for (const [i, shape] of job.shapes.entries()) {
    const { x, attrs } = makeInputs(shape, 3000 + 10 * i);
    const filter = tf.tensor4d(
      randomValues(
        attrs.filterShape.reduce((a, b) => a * b, 1),
        3001 + 10 * i,
      ),
      attrs.filterShape,
    );
    const bias = tf.tensor1d(randomValues(shape.outChannels, 3002 + 10 * i));
    const msBy: Record<string, number> = {};
    try {
      for (const [name, flags] of Object.entries(job.variants)) {
        const saved = Object.fromEntries(Object.keys(flags).map((f) => [f, tf.env().get(f)]));
        for (const [f, v] of Object.entries(flags)) tf.env().set(f, v);
        try {
          const call =
            name === 'viaInputGrad'
              ? () =>
                  tf.tidy(() => {
                    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
                    const y = tf.conv2dTranspose(x, flipped, [x.shape[0], x.shape[1], x.shape[2], shape.outChannels], 1, shape.pad);
                    return tf.add(y, bias);
                  })
              : () => tf.fused.conv2d({ x, filter, bias, strides: shape.stride, pad: shape.pad });
          await timeCall(call);
          const times: number[] = [];
          for (let r = 0; r < job.reps; r++) times.push((await timeCall(call)) as number);
          msBy[name] = median(times);
          if (name === 'viaInputGrad') {
            const a = call();
            const b = tf.fused.conv2d({ x, filter, bias, strides: shape.stride, pad: shape.pad });
            log(`viaInputGrad error ${relativeError(await a.data(), await b.data())}`);
            tf.dispose([a, b]);
          }
        } finally {
          for (const [f, v] of Object.entries(saved)) tf.env().set(f, v as boolean | number);
        }
      }
      log(
        `forward ${shape.inChannels}→${shape.outChannels} ${shape.height}²: ${Object.entries(msBy)
          .map(([n, v]) => `${n || 'default'} ${v.toFixed(0)} ms`)
          .join(', ')}`,
      );
      rows.push({ shape, ms: msBy });
    } finally {
      tf.dispose([x, filter, bias]);
    }
  }
  return { kind: 'forward', backend: job.backend, rows };
}
