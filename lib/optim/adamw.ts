// SPDX-License-Identifier: MIT
// AdamW: torch.optim.AdamW's update (decoupled weight decay θ *= 1 - lr wd, then the Adam step).
import { checkNumber } from '../errors';
import { Parameter } from '../modules/parameter';
import { rejectUnknownOptions } from '../modules/options';
import { native } from '../native';
import { Optimizer } from './optimizer';

export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled decay: each step first multiplies the weights by 1 - lr weightDecay. Default 1e-2. */
  weightDecay?: number;
}

interface AdamWState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/**
 * AdamW, matching torch.optim.AdamW (amsgrad off) step for step: θ *= 1 - lr weightDecay, then
 * Adam's bias-corrected update on the raw gradient (the decay never enters the moments).
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 * opt.zeroGrad(); model.backward(lossFn.backward()); opt.step();
 */
export class AdamW extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state: AdamWState[];

  constructor(params: Iterable<Parameter>, options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3, 'AdamW');
    rejectUnknownOptions('AdamW', options, ['lr', 'betas', 'eps', 'weightDecay']);
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new TypeError('AdamW: betas must be a [beta1, beta2] pair');
    this.betas = [checkNumber('AdamW: betas[0]', betas[0], { min: 0, max: 0.999999999 }), checkNumber('AdamW: betas[1]', betas[1], { min: 0, max: 0.999999999 })];
    this.eps = checkNumber('AdamW: eps', options.eps ?? 1e-8, { min: 0 });
    this.weightDecay = checkNumber('AdamW: weightDecay', options.weightDecay ?? 1e-2, { min: 0 });
    this.state = this.params.map((p) => ({ step: 0, expAvg: new Float32Array(p.data.size), expAvgSq: new Float32Array(p.data.size) }));
  }

  step(): void {
    // PyTorch multiplies by the float32 scalar 1 - lr wd before the Adam update.
    const decay = Math.fround(1 - this.lr * this.weightDecay);
    this.params.forEach((p, i) => {
      const s = this.state[i];
      s.step += 1;
      if (p.data.size === 0) return;
      const theta = p.data.data;
      if (decay !== 1) for (let j = 0; j < theta.length; j++) theta[j] *= decay;
      native.adamStep(theta, s.expAvg, s.expAvgSq, p.grad.data, this.lr, this.betas[0], this.betas[1], this.eps, 0, s.step);
    });
  }

  /** Per-parameter state (step count and moment buffers, shared, not copied), for checkpoints. */
  stateOf(index: number): Readonly<AdamWState> {
    const s = this.state[index];
    if (!s) throw new RangeError(`AdamW.stateOf: index ${index} is outside 0..${this.state.length - 1}`);
    return s;
  }
}
