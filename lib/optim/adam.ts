// SPDX-License-Identifier: MIT
// Adam: torch.optim.Adam's update (bias correction, eps outside the sqrt, L2 weight decay on the gradient, AMSGrad,
// maximize).
import { checkArray, checkBool, checkNumber } from '../check';
import { Parameter } from '../modules/parameter';
import { native } from '../native';
import { Optimizer, type OptionsSpec, type ParamGroupInput } from './optimizer';

export interface AdamOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient (not decoupled; see AdamW for that). Default 0. */
  weightDecay?: number;
  /** AMSGrad: divide by the running maximum of the second moment (PyTorch's max_exp_avg_sq). Default false. */
  amsgrad?: boolean;
  /** Maximise the objective: step along the gradient instead of against it. Default false. */
  maximize?: boolean;
}

export interface AdamState {
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
  /** AMSGrad's running maximum of expAvgSq (null without amsgrad). */
  maxExpAvgSq: Float32Array | null;
}

/** How weight decay enters the update: Adam's L2 term on the gradient, or AdamW's decoupled decay. */
export interface AdamVariant {
  name: string;
  defaultWeightDecay: number;
  decoupled: boolean;
}

/** A parameter group for Adam or AdamW: its parameters and the options that differ from the constructor's. */
export type AdamParamGroup = ParamGroupInput<AdamOptions>;

/** The option checks of Adam and AdamW (which differ in weightDecay's default). */
function adamSpec(variant: AdamVariant): OptionsSpec<Required<AdamOptions>> {
  return {
    keys: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
    resolve(what, o) {
      const lr = checkNumber(`${what}: lr`, o.lr ?? 1e-3, { min: 0 });
      const betas = checkArray(`${what}: betas`, o.betas ?? [0.9, 0.999], 2);
      return {
        lr,
        // PyTorch: 0 <= beta < 1.
        betas: [
          checkNumber(`${what}: betas[0]`, betas[0], { min: 0, maxExclusive: 1 }),
          checkNumber(`${what}: betas[1]`, betas[1], { min: 0, maxExclusive: 1 }),
        ],
        eps: checkNumber(`${what}: eps`, o.eps ?? 1e-8, { min: 0 }),
        weightDecay: checkNumber(`${what}: weightDecay`, o.weightDecay ?? variant.defaultWeightDecay, { min: 0 }),
        amsgrad: checkBool(`${what}: amsgrad`, o.amsgrad ?? false),
        maximize: checkBool(`${what}: maximize`, o.maximize ?? false),
      };
    },
  };
}

const ADAM: AdamVariant = Object.freeze({ name: 'Adam', defaultWeightDecay: 0, decoupled: false });

/**
 * Adam, matching torch.optim.Adam step for step (amsgrad and maximize included; PyTorch's single-tensor CPU path).
 *
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad(); model.backward(lossFn.backward()); opt.step();
 */
export class Adam extends Optimizer<Required<AdamOptions>> {
  /** The constructor's options (the defaults of groups that do not override them); groups' own: paramGroups. */
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
  private readonly state: AdamState[];
  /** With maximize: the negated gradients the native step reads (PyTorch does not change param.grad either). */
  private readonly negated: (Float32Array | null)[];

  private readonly variant: AdamVariant;

  /**
   * `params`: model.parameters(), or groups `{ params, ...options }` whose options override `options`. `variant` is for
   * subclasses (AdamW); users pass params and options only.
   */
  constructor(
    params: Iterable<Parameter> | Iterable<AdamParamGroup>,
    options: AdamOptions = {},
    variant: AdamVariant = ADAM,
  ) {
    super(variant.name, params, options, adamSpec(variant));
    ({
      betas: this.betas,
      eps: this.eps,
      weightDecay: this.weightDecay,
      amsgrad: this.amsgrad,
      maximize: this.maximize,
    } = this.defaults);
    this.variant = variant;
    this.state = [];
    this.negated = [];
    this.forEachParam((p, group, i) => {
      const size = p.data.size;
      this.state[i] = {
        step: 0,
        expAvg: new Float32Array(size),
        expAvgSq: new Float32Array(size),
        maxExpAvgSq: group.amsgrad ? new Float32Array(size) : null,
      };
      this.negated[i] = group.maximize && !group.amsgrad ? new Float32Array(size) : null;
    });
  }

  step(): void {
    const { decoupled } = this.variant;
    this.forEachParam((p, group, i) => {
      const { lr, betas, eps, weightDecay } = group;
      const s = this.state[i];
      s.step += 1;
      if (p.data.size === 0) return;
      const theta = p.data.data;
      // AdamW: PyTorch multiplies by the float32 scalar 1 - lr wd before the Adam update.
      const decay = decoupled ? Math.fround(1 - lr * weightDecay) : 1;
      const l2 = decoupled ? 0 : weightDecay;
      if (decay !== 1) for (let j = 0; j < theta.length; j++) theta[j] *= decay;
      if (s.maxExpAvgSq) {
        amsgradStep(theta, s, p.grad.data, group, l2);
        return;
      }
      let grad = p.grad.data;
      const neg = this.negated[i];
      if (neg) {
        for (let j = 0; j < grad.length; j++) neg[j] = -grad[j];
        grad = neg;
      }
      native.adamStep(theta, s.expAvg, s.expAvgSq, grad, lr, betas[0], betas[1], eps, l2, s.step);
    });
  }

  /** Per-parameter state (step count and moment buffers, shared, not copied), for checkpoints. */
  stateOf(index: number): Readonly<AdamState> {
    const s = this.state[index];
    if (!s) throw new RangeError(`${this.variant.name}.stateOf: index ${index} is outside 0..${this.state.length - 1}`);
    return s;
  }
}

/**
 * One AMSGrad step in float32, operation for operation as torch/optim/adam.py's _single_tensor_adam (the native kernel
 * has no running maximum): g = ±grad + wd θ; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g²; vmax = max(vmax, v);
 * θ -= lr / (1 - b1^t) m / (sqrt(vmax) / sqrt(1 - b2^t) + eps).
 */
function amsgradStep(
  theta: Float32Array,
  s: AdamState,
  grad: Float32Array,
  o: { lr: number; betas: readonly [number, number]; eps: number; maximize: boolean },
  l2: number,
): void {
  const f = Math.fround;
  const [beta1, beta2] = o.betas;
  // Scalars in double, as PyTorch computes them in Python floats.
  const stepSize = f(o.lr / (1 - beta1 ** s.step));
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** s.step));
  const [b1, b2, c1, c2] = [f(beta1), f(beta2), f(1 - beta1), f(1 - beta2)];
  const [wd, eps] = [f(l2), f(o.eps)];
  const { expAvg: m, expAvgSq: v } = s;
  const vmax = s.maxExpAvgSq!;
  for (let i = 0; i < theta.length; i++) {
    let g = o.maximize ? -grad[i] : grad[i];
    if (wd !== 0) g = f(g + f(wd * theta[i]));
    m[i] = f(f(m[i] * b1) + f(c1 * g));
    v[i] = f(f(v[i] * b2) + f(f(c2 * g) * g));
    if (v[i] > vmax[i]) vmax[i] = v[i];
    const denom = f(f(f(Math.sqrt(vmax[i])) / bc2Sqrt) + eps);
    theta[i] = f(theta[i] - f(stepSize * f(m[i] / denom)));
  }
}
