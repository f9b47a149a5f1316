// SPDX-License-Identifier: MIT
// GELU activation, exact (erf) or with PyTorch's tanh approximation, any shape.
import { checkOneOf, checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

export interface GELUOptions {
  /** 'none' (default): x * Phi(x) with the error function; 'tanh': PyTorch's tanh approximation. */
  approximate?: 'none' | 'tanh';
}

const SQRT_HALF = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const TANH_CUBIC = 0.044715;

/**
 * The error function to double precision (JavaScript has none): its Taylor series for |x| < 3, where the terms stay
 * below 200 so little is lost to cancellation, and erfc's continued fraction (60 terms) beyond.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return x;
  if (a < 3) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (a > 10) return Math.sign(x);
  // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated from the tail.
  let k = a;
  for (let n = 60; n >= 1; n--) k = a + n / 2 / k;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / k;
  return Math.sign(x) * (1 - erfc);
}

/**
 * GELU, as torch.nn.GELU: x * Phi(x) with Phi the standard normal CDF (approximate 'none'), or
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate 'tanh'). Backward uses the exact derivative of the
 * chosen form, as PyTorch's.
 *
 * Shape: any -> same.
 *
 * @example
 * new GELU().forward(Tensor.fromArray([1], [1]));                        // [0.8413]
 * new GELU({ approximate: 'tanh' }).forward(Tensor.fromArray([1], [1])); // [0.8412]
 */
export class GELU extends ElementwiseActivation {
  readonly approximate: 'none' | 'tanh';
  protected readonly savesInput = true;

  constructor(options: GELUOptions = {}) {
    super();
    const o = checkOptions('GELU', options, ['approximate']);
    this.approximate = checkOneOf('GELU: approximate', o.approximate ?? 'none', ['none', 'tanh'] as const);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    if (this.approximate === 'tanh') {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        out[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + TANH_CUBIC * v * v * v)));
      }
    } else {
      for (let i = 0; i < x.length; i++) out[i] = 0.5 * x[i] * (1 + erf(x[i] * SQRT_HALF));
    }
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    if (this.approximate === 'tanh') {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        const t = Math.tanh(SQRT_2_OVER_PI * (v + TANH_CUBIC * v * v * v));
        const dinner = SQRT_2_OVER_PI * (1 + 3 * TANH_CUBIC * v * v);
        dx[i] = g[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dinner);
      }
    } else {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        dx[i] = g[i] * (0.5 * (1 + erf(v * SQRT_HALF)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
    }
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}
