export { fusedOnGpu, registerTrainingKernels, unregisterTrainingKernels, stockKernel } from './register';
export { conv2DBackpropFilterWith, makeConv2DBackpropFilter, type FilterGradMethod } from './conv2d-backprop-filter';
export { conv2DBackpropInputViaConv, makeConv2DBackpropInput } from './conv2d-backprop-input';
export { maxPoolGradJs } from './max-pool-grad';
export { makeTile } from './tile';
export { TUNABLE_RULES, wasmConvolutionsInWords } from './register';
export { clearPlan, setPlanChoice } from './plan';
export { memoryPlanCache, tunePlan, type CachedChoice, type CaseChoice, type PlanCache } from './tune';
export { convCases, deviceCaseTimer } from './tune-device';
