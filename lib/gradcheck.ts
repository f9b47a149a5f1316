// SPDX-License-Identifier: MIT
// gradcheck: compares a module's backward() with central finite differences of its forward().
import { checkBool, checkInstance, checkInt, checkNumber, checkOptions } from './check';
import { Module } from './modules/module';
import { Generator } from './random';
import { Tensor } from './tensor/tensor';

export interface GradcheckOptions {
  /** Finite-difference step. Default 1e-2 (float32 forward: smaller steps drown in rounding). */
  eps?: number;
  /** Default 1e-2. */
  rtol?: number;
  /** Default 1e-3. */
  atol?: number;
  /** Check at most this many entries per tensor (spread evenly). Default 64. */
  maxPerTensor?: number;
  /** Also check parameter gradients. Default true. */
  checkParameters?: boolean;
  /** Seed of the random upstream gradient. Default 0. */
  seed?: number;
}

export interface GradcheckMismatch {
  tensor: string; // "input" or a parameter name
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  ok: boolean;
  checked: number;
  maxAbsError: number;
  mismatches: GradcheckMismatch[];
}

/**
 * Checks backward() against finite differences of L = sum(forward(x) * R) for a fixed random R,
 * accumulated in float64. The module must be deterministic and in training mode.
 *
 * @example
 * const r = gradcheck(new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }), x);
 * if (!r.ok) console.log(r.mismatches);
 */
export function gradcheck(module: Module, input: Tensor, options: GradcheckOptions = {}): GradcheckResult {
  checkInstance('gradcheck: module', module, Module);
  checkInstance('gradcheck: input', input, Tensor);
  const o = checkOptions('gradcheck', options, ['eps', 'rtol', 'atol', 'maxPerTensor', 'checkParameters', 'seed']);
  const eps = checkNumber('gradcheck: eps', o.eps ?? 1e-2, { minExclusive: 0 });
  const rtol = checkNumber('gradcheck: rtol', o.rtol ?? 1e-2, { min: 0 });
  const atol = checkNumber('gradcheck: atol', o.atol ?? 1e-3, { min: 0 });
  const maxPer = checkInt('gradcheck: maxPerTensor', o.maxPerTensor ?? 64, 1);
  const checkParameters = checkBool('gradcheck: checkParameters', o.checkParameters ?? true);
  const rng = new Generator(checkInt('gradcheck: seed', o.seed ?? 0, 0));

  const x = input.clone();
  const out = module.forward(x);
  const r = new Float32Array(out.size).map(() => rng.uniform(-1, 1));
  const objective = (): number => {
    const y = module.forward(x).data;
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] * r[i];
    return sum;
  };

  module.zeroGrad();
  module.forward(x);
  const dinput = module.backward(new Tensor(r.slice(), out.shape));
  const targets: [string, Float32Array, Float32Array][] = [['input', x.data, dinput.data]];
  if (checkParameters) {
    for (const [name, p] of module.namedParameters()) targets.push([name, p.data.data, p.grad.data.slice()]);
  }

  const result: GradcheckResult = { ok: true, checked: 0, maxAbsError: 0, mismatches: [] };
  for (const [name, values, analytic] of targets) {
    const step = Math.max(1, Math.floor(values.length / maxPer));
    for (let i = 0; i < values.length; i += step) {
      const saved = values[i];
      values[i] = saved + eps;
      const plus = objective();
      values[i] = saved - eps;
      const minus = objective();
      values[i] = saved;
      // The perturbed value is rounded to float32: divide by the step actually taken.
      const taken = Math.fround(saved + eps) - Math.fround(saved - eps);
      const numeric = (plus - minus) / taken;
      const err = Math.abs(numeric - analytic[i]);
      result.checked++;
      result.maxAbsError = Math.max(result.maxAbsError, err);
      if (err > atol + rtol * Math.abs(numeric)) {
        result.ok = false;
        result.mismatches.push({ tensor: name, index: i, analytic: analytic[i], numeric });
      }
    }
  }
  return result;
}
