// SPDX-License-Identifier: MIT
// A Conv1d or Conv2d layer as the dense matrix A of y = A x (numeric or symbolic), for teaching and tests; not a fast path.
import { describe } from '../check';
import { ShapeError } from '../errors';
import { checkShape, formatShape, shapeSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { Conv1d } from './conv1d';
import { Conv2d } from './conv2d';

/** The largest matrix built (entries): 2^24 floats are 64 MB. */
const MAX_ENTRIES = 2 ** 24;
const MAX_SYMBOLIC_ENTRIES = 2 ** 20;

/** A convolution's geometry in 2-D form (a Conv1d is a Conv2d with height 1). */
interface Geometry {
  dims: 1 | 2;
  inChannels: number;
  outChannels: number;
  groups: number;
  input: [number, number];
  output: [number, number];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  weight: Float32Array;
}

function geometry(what: string, layer: Conv1d | Conv2d, inputShape: readonly number[]): Geometry {
  if (!(layer instanceof Conv1d) && !(layer instanceof Conv2d)) {
    throw new TypeError(`${what}: layer must be a Conv1d or Conv2d, got ${describe(layer)}`);
  }
  if (layer.paddingMode !== 'zeros' && layer.pads.before.concat(layer.pads.after).some((p) => p !== 0)) {
    throw new RangeError(`${what}: paddingMode '${layer.paddingMode}' is not supported (zero padding only)`);
  }
  const dims = layer instanceof Conv1d ? 1 : 2;
  let shape = checkShape(`${what}: inputShape`, inputShape);
  if (shape.length === dims + 2 && shape[0] === 1) shape = shape.slice(1); // a batch of one
  if (shape.length !== dims + 1) {
    const want = dims === 1 ? '[C, L]' : '[C, H, W]';
    throw new ShapeError(
      `${what}: inputShape must be one sample's shape ${want} (or with a leading batch of 1), got ${formatShape(inputShape)}`,
    );
  }
  const out = layer.outputShape([1, ...shape]); // validates channels and sizes
  if (layer instanceof Conv1d) {
    return {
      dims,
      inChannels: layer.inChannels,
      outChannels: layer.outChannels,
      groups: layer.groups,
      input: [1, shape[1]],
      output: [1, out[2]],
      kernel: [1, layer.kernelSize],
      stride: [1, layer.stride],
      padding: [0, layer.pads.before[0]],
      dilation: [1, layer.dilation],
      weight: layer.weight.data.data,
    };
  }
  return {
    dims,
    inChannels: layer.inChannels,
    outChannels: layer.outChannels,
    groups: layer.groups,
    input: [shape[1], shape[2]],
    output: [out[2], out[3]],
    kernel: layer.kernelSize,
    stride: layer.stride,
    padding: [layer.pads.before[0], layer.pads.before[1]],
    dilation: layer.dilation,
    weight: layer.weight.data.data,
  };
}

function matrixSize(what: string, g: Geometry, limit: number): [number, number] {
  const rows = g.outChannels * g.output[0] * g.output[1];
  const cols = g.inChannels * g.input[0] * g.input[1];
  if (rows * cols > limit) {
    throw new RangeError(
      `${what}: the matrix would be ${rows} x ${cols}; at most ${limit} entries are built (use a smaller input)`,
    );
  }
  return [rows, cols];
}

/**
 * Calls `visit` once per nonzero entry of A: row (output index, channel-major), column (input index),
 * the weight's flat index, output channel j, input channel i and the kernel taps (0-based).
 * Distinct taps of one output position read distinct inputs, so no entry is visited twice.
 */
function forEachTap(
  g: Geometry,
  visit: (row: number, col: number, w: number, j: number, i: number, ky: number, kx: number) => void,
): void {
  const [h, w] = g.input;
  const [oh, ow] = g.output;
  const [kh, kw] = g.kernel;
  const inPerGroup = g.inChannels / g.groups;
  const outPerGroup = g.outChannels / g.groups;
  for (let j = 0; j < g.outChannels; j++) {
    const firstIn = Math.floor(j / outPerGroup) * inPerGroup;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const row = (j * oh + oy) * ow + ox;
        for (let il = 0; il < inPerGroup; il++) {
          const i = firstIn + il;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * g.stride[0] - g.padding[0] + ky * g.dilation[0];
            if (iy < 0 || iy >= h) continue; // a zero of the padding
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * g.stride[1] - g.padding[1] + kx * g.dilation[1];
              if (ix < 0 || ix >= w) continue;
              visit(row, (i * h + iy) * w + ix, ((j * inPerGroup + il) * kh + ky) * kw + kx, j, i, ky, kx);
            }
          }
        }
      }
    }
  }
}

