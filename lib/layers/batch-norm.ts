// SPDX-License-Identifier: MIT
// BatchNorm1d and BatchNorm2d: spec types, MACs, ONNX BatchNormalization both ways, and folding into the Conv2d or
// Linear before them in inference programs.
import { batchShape, float32Decimal, type NodeContext } from '../io/onnx-import-proto';
import { BatchNorm1d, BatchNorm2d, BatchNormBase, type BatchNormOptions } from '../modules/batch-norm';
import type { Module } from '../modules/module';
import { formatShape, shapeSize } from '../tensor/shape';
import { layerKind, type SpecType } from './kind';
import { infer, needRank, num } from './spec';

const NORM_OPTIONS = ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats'];

function normSpec(
  type: string,
  ranks: number[],
  layout: string,
  Cls: typeof BatchNorm1d | typeof BatchNorm2d,
): SpecType {
  return {
    type,
    options: NORM_OPTIONS,
    normalise(o, shape, where) {
      needRank(where, type, shape, ranks, layout);
      return infer(o, 'numFeatures', shape[1]);
    },
    stateValues(o) {
      const n = num(o.numFeatures, NaN);
      return (o.affine === false ? 0 : 2 * n) + (o.trackRunningStats === false ? 0 : 2 * n + 1);
    },
    build: (o) => new Cls(o as unknown as BatchNormOptions),
  };
}

function batchNormalization(ctx: NodeContext): Module {
  ctx.allowAttributes(['epsilon', 'momentum', 'training_mode', 'spatial']);
  if (ctx.int('training_mode', 0) !== 0)
    throw ctx.fail('training_mode 1 (batch statistics) is not supported; export the model in eval mode');
  if (ctx.int('spatial', 1) !== 1) throw ctx.fail('spatial 0 (per-element statistics) is not supported');
  const rank = ctx.inShape.length;
  if (rank < 2 || rank > 4)
    throw ctx.fail(`needs an input [N, C], [N, C, L] or [N, C, H, W], got ${batchShape(ctx.inShape)}`);
  const c = [ctx.inShape[1]];
  const [scale, bias, mean, variance] = ['scale', 'bias B', 'mean', 'var'].map((what, i) => ctx.floats(i + 1, what, c));
  // ONNX momentum weighs the old running value (0.9), PyTorch's the new batch (0.1).
  const onnxMomentum = ctx.float('momentum', 0.9);
  if (onnxMomentum < 0 || onnxMomentum > 1) throw ctx.fail(`momentum ${onnxMomentum} must be within [0, 1]`);
  // simdnet's exporter writes `<name>.onnx_scale` ones and `.onnx_bias` zeros for a layer without affine.
  const plain =
    scale.name.endsWith('.onnx_scale') &&
    scale.float.every((v) => v === 1) &&
    bias.name.endsWith('.onnx_bias') &&
    bias.float.every((v) => v === 0);
  const Cls = rank === 4 ? BatchNorm2d : BatchNorm1d;
  const layer = new Cls({
    numFeatures: c[0],
    eps: ctx.float('epsilon', 1e-5),
    momentum: float32Decimal(1 - onnxMomentum),
    affine: !plain,
  });
  layer.weight?.data.data.set(scale.float);
  layer.bias?.data.data.set(bias.float);
  layer.runningMean!.data.set(mean.float);
  layer.runningVar!.data.set(variance.float);
  return layer;
}

/** The rules BatchNorm1d and BatchNorm2d share (their kinds add the spec types). */
export const batchNormKind = layerKind<BatchNormBase>({
  module: BatchNormBase,
  /** One multiply-add per output value (x * scale + shift once folded, as in eval mode). */
  macs: (_bn, _input, output) => shapeSize(output),
  toOnnx: (layer, ctx) => {
    // BatchNormalization takes [N, C, ...]: BatchNorm1d's [N, C] and [N, C, L] as well as BatchNorm2d's [N, C, H, W].
    if (ctx.inShape.length < 2) throw ctx.unsupported(`needs an input [N, C, ...], got ${formatShape(ctx.inShape)}`);
    const mean = layer.runningMean;
    const variance = layer.runningVar;
    if (!mean || !variance)
      throw ctx.unsupported(
        'does not track running statistics (trackRunningStats false), so eval mode uses batch statistics',
      );
    const { g, prefix } = ctx;
    const c = layer.numFeatures;
    const scale = layer.weight
      ? g.floatInit(`${prefix}weight`, layer.weight.data)
      : g.floatInit(`${prefix}onnx_scale`, new Float32Array(c).fill(1), [c]);
    const bias = layer.bias
      ? g.floatInit(`${prefix}bias`, layer.bias.data)
      : g.floatInit(`${prefix}onnx_bias`, new Float32Array(c), [c]);
    const inputs = [
      ctx.x,
      scale,
      bias,
      g.floatInit(`${prefix}running_mean`, mean),
      g.floatInit(`${prefix}running_var`, variance),
    ];
    return ctx.node('BatchNormalization', inputs, { epsilon: layer.eps });
  },
  fromOnnx: { BatchNormalization: batchNormalization },
  program: 'batchnorm',
});

export const batchNorm1dKind = layerKind<BatchNorm1d>({
  module: BatchNorm1d,
  spec: [normSpec('batchnorm1d', [2, 3], '2-D [N, C] or 3-D [N, C, L]', BatchNorm1d)],
});

export const batchNorm2dKind = layerKind<BatchNorm2d>({
  module: BatchNorm2d,
  spec: [normSpec('batchnorm2d', [4], '4-D [N, C, H, W]', BatchNorm2d)],
});
