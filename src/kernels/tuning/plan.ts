// The kernel plan of this device: for some convolution shapes, the
// formulation that timing on this device chose (see tune.ts), overriding the
// static rules in ../conv/rules.ts for exactly those shapes. Shapes it has no entry
// for (another batch size, the evaluation's forward passes) keep the static rule.
import type { backend_util } from '@tensorflow/tfjs';
import type { FilterGradMethod, FilterGradRule } from '../conv/filter-grad';
import type { ForwardConvRule, ForwardMethod } from '../conv/forward';

/** The two convolution kernels whose formulation is chosen per shape. */
export type ConvOp = 'forward' | 'filterGrad';
export type MethodOf<O extends ConvOp> = O extends 'forward' ? ForwardMethod : FilterGradMethod;

/** Everything about a convolution call that its formulations' speed depends on, as one string. */
export function convShapeKey(info: backend_util.Conv2DInfo): string {
  const p = info.padInfo;
  return (
    `${info.batchSize}×${info.inHeight}×${info.inWidth}×${info.inChannels}→${info.outChannels}` +
    ` k${info.filterHeight}×${info.filterWidth} s${info.strideHeight}×${info.strideWidth}` +
    ` d${info.dilationHeight}×${info.dilationWidth} p${p.top},${p.bottom},${p.left},${p.right}`
  );
}

type Table = Map<string, Partial<Record<ConvOp, string>>>;
const tables = new Map<string, Table>();

/** Sets (or with null clears) the choice for one op of one shape on `backendName`. */
export function setPlanChoice(backendName: string, shapeKey: string, op: ConvOp, method: string | null): void {
  let table = tables.get(backendName);
  if (table === undefined) tables.set(backendName, (table = new Map()));
  const { [op]: _old, ...others } = table.get(shapeKey) ?? {};
  table.set(shapeKey, method === null ? others : { ...others, [op]: method });
}

/** Forgets every tuned choice on `backendName`: the static rules decide again. */
export function clearPlan(backendName: string): void {
  tables.delete(backendName);
}

export function planChoice(backendName: string, shapeKey: string, op: ConvOp): string | undefined {
  return tables.get(backendName)?.get(shapeKey)?.[op];
}

/** `rule`, unless the plan has a choice for this shape that can run it. */
export function plannedFilterGradRule(backendName: string, rule: FilterGradRule): FilterGradRule {
  return (info, possible) => {
    const chosen = planChoice(backendName, convShapeKey(info), 'filterGrad') as FilterGradMethod | undefined;
    return chosen !== undefined && possible.includes(chosen) ? chosen : rule(info, possible);
  };
}

export function plannedForwardRule(backendName: string, rule: ForwardConvRule): ForwardConvRule {
  return (info) => {
    const chosen = planChoice(backendName, convShapeKey(info), 'forward') as ForwardMethod | undefined;
    return chosen ?? rule(info);
  };
}