/**
 * The dense matrix A with y = A x (+ bias, which A excludes: see toBiasVector) for one sample of
 * shape `inputShape` ([C, L] for Conv1d, [C, H, W] for Conv2d; a leading batch of 1 is allowed).
 * x and y are flattened channel-major (C, then H, then W), so A is [outputSize, inputSize].
 * Backward is its transpose: dL/dx = A^T dL/dy. Values are the layer's current weights.
 *
 * @example
 * const conv = new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false });
 * const a = toMatrix(conv, [2, 4]); // Tensor [4, 8]: 2 output channels x 2 positions, 2 input channels x 4 positions
 */
export function toMatrix(layer: Conv1d | Conv2d, inputShape: readonly number[]): Tensor {
  const g = geometry('toMatrix', layer, inputShape);
  const [rows, cols] = matrixSize('toMatrix', g, MAX_ENTRIES);
  const a = Tensor.zeros([rows, cols]);
  forEachTap(g, (row, col, w) => {
    a.data[row * cols + col] = g.weight[w];
  });
  return a;
}

/**
 * The bias as a vector b with y = A x + b ([outputSize]: bias[j] repeated over output channel j's
 * positions), or null for a layer without bias.
 *
 * @example
 * const b = toBiasVector(new Conv1d({ inChannels: 1, outChannels: 2, kernelSize: 3 }), [1, 5]); // [6]
 */
export function toBiasVector(layer: Conv1d | Conv2d, inputShape: readonly number[]): Tensor | null {
  const g = geometry('toBiasVector', layer, inputShape);
  if (!layer.bias) return null;
  const per = g.output[0] * g.output[1];
  const b = Tensor.zeros([g.outChannels * per]);
  for (let j = 0; j < g.outChannels; j++) b.data.fill(layer.bias.data.data[j], j * per, (j + 1) * per);
  return b;
}

/**
 * The name of one weight in the notation `simdnet explain conv` prints, from 0-based indices: kernel tap(s),
 * input channel i, output channel j. 1-D: "w1(1>2)" (tap 1 from input channel 1 to output channel 2);
 * 2-D: "w1,3(2>1)" (row tap 1, column tap 3).
 *
 * @example
 * weightSymbol([2], 0, 1); // "w3(1>2)"
 */
export function weightSymbol(taps: readonly number[], i: number, j: number): string {
  return `w${taps.map((t) => t + 1).join(',')}(${i + 1}>${j + 1})`;
}

/**
 * A as strings: each entry is the weight it holds, named by weightSymbol ("w2(1>1)"), or "0".
 * Rows and columns as in toMatrix; the symbols depend only on the layer's shape, not its values.
 *
 * @example
 * toSymbolicMatrix(new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false }), [2, 4])[0];
 * // ["w1(1>1)", "w2(1>1)", "w3(1>1)", "0", "w1(2>1)", "w2(2>1)", "w3(2>1)", "0"]
 */
export function toSymbolicMatrix(layer: Conv1d | Conv2d, inputShape: readonly number[]): string[][] {
  const g = geometry('toSymbolicMatrix', layer, inputShape);
  const [rows, cols] = matrixSize('toSymbolicMatrix', g, MAX_SYMBOLIC_ENTRIES);
  const a = Array.from({ length: rows }, () => new Array<string>(cols).fill('0'));
  forEachTap(g, (row, col, _w, j, i, ky, kx) => {
    a[row][col] = weightSymbol(g.dims === 1 ? [kx] : [ky, kx], i, j);
  });
  return a;
}

/**
 * The shape of A without building it: [outputSize, inputSize] of one sample.
 *
 * @example
 * matrixShape(new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3 }), [2, 4]); // [4, 8]
 */
export function matrixShape(layer: Conv1d | Conv2d, inputShape: readonly number[]): [number, number] {
  const g = geometry('matrixShape', layer, inputShape);
  return [g.outChannels * shapeSize(g.output), g.inChannels * shapeSize(g.input)];
}
