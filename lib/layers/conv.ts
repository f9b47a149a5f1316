// SPDX-License-Identifier: MIT
// Conv1d and Conv2d: spec types, MACs, ONNX Conv both ways and the program's conv op.
import type { OnnxExportContext } from '../io/onnx-export-ops';
import { convAttributes } from '../io/onnx-import-conv';
import { batchShape, layerGenerator, list, q, type NodeContext } from '../io/onnx-import-proto';
import { BatchNorm2d } from '../modules/batch-norm';
import { Conv1d, type Conv1dOptions } from '../modules/conv1d';
import type { PaddingMode } from '../modules/conv-padding';
import { Conv2d, CONV_OPTIONS, type Conv2dOptions } from '../modules/conv2d';
import type { Module } from '../modules/module';
import { OP } from '../modules/program-code';
import { shapeSize } from '../tensor/shape';
import { layerKind, type SpecType } from './kind';
import { infer, needRank, num } from './spec';

/** ONNX Pad modes for simdnet's padding modes (ONNX 'wrap', circular, needs opset 19; the export writes 13). */
const ONNX_PAD_MODE: Record<string, string | undefined> = { reflect: 'reflect', replicate: 'edge' };

/** A convolution of input rank `rank`; inChannels defaults to the running shape's channels. */
function convSpec(
  type: string,
  rank: number,
  layout: string,
  make: (options: Record<string, unknown>) => Module,
): SpecType {
  return {
    type,
    options: CONV_OPTIONS,
    normalise(o, shape, where) {
      needRank(where, type, shape, [rank], layout);
      return infer(o, 'inChannels', shape[1]);
    },
    stateValues(o) {
      const k = o.kernelSize;
      const kernel = Array.isArray(k) ? k.reduce((a: number, b) => a * num(b, NaN), 1) : num(k, NaN) ** (rank - 2);
      const out = num(o.outChannels, NaN);
      return out * (num(o.inChannels, NaN) / num(o.groups, 1)) * kernel + (o.bias === false ? 0 : out);
    },
    build: (o, rng) => make({ ...o, generator: rng }),
  };
}

/**
 * Conv for Conv1d or Conv2d: the weight keeps its layout ([out, in / groups, k] or [out, in / groups, kh, kw]). Zero
 * padding (also 'same''s uneven one) is the Conv's pads; reflect and replicate padding is a Pad node before it.
 */
function convToOnnx(layer: Conv1d | Conv2d, ctx: OnnxExportContext): string {
  const asList = (v: number | readonly number[]): number[] => (typeof v === 'number' ? [v] : [...v]);
  const pads = [...layer.pads.before, ...layer.pads.after];
  let x = ctx.x;
  if (layer.paddingMode !== 'zeros' && pads.some((p) => p !== 0)) {
    const mode = ONNX_PAD_MODE[layer.paddingMode];
    if (mode === undefined)
      throw ctx.unsupported(`has paddingMode '${layer.paddingMode}', which ONNX opset 13 cannot express`);
    // Pad's pads cover every axis, batch and channels (unpadded) included.
    const all = [0, 0, ...layer.pads.before, 0, 0, ...layer.pads.after];
    x = ctx.node('Pad', [x, ctx.g.int64Init(`${ctx.nodeName}.onnx_pads`, all)], { mode }, '_pad');
    pads.fill(0);
  }
  const inputs = [x, ctx.g.floatInit(`${ctx.prefix}weight`, layer.weight.data)];
  if (layer.bias) inputs.push(ctx.g.floatInit(`${ctx.prefix}bias`, layer.bias.data));
  return ctx.node('Conv', inputs, {
    kernel_shape: asList(layer.kernelSize),
    strides: asList(layer.stride),
    pads,
    dilations: asList(layer.dilation),
    group: layer.groups,
  });
}

/** The padding of a reflect/edge/wrap Pad node a Conv alone reads: the layer's paddingMode and pads per spatial axis. */
export interface PadBeforeConv {
  mode: PaddingMode;
  before: number[];
  after: number[];
}

/**
 * Conv over [N, C, L] (Conv1d, weight [out, in / group, k]) or [N, C, H, W] (Conv2d, weight [out, in / group, kh, kw]);
 * with `padded`, the padding of the Pad node before it (ctx.inShape is then the padded shape).
 */
