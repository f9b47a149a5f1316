// SPDX-License-Identifier: MIT
// The activations ReLU, LeakyReLU, Sigmoid, Tanh, Softmax and LogSoftmax: spec types, ONNX ops both ways, and the
// program's element-wise ops (ReLU and Sigmoid). The newer ones (ReLU6, GELU, SiLU, ...) are activations-more.ts.
import type { OnnxExportContext } from '../io/onnx-export-ops';
import { batchShape, type Converter, type NodeContext } from '../io/onnx-import-proto';
import { LeakyReLU, type LeakyReLUOptions } from '../modules/leaky-relu';
import type { Module } from '../modules/module';
import { OP, sampleSize } from '../modules/program-code';
import { ReLU } from '../modules/relu';
import { Sigmoid } from '../modules/sigmoid';
import { LogSoftmax, Softmax, type SoftmaxOptions } from '../modules/softmax';
import { Tanh } from '../modules/tanh';
import { layerKind } from './kind';
import { directSpec, plainSpec } from './spec';

/** A converter for an op without attributes. */
function elementwise(make: () => Module): Converter {
  return (ctx) => {
    ctx.allowAttributes([]);
    return make();
  };
}

function softmaxFromOnnx(Cls: typeof Softmax | typeof LogSoftmax): Converter {
  return (ctx: NodeContext) => {
    ctx.allowAttributes(['axis']);
    const rank = ctx.inShape.length;
    // Before opset 13 the op flattened the input to 2-d at `axis` (default 1): a per-dim softmax only on the last axis.
    const axis = ctx.int('axis', ctx.opset >= 13 ? -1 : 1);
    const dim = axis < 0 ? axis + rank : axis;
    if (dim < 0 || dim >= rank) throw ctx.fail(`axis ${axis} is out of range for the input ${batchShape(ctx.inShape)}`);
    if (dim === 0) throw ctx.fail('axis 0 would normalise across the batch');
    if (ctx.opset < 13 && dim !== rank - 1) {
      throw ctx.fail(
        `axis ${axis} at opset ${ctx.opset} normalises over all dims from ${dim} on, which simdnet's ${Cls.name} (one dim) cannot do`,
      );
    }
    return new Cls({ dim: axis });
  };
}

/** Softmax and LogSoftmax (opset 13: one axis, as PyTorch's dim; the dim was checked against the shape already). */
function softmaxToOnnx(layer: Softmax | LogSoftmax, ctx: OnnxExportContext): string {
  if ((layer.dim < 0 ? layer.dim + ctx.inShape.length : layer.dim) === 0) {
    throw ctx.unsupported(
      `has dim ${layer.dim}, the batch dimension: each sample's output would depend on the rest of the batch (importOnnx refuses it too)`,
    );
  }
  return ctx.node(layer instanceof Softmax ? 'Softmax' : 'LogSoftmax', [ctx.x], { axis: layer.dim });
}

// Subclasses of ReLU may compute something else: only ReLU itself is exported, run natively or fused.
export const reluKind = layerKind<ReLU>({
  module: ReLU,
  exact: true,
  spec: [plainSpec('relu', () => new ReLU())],
  // Convention: activations count 0 MACs.
  macs: () => 0,
  toOnnx: (_layer, ctx) => ctx.node('Relu', [ctx.x]),
  fromOnnx: { Relu: elementwise(() => new ReLU()) },
  program: (_layer, p) => {
    p.emit(OP.relu, sampleSize(p.outShape));
    return true;
  },
});

export const leakyReluKind = layerKind<LeakyReLU>({
  module: LeakyReLU,
  spec: [directSpec('leakyrelu', ['negativeSlope'], (o) => new LeakyReLU(o as LeakyReLUOptions))],
  toOnnx: (layer, ctx) => ctx.node('LeakyRelu', [ctx.x], { alpha: layer.negativeSlope }),
  fromOnnx: {
    LeakyRelu: (ctx) => {
      ctx.allowAttributes(['alpha']);
      return new LeakyReLU({ negativeSlope: ctx.float('alpha', 0.01) });
    },
  },
});

export const sigmoidKind = layerKind<Sigmoid>({
  module: Sigmoid,
  spec: [plainSpec('sigmoid', () => new Sigmoid())],
  toOnnx: (_layer, ctx) => ctx.node('Sigmoid', [ctx.x]),
  fromOnnx: { Sigmoid: elementwise(() => new Sigmoid()) },
  program: (_layer, p) => {
    p.emit(OP.sigmoid, sampleSize(p.outShape));
    return true;
  },
});

export const tanhKind = layerKind<Tanh>({
  module: Tanh,
  spec: [plainSpec('tanh', () => new Tanh())],
  toOnnx: (_layer, ctx) => ctx.node('Tanh', [ctx.x]),
  fromOnnx: { Tanh: elementwise(() => new Tanh()) },
});

export const softmaxKind = layerKind<Softmax>({
  module: Softmax,
  spec: [directSpec('softmax', ['dim'], (o) => new Softmax(o as unknown as SoftmaxOptions))],
  toOnnx: softmaxToOnnx,
  fromOnnx: { Softmax: softmaxFromOnnx(Softmax) },
});

export const logSoftmaxKind = layerKind<LogSoftmax>({
  module: LogSoftmax,
  spec: [directSpec('logsoftmax', ['dim'], (o) => new LogSoftmax(o as unknown as SoftmaxOptions))],
  toOnnx: softmaxToOnnx,
  fromOnnx: { LogSoftmax: softmaxFromOnnx(LogSoftmax) },
});
