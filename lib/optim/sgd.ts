// SPDX-License-Identifier: MIT
// SGD: torch.optim.SGD's update (momentum with dampening, Nesterov, L2 weight decay on the gradient).
import { checkBool, checkNumber } from '../check';
import { Parameter } from '../modules/parameter';
import { Optimizer, type OptionsSpec, type ParamGroupInput } from './optimizer';

export interface SGDOptions {
  /** Learning rate. Required, as in PyTorch. */
  lr: number;
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** Scales the new gradient in the momentum buffer by 1 - dampening (not on the first step). Default 0. */
  dampening?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0. Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Maximise the objective: step along the gradient (PyTorch's maximize). Default false. */
  maximize?: boolean;
}

/** A parameter group for SGD: its parameters and the options that differ from the constructor's. */
export type SGDParamGroup = ParamGroupInput<SGDOptions>;

const SGD_SPEC: OptionsSpec<Required<SGDOptions>> = {
  keys: ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize'],
  resolve(what, o) {
    if (o.lr === undefined || o.lr === null)
      throw new TypeError(`${what}: options.lr is required, e.g. new SGD(model.parameters(), { lr: 0.01 })`);
    const lr = checkNumber(`${what}: lr`, o.lr, { min: 0 });
    const momentum = checkNumber(`${what}: momentum`, o.momentum ?? 0, { min: 0 });
    const dampening = checkNumber(`${what}: dampening`, o.dampening ?? 0);
    const nesterov = checkBool(`${what}: nesterov`, o.nesterov ?? false);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError(
        `${what}: nesterov needs momentum > 0 and dampening 0, got momentum ${momentum}, dampening ${dampening}`,
      );
    }
    return {
      lr,
      momentum,
      dampening,
      nesterov,
      weightDecay: checkNumber(`${what}: weightDecay`, o.weightDecay ?? 0, { min: 0 }),
      maximize: checkBool(`${what}: maximize`, o.maximize ?? false),
    };
  },
};

export interface SGDState {
  /** PyTorch's momentum_buffer: null until the first step with momentum. */
  momentumBuffer: Float32Array | null;
}

/**
 * Stochastic gradient descent, matching torch.optim.SGD step for step:
 * g = grad (-grad with maximize) + weightDecay θ; with momentum, b = g on the first step, else b = momentum b + (1 - dampening) g,
 * and g = nesterov ? g + momentum b : b; then θ -= lr g. Float32 throughout, like PyTorch.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
 * opt.zeroGrad(); model.backward(lossFn.backward()); opt.step();
 * // Parameter groups, as torch.optim: no weight decay on biases and norm weights (see splitWeightDecay).
 * new SGD([{ params: weights }, { params: biases, weightDecay: 0 }], { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 */
export class SGD extends Optimizer<Required<SGDOptions>> {
  /** The constructor's options (the defaults of groups that do not override them); groups' own: paramGroups. */
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly maximize: boolean;
  private readonly state: SGDState[];

  /** `params`: model.parameters(), or groups `{ params, ...options }` whose options override `options`. */
  constructor(params: Iterable<Parameter> | Iterable<SGDParamGroup>, options: SGDOptions) {
    super('SGD', params, options, SGD_SPEC);
    ({
      momentum: this.momentum,
      dampening: this.dampening,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
      maximize: this.maximize,
    } = this.defaults);
    this.state = this.params.map(() => ({ momentumBuffer: null }));
  }

  step(): void {
    const f = Math.fround;
    this.forEachParam((p, group, index) => {
      const { lr, momentum, dampening, nesterov, weightDecay, maximize } = group;
      const theta = p.data.data;
      const grad = p.grad.data;
      const s = this.state[index];
      const first = momentum !== 0 && s.momentumBuffer === null;
      if (first) s.momentumBuffer = new Float32Array(theta.length);
      const buf = s.momentumBuffer;
      for (let i = 0; i < theta.length; i++) {
        const raw = maximize ? -grad[i] : grad[i];
        let g = weightDecay !== 0 ? f(raw + weightDecay * theta[i]) : raw;
        if (buf) {
          buf[i] = first ? g : f(f(buf[i] * momentum) + (1 - dampening) * g);
          g = nesterov ? f(g + momentum * buf[i]) : buf[i];
        }
        theta[i] = theta[i] - lr * g;
      }
    });
  }

  /** Per-parameter state (the momentum buffer, shared, not copied), for checkpoints. */
  stateOf(index: number): Readonly<SGDState> {
    const s = this.state[index];
    if (!s) throw new RangeError(`SGD.stateOf: index ${index} is outside 0..${this.state.length - 1}`);
    return s;
  }
}
