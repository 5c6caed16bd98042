// One compute dispatch per variable for an optimizer step on WebGPU.
//
// tfjs's Adam is 14 elementwise kernels per variable (one dispatch, bind group
// and uniform write each, plus a staging buffer for every JS number it turns
// into a scalar), Nesterov momentum 5: on a real GPU a step of a small CNN is
// bound by that host-side cost, not by arithmetic (docs/benchmarks.md,
// "WebGPU calls per step"). Here each variable's value and slots are read and
// their new values written by one WGSL kernel into fresh tensors from tfjs's
// buffer pool (never in place: a clone of a variable shares its buffer, and the
// best-epoch snapshot is such a clone).
//
// tfjs's program API has one output per kernel, so this records its own
// compute pass on tfjs's device. The order that keeps it correct
// (../shared/notes/webgpu-step.md): inputs uploaded and outputs acquired
// through tfjs first, tfjs's recorded work submitted, then our uniforms
// written and our pass submitted, before tfjs records anything that may reuse
// the gradients' buffers.
import * as tf from '@tensorflow/tfjs';
import type { FusedUpdate, UpdateItem, UpdateParams } from './update';
import { gpuBufferOf, submitRecorded, webgpuBackend } from '../backend/webgpu-internals';

const WORKGROUP = 256;
/** WebGPU's default maxComputeWorkgroupsPerDimension; the largest variable of any preset is 589,824 values. */
const MAX_GROUPS = 65_535;
/** Eight f32 uniforms, the same block for both kernels. Unit: bytes. */
const UNIFORM_BYTES = 32;

const HEADER = /* wgsl */ `
struct Params { a: f32, b: f32, c: f32, d: f32, e: f32, f: f32, g: f32, h: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read> value: array<f32>;
`;

// The arithmetic follows tfjs's AdamOptimizer op for op (same rounding steps):
// m' = m·β₁ + g·(1−β₁), v' = v·β₂ + g²·(1−β₂), w' = (m'/c₁) / (√(v'/c₂) + ε) · (−lr) + w,
// with cₖ = 1 − βₖ^t the bias corrections.
const ADAM = /* wgsl */ `${HEADER}
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> valueOut: array<f32>;
@group(0) @binding(6) var<storage, read_write> mOut: array<f32>;
@group(0) @binding(7) var<storage, read_write> vOut: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&valueOut)) { return; }
  let g = grad[i];
  let m1 = m[i] * p.a + g * p.c;
  let v1 = v[i] * p.b + (g * g) * p.d;
  mOut[i] = m1;
  vOut[i] = v1;
  valueOut[i] = ((m1 / p.e) / (sqrt(v1 / p.f) + p.h)) * p.g + value[i];
}`;

// tfjs's MomentumOptimizer: a' = μ·a + g; w' = (−lr)·(g + a'·μ) + w with Nesterov, (−lr)·a' + w without.
const MOMENTUM = /* wgsl */ `${HEADER}
@group(0) @binding(3) var<storage, read> acc: array<f32>;
@group(0) @binding(4) var<storage, read_write> valueOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> accOut: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= arrayLength(&valueOut)) { return; }
  let g = grad[i];
  let a1 = p.a * acc[i] + g;
  let step = select(a1, g + a1 * p.a, p.c > 0.5);
  accOut[i] = a1;
  valueOut[i] = p.b * step + value[i];
}`;

/** Uniforms of one step, in the order of Params (a … h). */
function uniforms(params: UpdateParams): Float32Array<ArrayBuffer> {
  if (params.kind === 'adam') {
    const { beta1, beta2, learningRate, epsilon, step } = params;
    // (1 − β) in double precision, then rounded, as tfjs does when it turns the JS number into a scalar.
    return new Float32Array([beta1, beta2, 1 - beta1, 1 - beta2, 1 - beta1 ** step, 1 - beta2 ** step, -learningRate, epsilon]);
  }
  return new Float32Array([params.momentum, -params.learningRate, params.nesterov ? 1 : 0, 0, 0, 0, 0, 0]);
}

interface DeviceState {
  adam: GPUComputePipeline;
  momentum: GPUComputePipeline;
  params: GPUBuffer;
}
/** Per device: a lost device's successor compiles its own. The two pipelines and one uniform buffer are made once. */
const states = new WeakMap<GPUDevice, DeviceState>();

function stateFor(device: GPUDevice): DeviceState {
  let state = states.get(device);
  if (!state) {
    const pipeline = (code: string, label: string) =>
      device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module: device.createShaderModule({ code, label }), entryPoint: 'main' },
      });
    state = {
      adam: pipeline(ADAM, 'FusedAdam'),
      momentum: pipeline(MOMENTUM, 'FusedMomentum'),
      params: device.createBuffer({
        label: 'FusedOptimizerParams',
        size: UNIFORM_BYTES,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      }),
    };
    states.set(device, state);
  }
  return state;
}

export const webgpuUpdate: FusedUpdate = (items: UpdateItem[], params: UpdateParams): tf.Tensor[][] => {
  const backend = webgpuBackend();
  const { device, queue } = backend;
  const state = stateFor(device);
  for (const { value, gradient, slots } of items) for (const t of [value, gradient, ...slots]) backend.uploadToGPU(t.dataId);
  const outputs = items.map(({ value, slots }) =>
    [value, ...slots].map((t) => {
      const info = backend.makeTensorInfo(t.shape, 'float32');
      backend.uploadToGPU(info.dataId); // a buffer from tfjs's pool: no createBuffer once the pool holds last step's
      return info;
    }),
  );
  submitRecorded(backend);

  queue.writeBuffer(state.params, 0, uniforms(params));
  const pipeline = params.kind === 'adam' ? state.adam : state.momentum;
  const layout = pipeline.getBindGroupLayout(0);
  const encoder = device.createCommandEncoder({ label: 'FusedOptimizer' });
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  items.forEach(({ value, gradient, slots }, i) => {
    const size = value.size * 4;
    const buffers = [gradient, value, ...slots].map((t) => gpuBufferOf(backend, t.dataId));
    for (const info of outputs[i] ?? []) buffers.push(gpuBufferOf(backend, info.dataId));
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: state.params } },
      ...buffers.map((buffer, b) => ({ binding: b + 1, resource: { buffer, size } })),
    ];
    pass.setBindGroup(0, device.createBindGroup({ layout, entries }));
    const groups = Math.ceil(value.size / WORKGROUP);
    if (groups > MAX_GROUPS) throw new RangeError(`Fused optimizer: a variable of ${value.size} values is too large for one dispatch`);
    pass.dispatchWorkgroups(groups);
  });
  pass.end();
  queue.submit([encoder.finish()]);
  return outputs.map((infos) => infos.map((info) => tf.engine().makeTensorFromTensorInfo(info)));
};
