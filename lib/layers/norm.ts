// SPDX-License-Identifier: MIT
// LayerNorm and GroupNorm: spec types, MACs and ONNX both ways. Export is opset 13, which has neither
// LayerNormalization (17) nor GroupNormalization (18): both are written as ReduceMean / Sub / Mul / Sqrt / Div formulas
// that onnxruntime runs. Import reads LayerNormalization (what torch.onnx.export writes at opset 17 and above),
// GroupNormalization (opset 18: per-group scale and bias; 21: per-channel) and InstanceNormalization (a GroupNorm of one
// channel per group); the formula forms (simdnet's, and torch's InstanceNormalization chain for GroupNorm) are
// lib/io/onnx-import-formulas.ts. Neither has a native program op.
import type { OnnxExportContext } from '../io/onnx-export-ops';
import { batchShape, type NodeContext } from '../io/onnx-import-proto';
import { GroupNorm, type GroupNormOptions } from '../modules/group-norm';
import { LayerNorm, type LayerNormOptions } from '../modules/layer-norm';
import type { Module } from '../modules/module';
import { shapeSize } from '../tensor/shape';
import { layerKind } from './kind';
import { infer, needRank, num } from './spec';

/**
 * (x - mean) / sqrt(var + eps) over `axes` (ReduceMean with keepdims), in opset-13 ops; returns the normalised value.
 */
function normaliseToOnnx(ctx: OnnxExportContext, x: string, axes: number[], eps: number): string {
  const mean = ctx.node('ReduceMean', [x], { axes, keepdims: 1 }, '.mean');
  const centred = ctx.node('Sub', [x, mean], {}, '.centred');
  const square = ctx.node('Mul', [centred, centred], {}, '.square');
  const variance = ctx.node('ReduceMean', [square], { axes, keepdims: 1 }, '.var');
  const epsName = ctx.g.floatInit(`${ctx.nodeName}.onnx_eps`, Float32Array.of(eps), []);
  const std = ctx.node('Sqrt', [ctx.node('Add', [variance, epsName], {}, '.var_eps')], {}, '.std');
  return ctx.node('Div', [centred, std], {}, '.normalised');
}

/** y * weight + bias, the weights stored with `dims` so they broadcast against the input; the last node takes nodeName. */
function affineToOnnx(
  ctx: OnnxExportContext,
  y: string,
  layer: LayerNorm | GroupNorm,
  dims: readonly number[],
): string {
  const { g, prefix } = ctx;
  if (!layer.weight) return ctx.node('Identity', [y]);
  const w = g.floatInit(`${prefix}weight`, layer.weight.data.data, dims);
  if (!layer.bias) return ctx.node('Mul', [y, w]);
  const scaled = ctx.node('Mul', [y, w], {}, '.scaled');
  return ctx.node('Add', [scaled, g.floatInit(`${prefix}bias`, layer.bias.data.data, dims)]);
}

function layerNormToOnnx(layer: LayerNorm, ctx: OnnxExportContext): string {
  const k = layer.normalizedShape.length;
  if (k >= ctx.inShape.length)
    throw ctx.unsupported('normalises over the batch dimension too, which the dynamic batch axis cannot follow');
  const axes = layer.normalizedShape.map((_, i) => i - k);
  return affineToOnnx(ctx, normaliseToOnnx(ctx, ctx.x, axes, layer.eps), layer, layer.normalizedShape);
}

function groupNormToOnnx(layer: GroupNorm, ctx: OnnxExportContext): string {
  const { g, nodeName } = ctx;
  // [N, C, *] -> [N, G, C/G * positions], normalised over the last axis, then back to the input's shape.
  const grouped = ctx.node(
    'Reshape',
    [ctx.x, g.int64Init(`${nodeName}.onnx_groups`, [0, layer.numGroups, -1])],
    {},
    '.group',
  );
  const y = normaliseToOnnx(ctx, grouped, [2], layer.eps);
  const shape = ctx.node('Shape', [ctx.x], {}, '.shape');
  const back = ctx.node('Reshape', [y, shape], {}, '.ungroup');
  const perChannel = [layer.numChannels, ...ctx.inShape.slice(2).map(() => 1)];
  return affineToOnnx(ctx, back, layer, perChannel);
}

function layerNormFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['axis', 'epsilon', 'stash_type']);
  const rank = ctx.inShape.length;
  const given = ctx.int('axis', -1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 1 || axis >= rank)
    throw ctx.fail(`axis ${given} on the input ${batchShape(ctx.inShape)}: only axes after the batch are supported`);
  if (ctx.int('stash_type', 1) !== 1) throw ctx.fail('stash_type other than 1 (float32 statistics) is not supported');
  const normalizedShape = ctx.inShape.slice(axis);
  const scale = ctx.floats(1, 'scale', normalizedShape);
  const bias = ctx.inputName(2) === undefined ? undefined : ctx.floats(2, 'bias B', normalizedShape);
  if (ctx.node.output !== undefined && ctx.node.output !== null && ctx.node.output.length > 1)
    throw ctx.fail(`has ${ctx.node.output.length} outputs; only Y (not Mean or InvStdDev) is supported`);
  const layer = new LayerNorm({ normalizedShape, eps: ctx.float('epsilon', 1e-5), bias: bias !== undefined });
  layer.weight!.data.data.set(scale.float);
  if (bias) layer.bias!.data.data.set(bias.float);
  return layer;
}

