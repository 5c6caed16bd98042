export { fusedUpdateFor, registerTrainingKernels, restoreStock, stepTakes, stockKernel, unregisterTrainingKernels } from './register';
export { conv2DBackpropFilterWith, makeConv2DBackpropFilter, type FilterGradMethod } from './conv/filter-grad';
export { conv2DBackpropInputViaConv, makeConv2DBackpropInput } from './conv/input-grad';
export { maxPoolGradJs } from './pool/max-pool-grad';
export { makeTile } from './memory/tile';
export { TUNABLE_RULES, kernelsInUse, wasmConvolutionsInWords, type KernelInUse } from './register';
export { clearPlan, setPlanChoice } from './tuning/plan';
export { memoryPlanCache, tunePlan, type CachedChoice, type CaseChoice, type PlanCache } from './tuning/tune';
export { convCases, deviceCaseTimer } from './tuning/tune-device';