export function convFromOnnx(ctx: NodeContext, padded?: PadBeforeConv): Module {
  ctx.allowAttributes(['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']);
  const rank = ctx.inShape.length;
  if (rank !== 3 && rank !== 4) {
    throw ctx.fail(
      `simdnet imports 1-d and 2-d convolutions (input [N, C, L] or [N, C, H, W]) only; the input here is ${batchShape(ctx.inShape)}`,
    );
  }
  const axes = rank - 2;
  const w = ctx.floats(1, 'weight');
  if (w.dims.length !== rank) {
    const form = axes === 1 ? '[out, in / group, k]' : '[out, in / group, kh, kw]';
    throw ctx.fail(
      `weight ${q(w.name)} must be ${rank}-d ${form} for the input ${batchShape(ctx.inShape)}, got ${list(w.dims)}`,
    );
  }
  const [outChannels, perGroup, ...kernel] = w.dims;
  const groups = ctx.int('group', 1);
  const inChannels = ctx.inShape[1];
  if (groups < 1 || perGroup * groups !== inChannels) {
    throw ctx.fail(
      `weight ${q(w.name)} ${list(w.dims)} with group ${groups} expects ${perGroup * groups} input channels, the input has ${inChannels}`,
    );
  }
  const b = ctx.constant(2, 'bias', [outChannels]);
  if (b !== undefined && b.float === undefined) throw ctx.fail(`bias ${q(b.name)} must be float32`);
  const { stride, padding, dilation } = convAttributes(ctx, kernel, padded);
  const common = {
    inChannels,
    outChannels,
    groups,
    bias: b !== undefined,
    paddingMode: padded?.mode ?? 'zeros',
    generator: layerGenerator(),
  };
  const layer =
    axes === 1
      ? new Conv1d({
          ...common,
          kernelSize: kernel[0],
          stride: stride[0],
          padding: padding === 'same' ? padding : padding[0],
          dilation: dilation[0],
        })
      : new Conv2d({
          ...common,
          kernelSize: [kernel[0], kernel[1]],
          stride: [stride[0], stride[1]],
          padding: padding === 'same' ? padding : [padding[0], padding[1]],
          dilation: [dilation[0], dilation[1]],
        });
  layer.weight.data.data.set(w.float);
  if (b !== undefined) layer.bias!.data.data.set(b.float!);
  return layer;
}

export const conv2dKind = layerKind<Conv2d>({
  module: Conv2d,
  spec: [convSpec('conv2d', 4, '4-D [N, C, H, W]', (o) => new Conv2d(o as unknown as Conv2dOptions))],
  /**
   * Every output value is a dot product of (inChannels / groups) * kh * kw weights and inputs, so MACs =
   * N * outC * OH * OW * (inC / groups) * kh * kw. The bias add is not a multiply-add and is not counted (as fvcore
   * and torchinfo's conv MACs); dilation and padding change neither factor.
   */
  macs: (conv, _input, output) =>
    shapeSize(output) * (conv.inChannels / conv.groups) * conv.kernelSize[0] * conv.kernelSize[1],
  toOnnx: (conv, ctx) => {
    ctx.rank(4, '[N, C, H, W]');
    return convToOnnx(conv, ctx);
  },
  // Conv1d's kind shares the op: the converter picks the class from the input's rank.
  fromOnnx: { Conv: (ctx) => convFromOnnx(ctx) },
  // The native op pads with zeros equally on both sides; other padding predicts in JavaScript.
  program: (conv, p) => {
    if (conv.pads.before.some((b, i) => b !== conv.pads.after[i] || (b !== 0 && conv.paddingMode !== 'zeros')))
      return false;
    const [, c, h, w] = p.inShape;
    const residual = p.residual();
    p.emit(
      residual ? OP.convAdd : OP.conv,
      c,
      h,
      w,
      conv.outChannels,
      ...conv.kernelSize,
      ...conv.stride,
      ...conv.nativePadding(),
      ...conv.dilation,
    );
    p.emit(conv.groups, p.fuseRelu() ? 1 : 0, ...p.weights(conv), ...(residual ?? []));
    return true;
  },
  foldsBatchNorm: (_conv, norm) => norm instanceof BatchNorm2d,
});

export const conv1dKind = layerKind<Conv1d>({
  module: Conv1d,
  spec: [convSpec('conv1d', 3, '3-D [N, C, L]', (o) => new Conv1d(o as unknown as Conv1dOptions))],
  /** MACs = N * outChannels * OL * (inChannels / groups) * kernel. */
  macs: (conv, _input, output) => shapeSize(output) * (conv.inChannels / conv.groups) * conv.kernelSize,
  toOnnx: (conv, ctx) => {
    ctx.rank(3, '[N, C, L]');
    return convToOnnx(conv, ctx);
  },
});
