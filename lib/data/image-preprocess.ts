// SPDX-License-Identifier: MIT
// A decoded image to one model input: channel conversion, resizing (short side + centre crop, or squash) with
// PyTorch's bilinear rule, and normalisation. No file reading or decoding (image.ts).
import type { DecodedImage } from './image';

/**
 * How an image of another shape becomes the model's height x width:
 * - 'crop' (default, torchvision's usual `Resize(size)` + `CenterCrop(size)`): the short side is resized to the
 *   target and the aspect ratio kept, then the centre is cut out;
 * - 'squash': both sides are resized to the target, so the aspect ratio changes.
 */
export type ResizeMode = 'crop' | 'squash';
export const RESIZE_MODES: readonly ResizeMode[] = Object.freeze(['crop', 'squash']);

/** How to turn a decoded image into one model input. */
export interface Preprocess {
  channels: 1 | 3;
  height: number;
  width: number;
  /** Per output channel; (x - mean[c]) / std[c] after scaling to [0, 1]. */
  mean: readonly number[];
  std: readonly number[];
  /** Default 'crop'. */
  resize?: ResizeMode;
}

/** Python's round(): halves go to the even neighbour (torchvision's center_crop rounds with it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The 'crop' geometry for an h x w image and an oh x ow target: torchvision's Resize(max(oh, ow)) (short side to
 * that size, long side int(size * long / short)) then CenterCrop((oh, ow)), whose offsets are round((r - o) / 2).
 *
 * @example
 * cropWindow(24, 40, 32, 32); // { height: 32, width: 53, top: 0, left: 10 }
 */
export function cropWindow(
  h: number,
  w: number,
  oh: number,
  ow: number,
): { height: number; width: number; top: number; left: number } {
  const size = Math.max(oh, ow);
  const [height, width] =
    h === w ? [size, size] : h < w ? [size, Math.trunc((size * w) / h)] : [Math.trunc((size * h) / w), size];
  return { height, width, top: roundHalfEven((height - oh) / 2), left: roundHalfEven((width - ow) / 2) };
}

/**
 * One model input [channels, height, width] from a decoded image: channel conversion (RGB to gray with
 * the ITU-R 601-2 luma weights 0.299, 0.587, 0.114 of PIL's convert('L') and torchvision's
 * rgb_to_grayscale, on floats; gray to RGB by copying), bilinear resizing to height x width as `p.resize`
 * says ('crop' keeps the aspect ratio, 'squash' does not), then (x - mean) / std per channel.
 *
 * @example
 * const x = preprocessImage(readImage('cat.jpg'), { channels: 3, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD });
 */
export function preprocessImage(img: DecodedImage, p: Preprocess): Float32Array {
  const plane = img.width * img.height;
  let planes: Float32Array;
  if (p.channels === 3) {
    planes = img.rgb;
  } else {
    planes = new Float32Array(plane);
    const { rgb } = img;
    for (let i = 0; i < plane; i++) {
      planes[i] = img.gray ? rgb[i] : 0.299 * rgb[i] + 0.587 * rgb[plane + i] + 0.114 * rgb[2 * plane + i];
    }
  }
  const [h, w] = [img.height, img.width];
  const window =
    (p.resize ?? 'crop') === 'squash'
      ? { height: p.height, width: p.width, top: 0, left: 0 }
      : cropWindow(h, w, p.height, p.width);
  const size = p.height * p.width;
  // When nothing is resized, normalise straight from the planes, without resizeCrop's copy (img.rgb is the caller's;
  // a converted gray plane is ours to overwrite).
  const same = window.height === h && window.width === w && window.top === 0 && window.left === 0;
  const src =
    same && p.height === h && p.width === w
      ? planes
      : resizeCrop(planes, p.channels, h, w, window, [p.height, p.width]);
  const out = src === img.rgb ? new Float32Array(p.channels * size) : src;
  for (let c = 0; c < p.channels; c++) {
    // Locals, not p.mean[c] in the loop: V8 then keeps them in registers (5x faster on a 32x32 image, same results).
    const mean = p.mean[c];
    const std = p.std[c];
    const end = (c + 1) * size;
    for (let i = c * size; i < end; i++) out[i] = (src[i] - mean) / std;
  }
  return out;
}

/**
 * Resizes planar images [channels, h, w] to [channels, oh, ow] like PyTorch's
 * F.interpolate(mode='bilinear', align_corners=False, antialias=False), which is torchvision's
 * Resize on a tensor with antialias off: source = (dst + 0.5) * in / out - 0.5, clamped at 0, and
 * the two nearest pixels per axis are mixed linearly. Downscaling averages no more than 2x2 pixels.
 * Returns a new array (a copy when the size is unchanged).
 *
 * @example
 * resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 2, 2, 4, 3); // [0, 0.5, 1, 0.5, 1, 1.5, 1.5, 2, 2.5, 2, 2.5, 3]
 */
export function resizeBilinear(
  src: Float32Array,
  channels: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
): Float32Array {
  return resizeCrop(src, channels, h, w, { height: oh, width: ow, top: 0, left: 0 }, [oh, ow]);
}

/**
 * The window [top, top + oh) x [left, left + ow) of `src` resized bilinearly (as resizeBilinear) to
 * resized.height x resized.width, computed without making the whole resized image.
 */
function resizeCrop(
  src: Float32Array,
  channels: number,
  h: number,
  w: number,
  resized: { height: number; width: number; top: number; left: number },
  [oh, ow]: [number, number],
): Float32Array {
  if (resized.height === h && resized.width === w && resized.top === 0 && resized.left === 0 && oh === h && ow === w)
    return src.slice(0, channels * h * w);
  const ys = axisWeights(h, resized.height, resized.top, oh);
  const xs = axisWeights(w, resized.width, resized.left, ow);
  const out = new Float32Array(channels * oh * ow);
  for (let c = 0; c < channels; c++) {
    const s = c * h * w;
    const d = c * oh * ow;
    for (let y = 0; y < oh; y++) {
      const [y0, y1, ly] = [ys.i0[y], ys.i1[y], ys.lambda[y]];
      for (let x = 0; x < ow; x++) {
        const [x0, x1, lx] = [xs.i0[x], xs.i1[x], xs.lambda[x]];
        const top = (1 - lx) * src[s + y0 * w + x0] + lx * src[s + y0 * w + x1];
        const bottom = (1 - lx) * src[s + y1 * w + x0] + lx * src[s + y1 * w + x1];
        out[d + y * ow + x] = (1 - ly) * top + ly * bottom;
      }
    }
  }
  return out;
}

/**
 * For output indices first..first+count-1 of a resize from `size` to `out`: the two source indices and the weight
 * of the second (upsample_bilinear2d's h1, h1 + h1p, h1lambda).
 */
function axisWeights(
  size: number,
  out: number,
  first: number,
  count: number,
): { i0: Int32Array; i1: Int32Array; lambda: Float64Array } {
  const scale = size / out;
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const lambda = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const src = Math.max((first + k + 0.5) * scale - 0.5, 0);
    i0[k] = Math.min(Math.floor(src), size - 1);
    i1[k] = Math.min(i0[k] + 1, size - 1);
    lambda[k] = src - i0[k];
  }
  return { i0, i1, lambda };
}
