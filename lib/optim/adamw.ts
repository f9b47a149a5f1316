// SPDX-License-Identifier: MIT
// AdamW: torch.optim.AdamW's update (decoupled weight decay θ *= 1 - lr wd, then the Adam step).
import { Parameter } from '../modules/parameter';
import { Adam, type AdamParamGroup, type AdamVariant } from './adam';

export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled decay: each step first multiplies the weights by 1 - lr weightDecay. Default 1e-2. */
  weightDecay?: number;
  /** AMSGrad (PyTorch's amsgrad). Default false. */
  amsgrad?: boolean;
  /** Maximise the objective. Default false. */
  maximize?: boolean;
}

const ADAMW: AdamVariant = Object.freeze({ name: 'AdamW', defaultWeightDecay: 1e-2, decoupled: true });

/**
 * AdamW, matching torch.optim.AdamW step for step (amsgrad and maximize included): θ *= 1 - lr weightDecay, then
 * Adam's bias-corrected update on the raw gradient (the decay never enters the moments).
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 * opt.zeroGrad(); model.backward(lossFn.backward()); opt.step();
 */
export class AdamW extends Adam {
  /** `params`: model.parameters(), or groups `{ params, ...options }` whose options override `options`. */
  constructor(params: Iterable<Parameter> | Iterable<AdamParamGroup>, options: AdamWOptions = {}) {
    super(params, options, ADAMW);
  }
}
