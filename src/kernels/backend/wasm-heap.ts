/**
 * The wasm backend's own memory access (BackendWasm): views of tensors in its
 * heap and outputs allocated there, so that our kernels read and write the
 * heap in place. Copying through readSync/write instead costs three fresh
 * 8 MB arrays per call at the seed network's first pooling, and fresh pages
 * are what such a kernel mostly waits on. Allocate the outputs before taking
 * views: a heap that grows detaches the views taken earlier.
 */
import type { TensorInfo } from '@tensorflow/tfjs';

export interface HeapBackend {
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
}

export const hasHeap = (b: unknown): b is HeapBackend =>
  typeof (b as Partial<HeapBackend>).typedArrayFromHeap === 'function' && typeof (b as Partial<HeapBackend>).makeOutput === 'function';

/** The heap view of a float32 tensor. */
export function floatsOf(backend: HeapBackend, t: TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(t);
  if (!(view instanceof Float32Array)) throw new TypeError(`expected a float32 tensor on the wasm heap, got ${t.dtype}`);
  return view;
}
