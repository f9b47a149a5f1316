// SPDX-License-Identifier: MIT
// SGD: torch.optim.SGD's update (momentum with dampening, Nesterov, L2 weight decay on the gradient).
import { checkBool, checkNumber, checkOptions } from '../check';
import { Parameter } from '../modules/parameter';
import { Optimizer } from './optimizer';

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
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly maximize: boolean;
  private readonly state: SGDState[];

  constructor(params: Iterable<Parameter>, options: SGDOptions) {
    const o = checkOptions('SGD', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize']);
    if (o.lr === undefined || o.lr === null)
      throw new TypeError('SGD: options.lr is required, e.g. new SGD(model.parameters(), { lr: 0.01 })');
    super(params, o.lr, 'SGD');
    this.momentum = checkNumber('SGD: momentum', o.momentum ?? 0, { min: 0 });
    this.dampening = checkNumber('SGD: dampening', o.dampening ?? 0);
    this.nesterov = checkBool('SGD: nesterov', o.nesterov ?? false);
    this.weightDecay = checkNumber('SGD: weightDecay', o.weightDecay ?? 0, { min: 0 });
    this.maximize = checkBool('SGD: maximize', o.maximize ?? false);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError(
        `SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`,
      );
    }
    this.state = this.params.map(() => ({ momentumBuffer: null }));
  }

  step(): void {
    const { lr, momentum, dampening, nesterov, weightDecay, maximize } = this;
    const f = Math.fround;
    this.params.forEach((p, index) => {
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
