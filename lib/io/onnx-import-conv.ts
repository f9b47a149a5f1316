// SPDX-License-Identifier: MIT
// ONNX import, convolution and pooling: Conv (1-d and 2-d), MaxPool, AveragePool and GlobalAveragePool as simdnet layers, with
// the kernel/stride/pads attribute checks they share; the other ops are onnx-import-ops.ts.
import { AdaptiveAvgPool2d } from '../modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../modules/avg-pool2d';
import { Conv1d } from '../modules/conv1d';
import { Conv2d } from '../modules/conv2d';
import { MaxPool2d } from '../modules/max-pool2d';
import { Module } from '../modules/module';
import { batchShape, layerGenerator, list, printable, q, type Converter, type NodeContext } from './onnx-import-proto';

/** What a pool over a 1-d or 3-d input hears: simdnet has 2-d pooling layers only. */
const POOL_2D = 'simdnet imports 2-d pooling (input [N, C, H, W]) only: it has no 1-d or 3-d pooling layer';

/** A per-axis attribute (kernel_shape, strides, dilations) with one value per spatial axis; `fallback` on each when absent. */
function sizes(ctx: NodeContext, name: string, axes: number, fallback: number): number[] {
  const v = ctx.ints(name);
  if (v === undefined) return new Array<number>(axes).fill(fallback);
  if (v.length !== axes) {
    throw ctx.fail(
      `${name} ${list(v)} must have ${axes} value${axes === 1 ? '' : 's'}, one per spatial axis of the input ${batchShape(ctx.inShape)}`,
    );
  }
  return v;
}

function pair(ctx: NodeContext, name: string, fallback: number): [number, number] {
  const [a, b] = sizes(ctx, name, 2, fallback);
  return [a, b];
}

/**
 * `pads` (all begins, then all ends: [top, left, bottom, right] in 2-d, [begin, end] in 1-d) as simdnet's symmetric
 * padding per axis; auto_pad NOTSET or VALID only.
 */
function padding(ctx: NodeContext, axes: number): number[] {
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const pads = ctx.ints('pads');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID' && autoPad !== '') {
    throw ctx.fail(`auto_pad ${printable(autoPad)} is not supported (only NOTSET with explicit pads, or VALID)`);
  }
  if (pads === undefined) return new Array<number>(axes).fill(0);
  const form = axes === 1 ? '[begin, end]' : '[top, left, bottom, right]';
  if (pads.length !== 2 * axes) throw ctx.fail(`pads ${list(pads)} must have ${2 * axes} values ${form}`);
  if (pads.some((p) => p < 0)) throw ctx.fail(`pads ${list(pads)} must not be negative`);
  if (autoPad === 'VALID' && pads.some((p) => p !== 0))
    throw ctx.fail(`auto_pad VALID with non-zero pads ${list(pads)}`);
  if (pads.slice(0, axes).some((p, i) => p !== pads[axes + i])) {
    const need = axes === 1 ? 'begin = end' : 'top = bottom and left = right';
    throw ctx.fail(`asymmetric pads ${list(pads)}: simdnet pads both sides equally (pads ${form} need ${need})`);
  }
  return pads.slice(0, axes);
}

function padPair(ctx: NodeContext): [number, number] {
  const [h, w] = padding(ctx, 2);
  return [h, w];
}

/** ONNX's ceil_mode / count_include_pad style 0-or-1 flag. */
function flag(ctx: NodeContext, name: string, fallback: 0 | 1): boolean {
  const v = ctx.int(name, fallback);
  if (v !== 0 && v !== 1) throw ctx.fail(`${name} must be 0 or 1, got ${v}`);
  return v === 1;
}

/** Conv over [N, C, L] (Conv1d, weight [out, in / group, k]) or [N, C, H, W] (Conv2d, weight [out, in / group, kh, kw]). */
function conv(ctx: NodeContext): Module {
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
  if (ctx.ints('kernel_shape') !== undefined) {
    const given = sizes(ctx, 'kernel_shape', axes, 1);
    if (given.some((k, i) => k !== kernel[i]))
      throw ctx.fail(`kernel_shape ${list(given)} does not match the weight's ${list(kernel)}`);
  }
  const groups = ctx.int('group', 1);
  const inChannels = ctx.inShape[1];
  if (groups < 1 || perGroup * groups !== inChannels) {
    throw ctx.fail(
      `weight ${q(w.name)} ${list(w.dims)} with group ${groups} expects ${perGroup * groups} input channels, the input has ${inChannels}`,
    );
  }
  const b = ctx.constant(2, 'bias', [outChannels]);
  if (b !== undefined && b.float === undefined) throw ctx.fail(`bias ${q(b.name)} must be float32`);
  const [stride, pad, dilation] = [
    sizes(ctx, 'strides', axes, 1),
    padding(ctx, axes),
    sizes(ctx, 'dilations', axes, 1),
  ];
  const common = { inChannels, outChannels, groups, bias: b !== undefined, generator: layerGenerator() };
  const layer =
    axes === 1
      ? new Conv1d({ ...common, kernelSize: kernel[0], stride: stride[0], padding: pad[0], dilation: dilation[0] })
      : new Conv2d({
          ...common,
          kernelSize: [kernel[0], kernel[1]],
          stride: [stride[0], stride[1]],
          padding: [pad[0], pad[1]],
          dilation: [dilation[0], dilation[1]],
        });
  layer.weight.data.data.set(w.float);
  if (b !== undefined) layer.bias!.data.data.set(b.float!);
  return layer;
}

function maxPool(ctx: NodeContext): Module {
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

function averagePool(ctx: NodeContext): Module {
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

function globalAveragePool(ctx: NodeContext): Module {
  ctx.allowAttributes([]);
  ctx.expectRank(4, POOL_2D);
  return new AdaptiveAvgPool2d(1);
}

/** The convolution and pooling converters, merged into CONVERTERS by onnx-import-ops.ts. */
export const CONV_CONVERTERS: Readonly<Record<string, Converter>> = {
  Conv: conv,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
};
