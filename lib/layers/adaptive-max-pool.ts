// SPDX-License-Identifier: MIT
// AdaptiveMaxPool2d: spec type, MACs (0), ONNX (GlobalMaxPool, or MaxPool when the output divides the input) both ways
// and the program's max-pool op for those windows.
import { POOL_2D } from '../io/onnx-import-conv';
import type { NodeContext } from '../io/onnx-import-proto';
import { AdaptiveMaxPool2d, type AdaptiveMaxPool2dOptions } from '../modules/adaptive-max-pool2d';
import { OP } from '../modules/program-code';
import { layerKind } from './kind';
import { directSpec } from './spec';

function globalMaxPoolFromOnnx(ctx: NodeContext): AdaptiveMaxPool2d {
  ctx.allowAttributes([]);
  ctx.expectRank(4, POOL_2D);
  return new AdaptiveMaxPool2d(1);
}

/** The regular windows (kernel = stride = input / output) of an output that divides the input, else null. */
function evenWindows(layer: AdaptiveMaxPool2d, inShape: readonly number[]): [number, number] | null {
  const [h, w] = [inShape[2], inShape[3]];
  const [oh, ow] = layer.outputShape(inShape).slice(2);
  return h % oh === 0 && w % ow === 0 ? [h / oh, w / ow] : null;
}

// Convention: comparisons count 0 MACs (as MaxPool2d).
export const adaptiveMaxPool2dKind = layerKind<AdaptiveMaxPool2d>({
  module: AdaptiveMaxPool2d,
  spec: [
    directSpec(
      'adaptivemaxpool2d',
      ['outputSize'],
      (o) => new AdaptiveMaxPool2d(o as unknown as AdaptiveMaxPool2dOptions),
    ),
  ],
  macs: () => 0,
  /**
   * GlobalMaxPool (output 1x1) or, when each output side divides the input side, MaxPool with kernel = stride = input
   * / output (PyTorch's adaptive windows then). ONNX has no adaptive pooling, so other sizes are refused.
   */
  toOnnx: (layer, ctx) => {
    ctx.rank(4, '[N, C, H, W]');
    const [oh, ow] = layer.outputShape(ctx.inShape).slice(2);
    if (oh === 1 && ow === 1) return ctx.node('GlobalMaxPool', [ctx.x]);
    const kernel = evenWindows(layer, ctx.inShape);
    if (kernel === null) {
      throw ctx.badSize(
        `has output ${oh}x${ow} for the input ${ctx.inShape[2]}x${ctx.inShape[3]}: ONNX has no adaptive pooling, and a MaxPool (kernel = stride = input / output) ` +
          'exists only when each output side divides the input side (or the output is 1x1); pick such an output size or input shape',
      );
    }
    return ctx.node('MaxPool', [ctx.x], { kernel_shape: kernel, strides: kernel, pads: [0, 0, 0, 0] });
  },
  fromOnnx: { GlobalMaxPool: globalMaxPoolFromOnnx },
  // Even windows are a plain max pool; uneven (overlapping) ones have no program op and predict in JavaScript.
  program: (layer, p) => {
    const kernel = evenWindows(layer, p.inShape);
    if (kernel === null) return false;
    const [, c, h, w] = p.inShape;
    p.emit(OP.maxPool, c, h, w, ...kernel, ...kernel, 0, 0, 1, 1, 0);
    return true;
  },
});
