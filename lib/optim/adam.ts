// SPDX-License-Identifier: MIT
// Adam: torch.optim.Adam's update (bias correction, eps outside the sqrt, L2 weight decay on the gradient).
import { checkNumber } from '../errors';
import { Parameter } from '../modules/parameter';
import { native } from '../native';
import { rejectUnknownOptions } from '../modules/options';
import { Optimizer } from './optimizer';

export interface AdamOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (not decoupled; see AdamW for that). Default 0. */
  weightDecay?: number;
}

interface AdamState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/**
 * Adam, matching torch.optim.Adam (amsgrad off) step for step.
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad(); model.backward(lossFn.backward()); opt.step();
 */
export class Adam extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state: AdamState[];

  constructor(params: Iterable<Parameter>, options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3, 'Adam');
    rejectUnknownOptions('Adam', options, ['lr', 'betas', 'eps', 'weightDecay']);
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError('Adam: betas must be a [beta1, beta2] pair');
    this.betas = [checkNumber('Adam: betas[0]', betas[0], { min: 0, max: 0.999999999 }), checkNumber('Adam: betas[1]', betas[1], { min: 0, max: 0.999999999 })];
    this.eps = checkNumber('Adam: eps', options.eps ?? 1e-8, { min: 0 });
    this.weightDecay = checkNumber('Adam: weightDecay', options.weightDecay ?? 0, { min: 0 });
    this.state = this.params.map((p) => ({ step: 0, expAvg: new Float32Array(p.data.size), expAvgSq: new Float32Array(p.data.size) }));
  }

  step(): void {
    this.params.forEach((p, i) => {
      const s = this.state[i];
      s.step += 1;
      if (p.data.size === 0) return;
      native.adamStep(p.data.data, s.expAvg, s.expAvgSq, p.grad.data, this.lr, this.betas[0], this.betas[1], this.eps, this.weightDecay, s.step);
    });
  }

  /** Per-parameter state (step count and moment buffers, shared, not copied), for checkpoints. */
  stateOf(index: number): Readonly<AdamState> {
    const s = this.state[index];
    if (!s) throw new RangeError(`Adam.stateOf: index ${index} is outside 0..${this.state.length - 1}`);
    return s;
  }
}
