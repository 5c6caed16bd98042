/**
 * Counts what a training step asks of the GPU API: the calls TensorFlow.js
 * (and our kernels) make on WebGPU's and WebGL2's objects, by wrapping the
 * methods on their prototypes in the bench worker before the backend starts.
 * Counts are totals since installation; the bench takes a snapshot before
 * and after its timed steps and divides the difference by the steps.
 * On a real GPU these host-side calls, not the arithmetic, bound a step of a
 * network this small, and their number does not depend on the adapter.
 */

/** Every counter, WebGPU's first, then WebGL's. */
export const COUNTER_NAMES = [
  // WebGPU
  'dispatches', // GPUComputePassEncoder.dispatchWorkgroups
  'bindGroups', // GPUDevice.createBindGroup
  'bufferWrites', // GPUQueue.writeBuffer calls
  'bufferWriteBytes', // bytes passed to GPUQueue.writeBuffer
  'buffersCreated', // GPUDevice.createBuffer
  'bufferBytesCreated', // bytes of the buffers created
  'pipelinesCreated', // GPUDevice.createComputePipeline(Async)
  'computePasses', // GPUCommandEncoder.beginComputePass
  'submits', // GPUQueue.submit
  'readbacks', // GPUBuffer.mapAsync
  // WebGL2
  'drawCalls', // drawArrays + drawElements
  'programSwitches', // useProgram
  'programsLinked', // linkProgram (one per program compiled)
  'glReadbacks', // readPixels (sync, or into a pixel-pack buffer read later)
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counts = Record<CounterName, number>;

export const WEBGPU_COUNTERS: readonly CounterName[] = COUNTER_NAMES.slice(0, 10);
export const WEBGL_COUNTERS: readonly CounterName[] = COUNTER_NAMES.slice(10);

/** The counters that mean something on a backend; none on wasm and cpu. */
export function countersFor(backend: string): readonly CounterName[] {
  return backend === 'webgpu' ? WEBGPU_COUNTERS : backend === 'webgl' ? WEBGL_COUNTERS : [];
}

export const zeroCounts = (): Counts => Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Counts;

/** after − before, counter by counter. */
export function countsBetween(before: Counts, after: Counts): Counts {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, after[n] - before[n]])) as Counts;
}

export function addCounts(a: Counts, b: Counts): Counts {
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, a[n] + b[n]])) as Counts;
}

/** Totals over `steps` steps as per-step means. */
export function perStep(total: Counts, steps: number): Counts {
  if (!(steps > 0)) throw new Error(`Counts per step need at least one step, got ${steps}`);
  return Object.fromEntries(COUNTER_NAMES.map((n) => [n, total[n] / steps])) as Counts;
}

/**
 * Bytes that `GPUQueue.writeBuffer(buffer, offset, data, dataOffset, size)`
 * copies: `dataOffset` and `size` count elements of a typed array, bytes of
 * an ArrayBuffer (WebGPU spec, writeBuffer).
 */
export function writtenBytes(data: unknown, dataOffset?: number, size?: number): number {
  if (ArrayBuffer.isView(data)) {
    const element = 'BYTES_PER_ELEMENT' in data ? (data.BYTES_PER_ELEMENT as number) : 1;
    return size !== undefined ? size * element : data.byteLength - (dataOffset ?? 0) * element;
  }
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer))
    return size ?? data.byteLength - (dataOffset ?? 0);
  return 0;
}

/** The interfaces wrapped, as found on the worker's global scope (or fakes in tests). */
export type CountedScope = Partial<
  Record<
    'GPUDevice' | 'GPUQueue' | 'GPUCommandEncoder' | 'GPUComputePassEncoder' | 'GPUBuffer' | 'WebGL2RenderingContext',
    { prototype: object }
  >
>;

const WRAPPED = Symbol('cifar10-counters');

/**
 * Replaces `proto[method]` with a function that calls `count` with the
 * arguments, then the original. A method already wrapped, or absent (an
 * older browser), is left alone.
 */
function wrap(proto: object | undefined, method: string, count: (args: unknown[]) => void): void {
  if (!proto) return;
  const original = (proto as Record<string, unknown>)[method];
  if (typeof original !== 'function' || (original as { [WRAPPED]?: boolean })[WRAPPED]) return;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    count(args);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  };
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  Object.defineProperty(proto, method, { value: wrapped, writable: true, configurable: true, enumerable: false });
}

