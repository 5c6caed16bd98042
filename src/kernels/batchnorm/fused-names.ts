// The contract between the fused BatchNorm + activation op (fused.ts) and its
// kernels per backend (fused-webgpu.ts; the cpu reference in fused.ts): the
// kernels' names, their attributes and the activations they fuse.

export type BnActivation = 'elu' | 'relu' | 'linear';

export const BN_STATS = 'CifarBnStats';
export const BN_ACT_FORWARD = 'CifarBnActForward';
export const BN_ACT_GRAD_SUM = 'CifarBnActGradSum';
export const BN_ACT_GRAD_INPUT = 'CifarBnActGradInput';
export const MOVING_AVERAGE = 'CifarMovingAverage';
export const BN_ACT_KERNELS = [BN_STATS, BN_ACT_FORWARD, BN_ACT_GRAD_SUM, BN_ACT_GRAD_INPUT, MOVING_AVERAGE] as const;
export type BnActKernelName = (typeof BN_ACT_KERNELS)[number];

export interface BnAttrs {
  epsilon: number;
  activation: BnActivation;
  /** GradSum only: 0 sums dz (dβ), 1 sums dz·x̂ (dγ). */
  moment: 0 | 1;
  /** MovingAverage only: 1 − momentum, and which stats row (0 mean, 1 variance). */
  decay: number;
  row: 0 | 1;
}
