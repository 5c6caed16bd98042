// Adam and momentum SGD on WebGL: a program draws one output, so each new
// tensor (value and each slot) is its own draw from the same inputs: 3 draws a
// variable for Adam (m, v, value), 2 for momentum, where tfjs's update makes
// ~14 and ~6. The value's program recomputes the new slots inline rather than
// reading them back, with the same float32 operations as the slots' programs
// and fusedOptimizers.ts's CPU twin.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { FusedUpdate, UpdateParams } from './update';
import { runWebGL, type WebGLProgram } from '../backend/webgl-program';

type Output = 'value' | 'm' | 'v' | 'accumulation';

const ADAM_UNIFORMS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'correction1', 'correction2', 'rate', 'epsilon'] as const;
const MOMENTUM_UNIFORMS = ['momentum', 'rate', 'nesterov'] as const;

/** The new slot values, as GLSL expressions of the inputs. */
const NEW_M = 'getMAtOutCoords() * beta1 + getGAtOutCoords() * oneMinusBeta1';
const NEW_V = 'getVAtOutCoords() * beta2 + getGAtOutCoords() * getGAtOutCoords() * oneMinusBeta2';
const NEW_ACCUMULATION = 'momentum * getAccAtOutCoords() + getGAtOutCoords()';

const EXPRESSIONS: Record<UpdateParams['kind'], Partial<Record<Output, string>>> = {
  adam: {
    m: NEW_M,
    v: NEW_V,
    value: `(${NEW_M}) / correction1 / (sqrt((${NEW_V}) / correction2) + epsilon) * rate + getWAtOutCoords()`,
  },
  momentum: {
    accumulation: NEW_ACCUMULATION,
    value: `rate * (nesterov > 0.5 ? getGAtOutCoords() + (${NEW_ACCUMULATION}) * momentum : ${NEW_ACCUMULATION}) + getWAtOutCoords()`,
  },
};

function program(kind: UpdateParams['kind'], output: Output, shape: number[]): WebGLProgram {
  const names = kind === 'adam' ? ADAM_UNIFORMS : MOMENTUM_UNIFORMS;
  return {
    variableNames: kind === 'adam' ? ['w', 'g', 'm', 'v'] : ['w', 'g', 'acc'],
    outputShape: shape,
    customUniforms: names.map((name) => ({ name, type: 'float' as const })),
    userCode: `void main() { setOutput(${EXPRESSIONS[kind][output] ?? '0.0'}); }`,
  };
}

function uniformValues(params: UpdateParams): number[][] {
  if (params.kind === 'adam') {
    const { beta1, beta2, epsilon, learningRate, step } = params;
    return [beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1 ** step, 1 - beta2 ** step, -learningRate, epsilon].map((u) => [u]);
  }
  return [params.momentum, -params.learningRate, params.nesterov ? 1 : 0].map((u) => [u]);
}

export const webglUpdate: FusedUpdate = (items, params) => {
  const backend = tf.backend();
  const uniforms = uniformValues(params);
  const outputs: Output[] = params.kind === 'adam' ? ['value', 'm', 'v'] : ['value', 'accumulation'];
  return items.map(({ value, gradient, slots }) => {
    const inputs: TensorInfo[] = [value, gradient, ...slots];
    return outputs.map((output) =>
      tf.engine().makeTensorFromTensorInfo(runWebGL(backend, program(params.kind, output, value.shape), inputs, uniforms)),
    );
  });
};
