// SPDX-License-Identifier: MIT
// AdaptiveMaxPool2d: max pooling to a fixed output size (PyTorch's windows), forward and backward in TypeScript.
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { adaptiveWindows, checkAdaptiveOutputSize, type AdaptiveSize } from './adaptive-avg-pool2d';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

export interface AdaptiveMaxPool2dOptions {
  /** Output [h, w]; one number for both; a null entry keeps that input size. */
  outputSize: number | readonly [AdaptiveSize, AdaptiveSize];
}

/**
 * Adaptive max pooling, as torch.nn.AdaptiveMaxPool2d: output cell i of an axis of length `in` takes the maximum of
 * input [floor(i * in / out), ceil((i + 1) * in / out)) (windows overlap when `out` does not divide `in`). The gradient
 * goes to the first maximum of each window in row-major order (a NaN counts as the maximum, the last one wins), as
 * PyTorch's CPU kernel. Accepts the output size or an options object.
 *
 * Shape: [N, C, H, W] -> [N, C, outputSize[0] ?? H, outputSize[1] ?? W].
 *
 * @example
 * const gmp = new AdaptiveMaxPool2d(1);           // global max pooling: [N, C, 1, 1]
 * const grid = new AdaptiveMaxPool2d([3, 2]);     // [N, C, 3, 2]
 */
export class AdaptiveMaxPool2d extends Module {
  readonly outputSize: readonly [AdaptiveSize, AdaptiveSize];
  private savedShape: readonly number[] | null = null;
  /** The argmax (index in its plane) of each output value of the last forward. */
  private argmax: Int32Array | null = null;

  constructor(options: AdaptiveMaxPool2dOptions | number | readonly [AdaptiveSize, AdaptiveSize]) {
    super();
    this.outputSize = checkAdaptiveOutputSize('AdaptiveMaxPool2d', options);
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('AdaptiveMaxPool2d: input', inputShape, [-1, -1, -1, -1]);
    return [inputShape[0], inputShape[1], this.outputSize[0] ?? inputShape[2], this.outputSize[1] ?? inputShape[3]];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const shape = this.outputShape(input.shape);
    const out = this.scratch('out', shape, ctx.reuse);
    const [n, c, h, w] = input.shape;
    const [oh, ow] = [shape[2], shape[3]];
    const [rows, cols] = adaptiveWindows(h, w, oh, ow);
    const keep = ctx.keepState !== false;
    const argmax = keep ? new Int32Array(out.size) : null;
    const x = input.data;
    const y = out.data;
    for (let plane = 0; plane < n * c; plane++) {
      const base = plane * h * w;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let best = rows.start[i] * w + cols.start[j];
          let max = -Infinity;
          for (let r = rows.start[i]; r < rows.end[i]; r++) {
            for (let q = cols.start[j]; q < cols.end[j]; q++) {
              const v = x[base + r * w + q];
              if (v > max || Number.isNaN(v)) {
                max = v;
                best = r * w + q;
              }
            }
          }
          const o = (plane * oh + i) * ow + j;
          y[o] = max;
          if (argmax) argmax[o] = best;
        }
      }
    }
    if (keep) {
      this.savedShape = input.shape;
      this.argmax = argmax;
    }
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const shape = requireSaved(this.savedShape, 'AdaptiveMaxPool2d');
    const outShape = this.outputShape(shape);
    expectShape('AdaptiveMaxPool2d.backward: doutput', doutput.shape, outShape);
    if (!ctx.inputGrad) return null;
    const dinput = this.scratch('dinput', shape, ctx.reuse, true);
    const argmax = this.argmax!;
    const plane = shape[2] * shape[3];
    const perPlane = outShape[2] * outShape[3];
    const g = doutput.data;
    const dx = dinput.data;
    for (let o = 0; o < g.length; o++) dx[Math.floor(o / perPlane) * plane + argmax[o]] += g[o];
    return dinput;
  }

  override extraRepr(): string {
    const [h, w] = this.outputSize;
    return `outputSize=[${h === null ? 'null' : h}, ${w === null ? 'null' : w}]`;
  }
}
