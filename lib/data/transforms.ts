// SPDX-License-Identifier: MIT
// In-place augmentations of one CHW sample (random crop with padding, horizontal flip, cutout) and compose(); no
// normalisation.
import { checkInt, checkNumber, describe } from '../check';
import { ShapeError } from '../errors';
import { formatShape } from '../tensor/shape';
import type { Generator } from '../random';

/**
 * Changes one sample in place. `image` holds C*H*W floats (CHW), `shape` is [C, H, W], `rng` is the
 * generator the DataLoader derives from (seed, epoch, batch), so augmentations are reproducible.
 * A transform cannot change the sample's shape.
 */
export type Transform = (image: Float32Array, shape: readonly number[], rng: Generator) => void;

/**
 * Pads each side by `padding` zeros, then crops a random `size` x `size` window (torchvision
 * `RandomCrop(size, padding)` with constant 0 fill). Since the crop writes back in place, `size` must equal
 * the sample's H and W. The DataLoader applies transforms after the dataset's normalisation, so 0 here is the
 * channel mean (torchvision pads before normalising, with black, which normalises to about -2): a small,
 * deliberate difference. The offsets are drawn top first, then left, each uniform over 0..2*padding.
 *
 * @example
 * new DataLoader(train, { transform: compose(randomCrop(32, 4), randomHorizontalFlip()) });
 */
export function randomCrop(size: number, padding = 0): Transform {
  checkInt('randomCrop: size', size, 1);
  checkInt('randomCrop: padding', padding, 0);
  let scratch = new Float32Array(0);
  return (image, shape, rng) => {
    const [c, h, w] = checkSample('randomCrop', image, shape);
    if (h !== size || w !== size) {
      throw new ShapeError(
        `randomCrop: size ${size} must equal the sample's H and W (in-place crop), got shape ${formatShape(shape)}`,
      );
    }
    // Window top-left in padded coordinates, so the source pixel of (y, x) is (y + top - padding, x + left - padding).
    const top = rng.randint(h + 2 * padding - size + 1);
    const left = rng.randint(w + 2 * padding - size + 1);
    const dy = top - padding;
    const dx = left - padding;
    if (dy === 0 && dx === 0) return;
    if (scratch.length < image.length) scratch = new Float32Array(image.length);
    scratch.set(image);
    for (let ch = 0; ch < c; ch++) {
      const plane = ch * h * w;
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        const row = plane + y * w;
        if (sy < 0 || sy >= h) {
          image.fill(0, row, row + w);
          continue;
        }
        const srow = plane + sy * w;
        for (let x = 0; x < w; x++) {
          const sx = x + dx;
          image[row + x] = sx >= 0 && sx < w ? scratch[srow + sx] : 0;
        }
      }
    }
  };
}

/** Mirrors the sample left-right with probability `p` (torchvision `RandomHorizontalFlip`). Draws one number per call. */
export function randomHorizontalFlip(p = 0.5): Transform {
  checkNumber('randomHorizontalFlip: p', p, { min: 0, max: 1 });
  return (image, shape, rng) => {
    const [, , w] = checkSample('randomHorizontalFlip', image, shape);
    if (rng.random() < p) mirrorRows(image, w);
  };
}

/**
 * Mirrors every row of `width` values of `data` in place: one CHW image, or a whole NCHW batch (its rows are N*C*H
 * rows of W). `data.length` must be a multiple of `width`.
 */
export function mirrorRows(data: Float32Array, width: number): void {
  for (let row = 0; row < data.length; row += width) {
    for (let a = row, b = row + width - 1; a < b; a++, b--) {
      const t = data[a];
      data[a] = data[b];
      data[b] = t;
    }
  }
}

/**
 * Cutout (DeVries & Taylor 2017): zeroes a `size` x `size` square of every channel, centred on a pixel drawn uniformly
 * over the image (row first, then column), so near an edge the square is clipped and covers less. Draws two numbers per
 * call. After the DataLoader's normalisation 0 is the channel mean, as in the paper's code (which masks normalised
 * images). Put it after the crop and flip, as the paper does.
 *
 * @example
 * new DataLoader(train, { transform: compose(randomCrop(32, 4), randomHorizontalFlip(), cutout(16)) });
 */
export function cutout(size: number): Transform {
  checkInt('cutout: size', size, 1);
  return (image, shape, rng) => {
    const [c, h, w] = checkSample('cutout', image, shape);
    const cy = rng.randint(h);
    const cx = rng.randint(w);
    // The square's rows [y0, y1) and columns [x0, x1): size pixels starting size/2 before the centre, clipped.
    const y0 = Math.max(0, cy - (size >> 1));
    const y1 = Math.min(h, cy - (size >> 1) + size);
    const x0 = Math.max(0, cx - (size >> 1));
    const x1 = Math.min(w, cx - (size >> 1) + size);
    for (let ch = 0; ch < c; ch++) {
      for (let y = y0; y < y1; y++) image.fill(0, (ch * h + y) * w + x0, (ch * h + y) * w + x1);
    }
  };
}

/** Applies `transforms` in order. */
export function compose(...transforms: Transform[]): Transform {
  transforms.forEach((t, i) => {
    if (typeof t !== 'function')
      throw new TypeError(`compose: argument ${i} must be a transform function, got ${describe(t)}`);
  });
  return (image, shape, rng) => {
    for (const t of transforms) t(image, shape, rng);
  };
}

function checkSample(what: string, image: Float32Array, shape: readonly number[]): [number, number, number] {
  if (shape.length !== 3) throw new ShapeError(`${what}: expected a [C, H, W] sample shape, got ${formatShape(shape)}`);
  const [c, h, w] = shape;
  if (image.length !== c * h * w)
    throw new ShapeError(`${what}: image length ${image.length} != C*H*W of ${formatShape(shape)}`);
  return [c, h, w];
}
