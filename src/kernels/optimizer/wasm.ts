// The fused optimizer update on wasm: cpu.ts's loop, over the wasm heap in place.
import * as tf from '@tensorflow/tfjs';
import { floatsOf, type HeapBackend } from '../backend/wasm-heap';
import { updateValues } from './cpu';
import type { FusedUpdate } from './update';

/**
 * The cpu loop over the wasm heap, in place of tfjs's Adam: ~20 kernel calls
 * per variable (the seed step's 342 element-wise calls, ~50 ms of a 490-ms
 * step on one thread) become one pass over each variable.
 */
export const wasmUpdate: FusedUpdate = (items, params) => {
  const backend = tf.backend() as unknown as HeapBackend;
  return items.map(({ value, gradient, slots }) => {
    // The outputs first: allocating can grow the heap, which detaches earlier views.
    const out = [value, ...slots].map(() => backend.makeOutput(value.shape, 'float32'));
    const view = (t: tf.TensorInfo) => floatsOf(backend, t);
    updateValues(params, view(value), view(gradient), slots.map(view), out.map(view));
    return out.map((t) => tf.engine().makeTensorFromTensorInfo(t));
  });
};