/**
 * Wraps the methods and returns a reader of the running totals. Install it
 * once per realm, before the backend creates its device or context: only
 * calls made after installation are counted.
 */
export function installCounters(scope: CountedScope = globalThis as CountedScope): { snapshot(): Counts } {
  const counts = zeroCounts();
  const bump =
    (name: CounterName, by: (args: unknown[]) => number = () => 1) =>
    (args: unknown[]) => {
      counts[name] += by(args);
    };
  const device = scope.GPUDevice?.prototype;
  wrap(scope.GPUComputePassEncoder?.prototype, 'dispatchWorkgroups', bump('dispatches'));
  wrap(device, 'createBindGroup', bump('bindGroups'));
  wrap(scope.GPUQueue?.prototype, 'writeBuffer', (args) => {
    counts.bufferWrites += 1;
    counts.bufferWriteBytes += writtenBytes(args[2], args[3] as number | undefined, args[4] as number | undefined);
  });
  wrap(device, 'createBuffer', (args) => {
    counts.buffersCreated += 1;
    counts.bufferBytesCreated += Number((args[0] as { size?: number } | undefined)?.size ?? 0);
  });
  wrap(device, 'createComputePipeline', bump('pipelinesCreated'));
  wrap(device, 'createComputePipelineAsync', bump('pipelinesCreated'));
  wrap(scope.GPUCommandEncoder?.prototype, 'beginComputePass', bump('computePasses'));
  wrap(scope.GPUQueue?.prototype, 'submit', bump('submits'));
  wrap(scope.GPUBuffer?.prototype, 'mapAsync', bump('readbacks'));
  const gl = scope.WebGL2RenderingContext?.prototype;
  wrap(gl, 'drawArrays', bump('drawCalls'));
  wrap(gl, 'drawElements', bump('drawCalls'));
  wrap(gl, 'useProgram', bump('programSwitches'));
  wrap(gl, 'linkProgram', bump('programsLinked'));
  wrap(gl, 'readPixels', bump('glReadbacks'));
  return { snapshot: () => ({ ...counts }) };
}

/** Row headings of the counters table, in words. */
export const COUNTER_LABELS: Record<CounterName, string> = {
  dispatches: 'dispatches',
  bindGroups: 'bind groups',
  bufferWrites: 'writeBuffer',
  bufferWriteBytes: 'writeBuffer bytes',
  buffersCreated: 'buffers created',
  bufferBytesCreated: 'bytes created',
  pipelinesCreated: 'pipelines created',
  computePasses: 'compute passes',
  submits: 'submits',
  readbacks: 'readbacks (mapAsync)',
  drawCalls: 'draw calls',
  programSwitches: 'useProgram',
  programsLinked: 'programs linked',
  glReadbacks: 'readPixels',
};

/** A per-step count as printed: whole numbers as they are, means to one decimal. */
export const formatCount = (v: number): string =>
  Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** A few counts in words for a log line: the dispatches and new buffers on WebGPU, the draws on WebGL. */
export function summarizeCounts(c: Counts): string {
  const parts: string[] = [];
  if (c.dispatches > 0 || c.buffersCreated > 0)
    parts.push(`${formatCount(c.dispatches)} dispatches`, `${formatCount(c.buffersCreated)} buffers created`);
  if (c.drawCalls > 0 || c.programsLinked > 0)
    parts.push(`${formatCount(c.drawCalls)} draws`, `${formatCount(c.programsLinked)} programs linked`);
  return parts.join(', ');
}

/**
 * The counters table for a backend: one row per counter, one column per run
 * that has counts (a run that could not train has none and is left out).
 * Null when the backend has no counters or no run has counts.
 */
export function counterTable(
  backend: string,
  runs: { name: string; countsPerStep?: Counts | null }[],
): { header: string[]; rows: string[][] } | null {
  const names = countersFor(backend);
  const counted = runs.filter((r): r is { name: string; countsPerStep: Counts } => !!r.countsPerStep);
  if (names.length === 0 || counted.length === 0) return null;
  return {
    header: ['per step', ...counted.map((r) => r.name)],
    rows: names.map((n) => [COUNTER_LABELS[n], ...counted.map((r) => formatCount(r.countsPerStep[n]))]),
  };
}
