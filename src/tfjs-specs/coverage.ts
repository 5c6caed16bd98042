/**
 * Which of TensorFlow.js's own spec files (shipped in @tensorflow/tfjs-core's
 * dist/) exercise each tfjs kernel we register in place of the stock one.
 * The runner picks the files from the kernels registry.ts lists for a
 * backend, so a kernel added to the registry without an entry here stops the
 * run instead of going untested.
 */

/** Each spec file by its path under @tensorflow/tfjs-core/dist, loaded only when a run needs it. */
export const SPEC_FILES = {
  'ops/conv2d_test': () => import('@tensorflow/tfjs-core/dist/ops/conv2d_test'),
  'ops/conv1d_test': () => import('@tensorflow/tfjs-core/dist/ops/conv1d_test'),
  'ops/conv2d_separable_test': () => import('@tensorflow/tfjs-core/dist/ops/conv2d_separable_test'),
  'ops/conv2d_transpose_test': () => import('@tensorflow/tfjs-core/dist/ops/conv2d_transpose_test'),
  'ops/fused/fused_conv2d_test': () => import('@tensorflow/tfjs-core/dist/ops/fused/fused_conv2d_test'),
  'ops/max_pool_test': () => import('@tensorflow/tfjs-core/dist/ops/max_pool_test'),
  'ops/pool_test': () => import('@tensorflow/tfjs-core/dist/ops/pool_test'),
  'ops/tile_test': () => import('@tensorflow/tfjs-core/dist/ops/tile_test'),
  'ops/sum_test': () => import('@tensorflow/tfjs-core/dist/ops/sum_test'),
  'ops/mean_test': () => import('@tensorflow/tfjs-core/dist/ops/mean_test'),
  'ops/moments_test': () => import('@tensorflow/tfjs-core/dist/ops/moments_test'),
  'ops/batchnorm_test': () => import('@tensorflow/tfjs-core/dist/ops/batchnorm_test'),
  'ops/transpose_test': () => import('@tensorflow/tfjs-core/dist/ops/transpose_test'),
  'ops/slice_test': () => import('@tensorflow/tfjs-core/dist/ops/slice_test'),
  'ops/slice1d_test': () => import('@tensorflow/tfjs-core/dist/ops/slice1d_test'),
  'ops/slice2d_test': () => import('@tensorflow/tfjs-core/dist/ops/slice2d_test'),
  'ops/slice3d_test': () => import('@tensorflow/tfjs-core/dist/ops/slice3d_test'),
  'ops/slice4d_test': () => import('@tensorflow/tfjs-core/dist/ops/slice4d_test'),
  'ops/reverse_test': () => import('@tensorflow/tfjs-core/dist/ops/reverse_test'),
  'ops/reverse_1d_test': () => import('@tensorflow/tfjs-core/dist/ops/reverse_1d_test'),
  'ops/reverse_2d_test': () => import('@tensorflow/tfjs-core/dist/ops/reverse_2d_test'),
  'ops/reverse_3d_test': () => import('@tensorflow/tfjs-core/dist/ops/reverse_3d_test'),
  'ops/reverse_4d_test': () => import('@tensorflow/tfjs-core/dist/ops/reverse_4d_test'),
  'optimizers/adam_optimizer_test': () => import('@tensorflow/tfjs-core/dist/optimizers/adam_optimizer_test'),
  'optimizers/momentum_optimizer_test': () => import('@tensorflow/tfjs-core/dist/optimizers/momentum_optimizer_test'),
} as const;

export type SpecFile = keyof typeof SPEC_FILES;

export function isSpecFile(name: string): name is SpecFile {
  return Object.hasOwn(SPEC_FILES, name);
}

// The ops whose gradients run a kernel count too: conv2d's, conv1d's and the fused conv's
// specs take gradients (Conv2DBackpropFilter and Conv2DBackpropInput), conv2dTranspose's
// forward pass is Conv2DBackpropInput and its gradients are Conv2D and Conv2DBackpropFilter.
const CONV_GRADIENTS: SpecFile[] = ['ops/conv2d_test', 'ops/conv1d_test', 'ops/conv2d_transpose_test', 'ops/fused/fused_conv2d_test'];

/** The spec files that run each tfjs kernel we replace somewhere. */
export const SPECS_BY_KERNEL: Readonly<Record<string, readonly SpecFile[]>> = {
  Conv2D: ['ops/conv2d_test', 'ops/conv1d_test', 'ops/conv2d_separable_test', 'ops/conv2d_transpose_test'],
  FusedConv2D: ['ops/fused/fused_conv2d_test'],
  Conv2DBackpropFilter: CONV_GRADIENTS,
  Conv2DBackpropInput: CONV_GRADIENTS,
  MaxPoolGrad: ['ops/max_pool_test', 'ops/pool_test'],
  Tile: ['ops/tile_test'],
  Sum: ['ops/sum_test'],
  Mean: ['ops/mean_test', 'ops/moments_test'],
  FusedBatchNorm: ['ops/batchnorm_test'],
  Transpose: ['ops/transpose_test'],
  Slice: ['ops/slice_test', 'ops/slice1d_test', 'ops/slice2d_test', 'ops/slice3d_test', 'ops/slice4d_test'],
  Reverse: ['ops/reverse_test', 'ops/reverse_1d_test', 'ops/reverse_2d_test', 'ops/reverse_3d_test', 'ops/reverse_4d_test'],
};

/**
 * Our Adam and momentum updates (fusedOptimizers.ts) do the work of tfjs's
 * AdamOptimizer and MomentumOptimizer, whose specs build them with
 * tf.train.adam / tf.train.momentum.
 */
export const OPTIMIZER_SPECS: readonly SpecFile[] = ['optimizers/adam_optimizer_test', 'optimizers/momentum_optimizer_test'];

/** The spec files for the given replaced kernels (plus the optimizers' where ours replace tfjs's update), in SPEC_FILES' order. */
export function specFilesFor(replacedKernels: readonly string[], fusedOptimizers: boolean): SpecFile[] {
  const wanted = new Set<SpecFile>(fusedOptimizers ? OPTIMIZER_SPECS : []);
  for (const kernelName of replacedKernels) {
    const files = SPECS_BY_KERNEL[kernelName];
    if (files === undefined)
      throw new Error(`no TensorFlow.js spec file is mapped to ${kernelName}: add it to SPECS_BY_KERNEL (coverage.ts)`);
    files.forEach((f) => wanted.add(f));
  }
  return (Object.keys(SPEC_FILES) as SpecFile[]).filter((f) => wanted.has(f));
}
