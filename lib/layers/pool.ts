// SPDX-License-Identifier: MIT
// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d: spec types, MACs (0), ONNX pooling ops both ways (and GlobalAveragePool,
// ReduceMean over H and W) and the program's pooling ops.
import { symmetricPads, type OnnxExportContext } from '../io/onnx-export-ops';
import { flag, padPair, pair, POOL_2D } from '../io/onnx-import-conv';
import { list, q, type NodeContext } from '../io/onnx-import-proto';
import { AdaptiveAvgPool2d, type AdaptiveAvgPool2dOptions } from '../modules/adaptive-avg-pool2d';
import { AvgPool2d, type AvgPool2dOptions } from '../modules/avg-pool2d';
import { Flatten } from '../modules/flatten';
import { MaxPool2d, type MaxPool2dOptions } from '../modules/max-pool2d';
import type { Module } from '../modules/module';
import { MAX_FIELD, OP, type ProgramEmitter } from '../modules/program-code';
import { layerKind } from './kind';
import { directSpec } from './spec';

function maxPoolFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'storage_order', 'auto_pad']);
  ctx.expectRank(4, POOL_2D);
  if (ctx.ints('kernel_shape') === undefined) throw ctx.fail('has no kernel_shape');
  if (ctx.int('storage_order', 0) !== 0) throw ctx.fail('storage_order 1 (column-major indices) is not supported');
  return new MaxPool2d({
    kernelSize: pair(ctx, 'kernel_shape', 1),
    stride: pair(ctx, 'strides', 1),
    padding: padPair(ctx),
    dilation: pair(ctx, 'dilations', 1),
    ceilMode: flag(ctx, 'ceil_mode', 0),
  });
}

function averagePoolFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'count_include_pad', 'auto_pad']);
  ctx.expectRank(4, POOL_2D);
  if (ctx.ints('kernel_shape') === undefined) throw ctx.fail('has no kernel_shape');
  const dilation = pair(ctx, 'dilations', 1);
  if (dilation[0] !== 1 || dilation[1] !== 1)
    throw ctx.fail(`dilations ${list(dilation)} are not supported (AvgPool2d has no dilation)`);
  return new AvgPool2d({
    kernelSize: pair(ctx, 'kernel_shape', 1),
    stride: pair(ctx, 'strides', 1),
    padding: padPair(ctx),
    ceilMode: flag(ctx, 'ceil_mode', 0),
    countIncludePad: flag(ctx, 'count_include_pad', 0),
  });
}

function globalAveragePoolFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes([]);
  ctx.expectRank(4, POOL_2D);
  return new AdaptiveAvgPool2d(1);
}

/** ReduceMean over H and W of [N, C, H, W]: AdaptiveAvgPool2d(1), and a Flatten for keepdims 0 (PyTorch's x.mean((2, 3))). */
function reduceMeanFromOnnx(ctx: NodeContext): Module[] {
  // Opset 18 moved axes from an attribute to an input.
  ctx.allowAttributes(ctx.opset < 18 ? ['axes', 'keepdims'] : ['keepdims', 'noop_with_empty_axes']);
  ctx.expectRank(4, 'simdnet imports ReduceMean as a global average pool of [N, C, H, W]');
  let axes: number[] | undefined;
  if (ctx.opset < 18) {
    axes = ctx.ints('axes');
  } else {
    const t = ctx.constant(1, 'axes');
    if (t !== undefined && t.int === undefined) throw ctx.fail(`axes ${q(t.name)} must be int64`);
    axes = t?.int;
    if (ctx.int('noop_with_empty_axes', 0) !== 0 && (axes === undefined || axes.length === 0))
      throw ctx.fail('with noop_with_empty_axes 1 and no axes would do nothing; not supported');
  }
  const at = [...new Set((axes ?? [0, 1, 2, 3]).map((a) => (a < 0 ? a + 4 : a)))].sort();
  if (at.length !== 2 || at[0] !== 2 || at[1] !== 3) {
    throw ctx.fail(
      `axes ${axes === undefined ? '(all)' : list(axes)}: only the mean over H and W (axes [2, 3] or [-1, -2]) is supported, as a global average pool`,
    );
  }
  const keepDims = ctx.int('keepdims', 1);
  if (keepDims !== 0 && keepDims !== 1) throw ctx.fail(`keepdims must be 0 or 1, got ${keepDims}`);
  return keepDims === 1 ? [new AdaptiveAvgPool2d(1)] : [new AdaptiveAvgPool2d(1), new Flatten()];
}