/** [N, C, *] with C channels: the channel count, else a FileFormatError naming the node. */
function channelsOf(ctx: NodeContext): number {
  if (ctx.inShape.length < 3)
    throw ctx.fail(
      `needs an input [N, C, ...] with at least one axis after the channels, got ${batchShape(ctx.inShape)}`,
    );
  return ctx.inShape[1];
}

/**
 * GroupNormalization: opsets 18-20 scale and bias one value per group (the spec's opset-18 form, deprecated in 21),
 * spread here over that group's channels; opset 21 one per channel, as PyTorch's GroupNorm.
 */
function groupNormFromOnnx(ctx: NodeContext): Module {
  const perChannel = ctx.opset >= 21;
  ctx.allowAttributes(perChannel ? ['num_groups', 'epsilon', 'stash_type'] : ['num_groups', 'epsilon']);
  const channels = channelsOf(ctx);
  const groups = ctx.int('num_groups', 0);
  if (groups < 1 || channels % groups !== 0)
    throw ctx.fail(`num_groups ${groups} must be >= 1 and divide the input's ${channels} channels`);
  if (ctx.int('stash_type', 1) !== 1) throw ctx.fail('stash_type other than 1 (float32 statistics) is not supported');
  const size = perChannel ? channels : groups;
  const scale = ctx.floats(1, perChannel ? 'scale (one per channel)' : 'scale (one per group, opset 18)', [size]);
  const bias = ctx.floats(2, perChannel ? 'bias (one per channel)' : 'bias (one per group, opset 18)', [size]);
  const layer = new GroupNorm({ numGroups: groups, numChannels: channels, eps: ctx.float('epsilon', 1e-5) });
  const per = perChannel ? 1 : channels / groups;
  for (let c = 0; c < channels; c++) {
    layer.weight!.data.data[c] = scale.float[Math.floor(c / per)];
    layer.bias!.data.data[c] = bias.float[Math.floor(c / per)];
  }
  return layer;
}

/** InstanceNormalization (InstanceNorm1d/2d): each channel normalised alone, a GroupNorm of one channel per group. */
function instanceNormFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['epsilon']);
  const channels = channelsOf(ctx);
  const scale = ctx.floats(1, 'scale', [channels]);
  const bias = ctx.floats(2, 'bias B', [channels]);
  const layer = new GroupNorm({ numGroups: channels, numChannels: channels, eps: ctx.float('epsilon', 1e-5) });
  layer.weight!.data.data.set(scale.float);
  layer.bias!.data.data.set(bias.float);
  return layer;
}

export const layerNormKind = layerKind<LayerNorm>({
  module: LayerNorm,
  spec: [
    {
      type: 'layernorm',
      options: ['normalizedShape', 'eps', 'elementwiseAffine', 'bias'],
      stateValues(o) {
        const dims = o.normalizedShape;
        const values = Array.isArray(dims) ? dims.reduce((a: number, d) => a * num(d, NaN), 1) : num(dims, NaN);
        return o.elementwiseAffine === false ? 0 : (o.bias === false ? 1 : 2) * values;
      },
      build: (o) => new LayerNorm(o as unknown as LayerNormOptions),
    },
  ],
  /** Normalising and the affine step: counted as one multiply-add per output value, as BatchNorm. */
  macs: (_layer, _input, output) => shapeSize(output),
  toOnnx: layerNormToOnnx,
  fromOnnx: { LayerNormalization: layerNormFromOnnx },
});

export const groupNormKind = layerKind<GroupNorm>({
  module: GroupNorm,
  spec: [
    {
      type: 'groupnorm',
      options: ['numGroups', 'numChannels', 'eps', 'affine'],
      normalise(o, shape, where) {
        needRank(where, 'groupnorm', shape, [2, 3, 4, 5, 6], 'input [N, C, *]');
        return infer(o, 'numChannels', shape[1]);
      },
      stateValues: (o) => (o.affine === false ? 0 : 2 * num(o.numChannels, NaN)),
      build: (o) => new GroupNorm(o as unknown as GroupNormOptions),
    },
  ],
  macs: (_layer, _input, output) => shapeSize(output),
  toOnnx: groupNormToOnnx,
  fromOnnx: { GroupNormalization: groupNormFromOnnx, InstanceNormalization: instanceNormFromOnnx },
});
