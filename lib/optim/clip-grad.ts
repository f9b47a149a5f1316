// SPDX-License-Identifier: MIT
// clipGradNorm: rescales parameter gradients so their joint norm is at most maxNorm (torch.nn.utils.clip_grad_norm_).
import { checkBool, checkInstance, checkNumber, describe } from '../check';
import { Parameter } from '../modules/parameter';

/**
 * Computes the p-norm of all gradients together (as if concatenated) and, when it exceeds maxNorm,
 * multiplies every gradient by maxNorm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_. Returns
 * the norm before clipping. normType is a positive number or Infinity (largest absolute value).
 * With errorIfNonfinite, a NaN or infinite norm throws before any gradient changes.
 *
 * @example
 * model.backward(lossFn.backward());
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 */
export function clipGradNorm(
  parameters: Iterable<Parameter>,
  maxNorm: number,
  normType = 2,
  errorIfNonfinite = false,
): number {
  if (parameters === null || typeof (parameters as Partial<Iterable<Parameter>>)?.[Symbol.iterator] !== 'function')
    throw new TypeError(`clipGradNorm: parameters must be an iterable of Parameters, got ${describe(parameters)}`);
  const params = [...parameters];
  params.forEach((p, i) => checkInstance(`clipGradNorm: parameters[${i}]`, p, Parameter));
  checkNumber('clipGradNorm: maxNorm', maxNorm, { min: 0 });
  if (typeof normType !== 'number')
    throw new TypeError(`clipGradNorm: normType must be a number, got ${describe(normType)}`);
  if (!(normType > 0)) throw new RangeError(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  checkBool('clipGradNorm: errorIfNonfinite', errorIfNonfinite);
  if (params.length === 0) return 0;

  // Per-parameter norms in float64, then the norm of those norms (PyTorch's two-level reduction).
  const norms = params.map((p) => pNorm(p.grad.data, normType));
  const total = Math.fround(pNorm(norms, normType));
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new RangeError(
      `clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; set errorIfNonfinite false to skip this check`,
    );
  }
  const coef = Math.fround(maxNorm / Math.fround(total + 1e-6));
  if (!(coef >= 1)) {
    // a NaN norm makes every gradient NaN, as in PyTorch
    for (const p of params) {
      const g = p.grad.data;
      for (let i = 0; i < g.length; i++) g[i] *= coef;
    }
  }
  return total;
}

function pNorm(values: ArrayLike<number>, p: number): number {
  let acc = 0;
  if (p === Infinity) {
    for (let i = 0; i < values.length; i++) acc = Math.max(acc, Math.abs(values[i]));
    return acc;
  }
  for (let i = 0; i < values.length; i++) acc += p === 2 ? values[i] * values[i] : Math.abs(values[i]) ** p;
  return p === 2 ? Math.sqrt(acc) : acc ** (1 / p);
}
