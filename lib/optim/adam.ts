// SPDX-License-Identifier: MIT
// Adam: torch.optim.Adam's update (bias correction, eps outside the sqrt, L2 weight decay on the gradient).
import { checkArray, checkNumber, checkOptions } from '../check';
import { Parameter } from '../modules/parameter';
import { native } from '../native';
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

export interface AdamState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

/** How weight decay enters the update: Adam's L2 term on the gradient, or AdamW's decoupled decay. */
export interface AdamVariant {
  name: string;
  defaultWeightDecay: number;
  decoupled: boolean;
}

const ADAM: AdamVariant = Object.freeze({ name: 'Adam', defaultWeightDecay: 0, decoupled: false });

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

  private readonly variant: AdamVariant;

  /** `variant` is for subclasses (AdamW); users pass params and options only. */
  constructor(params: Iterable<Parameter>, options: AdamOptions = {}, variant: AdamVariant = ADAM) {
    const name = variant.name;
    const o = checkOptions(name, options, ['lr', 'betas', 'eps', 'weightDecay']);
    super(params, o.lr ?? 1e-3, name);
    const betas = checkArray(`${name}: betas`, o.betas ?? [0.9, 0.999], 2);
    // PyTorch: 0 <= beta < 1.
    this.betas = [
      checkNumber(`${name}: betas[0]`, betas[0], { min: 0, maxExclusive: 1 }),
      checkNumber(`${name}: betas[1]`, betas[1], { min: 0, maxExclusive: 1 }),
    ];
    this.eps = checkNumber(`${name}: eps`, o.eps ?? 1e-8, { min: 0 });
    this.weightDecay = checkNumber(`${name}: weightDecay`, o.weightDecay ?? variant.defaultWeightDecay, { min: 0 });
    this.variant = variant;
    this.state = this.params.map((p) => ({
      step: 0,
      expAvg: new Float32Array(p.data.size),
      expAvgSq: new Float32Array(p.data.size),
    }));
  }

  step(): void {
    // AdamW: PyTorch multiplies by the float32 scalar 1 - lr wd before the Adam update.
    const decay = this.variant.decoupled ? Math.fround(1 - this.lr * this.weightDecay) : 1;
    const l2 = this.variant.decoupled ? 0 : this.weightDecay;
    this.params.forEach((p, i) => {
      const s = this.state[i];
      s.step += 1;
      if (p.data.size === 0) return;
      const theta = p.data.data;
      if (decay !== 1) for (let j = 0; j < theta.length; j++) theta[j] *= decay;
      native.adamStep(
        theta,
        s.expAvg,
        s.expAvgSq,
        p.grad.data,
        this.lr,
        this.betas[0],
        this.betas[1],
        this.eps,
        l2,
        s.step,
      );
    });
  }

  /** Per-parameter state (step count and moment buffers, shared, not copied), for checkpoints. */
  stateOf(index: number): Readonly<AdamState> {
    const s = this.state[index];
    if (!s) throw new RangeError(`${this.variant.name}.stateOf: index ${index} is outside 0..${this.state.length - 1}`);
    return s;
  }
}
