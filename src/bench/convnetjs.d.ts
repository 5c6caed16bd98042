// The parts of ConvNetJS 0.3.0 (plain JavaScript, no types of its own) that the benchmark uses.
declare module 'convnetjs' {
  export class Vol {
    constructor(sx: number, sy: number, depth: number, c?: number);
    sx: number;
    sy: number;
    depth: number;
    /** sx·sy·depth values, index ((sx·y) + x)·depth + d: the same HWC order as our shards. */
    w: Float64Array;
  }
  export interface LayerDef {
    type: 'input' | 'conv' | 'pool' | 'softmax' | 'fc';
    out_sx?: number;
    out_sy?: number;
    out_depth?: number;
    sx?: number;
    filters?: number;
    stride?: number;
    pad?: number;
    activation?: 'relu' | 'sigmoid' | 'tanh';
    num_classes?: number;
  }
  export class Net {
    makeLayers(defs: LayerDef[]): void;
  }
  export interface TrainerOptions {
    method?: 'sgd' | 'adadelta' | 'adagrad' | 'windowgrad' | 'nesterov' | 'adam';
    learning_rate?: number;
    batch_size?: number;
    l2_decay?: number;
    momentum?: number;
  }
  export class SGDTrainer {
    constructor(net: Net, options: TrainerOptions);
    train(x: Vol, label: number): { loss: number; cost_loss: number; softmax_loss: number };
  }
  export function augment(V: Vol, crop: number, dx?: number, dy?: number, fliplr?: boolean): Vol;
}
