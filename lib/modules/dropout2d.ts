// SPDX-License-Identifier: MIT
// Dropout2d: zeroes whole channels with probability p in training (scaling the rest by 1/(1-p)); identity in eval. The
// mask, generator and backward are dropout-base.ts's.
import { ShapeError } from '../errors';
import { formatShape } from '../tensor/shape';
import { DropoutBase, type DropoutOptions } from './dropout-base';

/**
 * Channel dropout, as torch.nn.Dropout2d: in training mode each channel of each sample (a whole H x W plane) is zeroed
 * with probability p and the others are multiplied by 1/(1-p); backward applies the same mask. Input [N, C, H, W], or
 * [N, C, L] (one mask value per (sample, channel), as PyTorch does for 3-D input). In eval mode, in predict() and when
 * p = 0 it returns its input unchanged; p = 1 gives zeros. The masks are seeded but are not PyTorch's random stream.
 * Options as Dropout's: p (default 0.5), generator. (`inplace` is not supported.)
 *
 * Shape: [N, C, H, W] -> same, [N, C, L] -> same.
 *
 * @example
 * const drop = new Dropout2d({ p: 0.1 });
 * const y = drop.forward(x); // training: about 1 channel in 10 all zeros, the rest x / 0.9
 */
export class Dropout2d extends DropoutBase {
  constructor(options: DropoutOptions = {}) {
    super('Dropout2d', options);
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3 && inputShape.length !== 4)
      throw new ShapeError(
        `Dropout2d: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got ${formatShape(inputShape)}`,
      );
    return [...inputShape];
  }

  /** One value per (sample, channel). */
  protected maskShape(shape: readonly number[]): readonly number[] {
    return [shape[0], shape[1]];
  }

  protected applyMask(out: Float32Array, a: Float32Array, mask: Float32Array): void {
    scalePlanes(out, a, mask);
  }
}

/** out = a * mask[plane] for each of mask.length equal planes (out may be a). */
function scalePlanes(out: Float32Array, a: Float32Array, mask: Float32Array): void {
  const size = a.length / mask.length;
  for (let p = 0; p < mask.length; p++) {
    const m = mask[p];
    for (let i = p * size; i < (p + 1) * size; i++) out[i] = a[i] * m;
  }
}