/**
 * AdaptiveAvgPool2d as GlobalAveragePool (output 1x1) or, when each output side divides the input side, AveragePool with
 * kernel = stride = input / output (the windows PyTorch's adaptive pooling then uses). ONNX has no adaptive pooling, so
 * other sizes are refused, as torch.onnx.export refuses them.
 */
function adaptiveAvgPoolToOnnx(layer: AdaptiveAvgPool2d, ctx: OnnxExportContext): string {
  ctx.rank(4, '[N, C, H, W]');
  const [h, w] = [ctx.inShape[2], ctx.inShape[3]];
  const [oh, ow] = layer.outputShape(ctx.inShape).slice(2);
  if (oh === 1 && ow === 1) return ctx.node('GlobalAveragePool', [ctx.x]);
  if (h % oh !== 0 || w % ow !== 0) {
    throw ctx.badSize(
      `has output ${oh}x${ow} for the input ${h}x${w}: ONNX has no adaptive pooling, and an AveragePool (kernel = stride = input / output) ` +
        'exists only when each output side divides the input side (or the output is 1x1), as in torch.onnx.export; pick such an output size or input shape',
    );
  }
  const kernel = [h / oh, w / ow];
  return ctx.node('AveragePool', [ctx.x], { kernel_shape: kernel, strides: kernel, pads: [0, 0, 0, 0] });
}

/** The program's window-mean op for any windows (AvgPool2d and AdaptiveAvgPool2d); integer divisors only. */
function avgPoolProgram(layer: AvgPool2d | AdaptiveAvgPool2d, p: ProgramEmitter): boolean {
  const [, c, h, w] = p.inShape;
  const [rows, cols, divisor] = layer.meanWindows(p.inShape);
  // Divisors go into the program as integers: fall back to the layers for any other.
  if (!divisor.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_FIELD)) return false;
  p.emit(OP.avgPool, c, h, w, p.outShape[2], p.outShape[3], ...rows.start, ...rows.end, ...cols.start, ...cols.end);
  p.emit(...divisor);
  return true;
}

// Convention: comparisons (max pooling) and window means count 0 MACs.
export const maxPool2dKind = layerKind<MaxPool2d>({
  module: MaxPool2d,
  spec: [
    directSpec(
      'maxpool2d',
      ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'],
      (o) => new MaxPool2d(o as unknown as MaxPool2dOptions),
    ),
  ],
  macs: () => 0,
  toOnnx: (layer, ctx) => {
    ctx.rank(4, '[N, C, H, W]');
    const attrs: Record<string, number | number[]> = {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: symmetricPads(layer.padding),
      ceil_mode: layer.ceilMode ? 1 : 0,
    };
    if (layer.dilation[0] !== 1 || layer.dilation[1] !== 1) attrs.dilations = [...layer.dilation];
    return ctx.node('MaxPool', [ctx.x], attrs);
  },
  fromOnnx: { MaxPool: maxPoolFromOnnx },
  program: (layer, p) => {
    const [, c, h, w] = p.inShape;
    p.emit(OP.maxPool, c, h, w, ...layer.kernelSize, ...layer.stride, ...layer.padding, ...layer.dilation);
    p.emit(layer.ceilMode ? 1 : 0);
    return true;
  },
});

export const avgPool2dKind = layerKind<AvgPool2d>({
  module: AvgPool2d,
  spec: [
    directSpec(
      'avgpool2d',
      ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'],
      (o) => new AvgPool2d(o as unknown as AvgPool2dOptions),
    ),
  ],
  macs: () => 0,
  toOnnx: (layer, ctx) => {
    ctx.rank(4, '[N, C, H, W]');
    if (layer.divisorOverride !== undefined && layer.divisorOverride !== null)
      throw ctx.unsupported('has divisorOverride, which ONNX AveragePool cannot express');
    return ctx.node('AveragePool', [ctx.x], {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: symmetricPads(layer.padding),
      ceil_mode: layer.ceilMode ? 1 : 0,
      count_include_pad: layer.countIncludePad ? 1 : 0,
    });
  },
  fromOnnx: { AveragePool: averagePoolFromOnnx },
  program: avgPoolProgram,
});

export const adaptiveAvgPool2dKind = layerKind<AdaptiveAvgPool2d>({
  module: AdaptiveAvgPool2d,
  spec: [
    directSpec(
      'adaptiveavgpool2d',
      ['outputSize'],
      (o) => new AdaptiveAvgPool2d(o as unknown as AdaptiveAvgPool2dOptions),
    ),
  ],
  macs: () => 0,
  toOnnx: adaptiveAvgPoolToOnnx,
  fromOnnx: { GlobalAveragePool: globalAveragePoolFromOnnx, ReduceMean: reduceMeanFromOnnx },
  program: avgPoolProgram,
});
