// SPDX-License-Identifier: MIT
// ONNX import, layer side: one converter per supported op, from a node's attributes and constant inputs to a simdnet layer
// with its weights (Conv and the pools are onnx-import-conv.ts); the graph walk and the public importOnnx are onnx-import.ts.
import { AdaptiveAvgPool2d } from '../modules/adaptive-avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../modules/batch-norm';
import { Dropout } from '../modules/dropout';
import { Flatten } from '../modules/flatten';
import { LeakyReLU } from '../modules/leaky-relu';
import { Linear } from '../modules/linear';
import { Module } from '../modules/module';
import { ReLU } from '../modules/relu';
import { Sigmoid } from '../modules/sigmoid';
import { LogSoftmax, Softmax } from '../modules/softmax';
import { Tanh } from '../modules/tanh';
import { CONV_CONVERTERS } from './onnx-import-conv';
import {
  batchShape,
  float32Decimal,
  layerGenerator,
  list,
  q,
  type ConstTensor,
  type Converter,
  type NodeContext,
} from './onnx-import-proto';

/** A bias given as [], [1], [out], [1, 1] or [1, out], expanded to [out]; anything batch-shaped is rejected. */
function rowBias(ctx: NodeContext, t: ConstTensor, out: number, scale = 1): Float32Array {
  if (t.float === undefined) throw ctx.fail(`bias ${q(t.name)} must be float32`);
  const lead = t.dims.slice(0, -1);
  const last = t.dims.length === 0 ? 1 : t.dims[t.dims.length - 1];
  if (lead.length > 1 || lead.some((d) => d !== 1) || (last !== 1 && last !== out)) {
    throw ctx.fail(`bias ${q(t.name)} of shape ${list(t.dims)} does not broadcast as one row of ${out} values`);
  }
  const bias = new Float32Array(out);
  for (let j = 0; j < out; j++) bias[j] = scale * t.float[last === 1 ? 0 : j];
  return bias;
}

/** A Linear from weight [out, in] (or [in, out] when `transposed`), with an optional bias row. */
function linear(
  ctx: NodeContext,
  w: ConstTensor & { float: Float32Array },
  transposed: boolean,
  bias: Float32Array | undefined,
  alpha = 1,
): Module {
  ctx.expectRank(2, `${ctx.opType} is imported as Linear, which needs a 2-d input [N, features]`);
  if (w.dims.length !== 2) throw ctx.fail(`weight ${q(w.name)} must be 2-d, got ${list(w.dims)}`);
  const [outFeatures, inFeatures] = transposed ? [w.dims[1], w.dims[0]] : w.dims;
  if (inFeatures !== ctx.inShape[1]) {
    throw ctx.fail(`weight ${q(w.name)} ${list(w.dims)} takes ${inFeatures} features, the input has ${ctx.inShape[1]}`);
  }
  if (bias !== undefined && bias.length !== outFeatures)
    throw ctx.fail(`bias has ${bias.length} values, expected ${outFeatures}`);
  const layer = new Linear({ inFeatures, outFeatures, bias: bias !== undefined, generator: layerGenerator() });
  const dst = layer.weight.data.data;
  for (let o = 0; o < outFeatures; o++) {
    for (let i = 0; i < inFeatures; i++)
      dst[o * inFeatures + i] = alpha * w.float[transposed ? i * outFeatures + o : o * inFeatures + i];
  }
  if (bias !== undefined) layer.bias!.data.data.set(bias);
  return layer;
}

function gemm(ctx: NodeContext): Module {
  ctx.allowAttributes(['alpha', 'beta', 'transA', 'transB']);
  if (ctx.int('transA', 0) !== 0) throw ctx.fail('transA 1 (a transposed input) is not supported');
  const transB = ctx.int('transB', 0);
  if (transB !== 0 && transB !== 1) throw ctx.fail(`transB must be 0 or 1, got ${transB}`);
  // Y = alpha A B + beta C: alpha and beta are folded into the weight and the bias.
  const [alpha, beta] = [ctx.float('alpha', 1), ctx.float('beta', 1)];
  const w = ctx.floats(1, 'weight B');
  if (w.dims.length !== 2) throw ctx.fail(`weight B ${q(w.name)} must be 2-d, got ${list(w.dims)}`);
  const c = ctx.constant(2, 'bias C');
  const out = transB === 1 ? w.dims[0] : w.dims[1];
  return linear(ctx, w, transB === 0, c === undefined ? undefined : rowBias(ctx, c, out, beta), alpha);
}

/** MatMul by a constant [in, out] matrix, with the bias of the Add that follows it when there is one. */
export function matMul(ctx: NodeContext, add: NodeContext | undefined): Module {
  ctx.allowAttributes([]);
  const w = ctx.floats(1, 'weight');
  if (w.dims.length !== 2) throw ctx.fail(`weight ${q(w.name)} must be a 2-d matrix [in, out], got ${list(w.dims)}`);
  let bias: Float32Array | undefined;
  if (add !== undefined) {
    add.allowAttributes([]);
    const pos = add.inputName(0) === ctx.node.output?.[0] ? 1 : 0;
    const c = add.constant(pos, 'bias');
    if (c === undefined) throw add.fail('has no bias input');
    bias = rowBias(add, c, w.dims[1]);
  }
  return linear(ctx, w, true, bias);
}

function softmax(Cls: typeof Softmax | typeof LogSoftmax): Converter {
  return (ctx) => {
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

function flatten(ctx: NodeContext): Module {
  ctx.allowAttributes(['axis']);
  const rank = ctx.inShape.length;
  const given = ctx.int('axis', 1);
  const axis = given < 0 ? given + rank : given;
  if (axis !== 1)
    throw ctx.fail(
      `axis ${given} on the input ${batchShape(ctx.inShape)} would merge the batch dimension; only axis 1 is supported`,
    );
  return new Flatten();
}

/**
 * The layer giving each sample the shape `target` (without the batch): null when it is the input's, else a Flatten
 * of consecutive dims; `fail` explains anything else.
 */
function flattenTo(ctx: NodeContext, target: readonly number[], fail: (why: string) => Error): Module | null {
  const sample = ctx.inShape.slice(1);
  if (target.length === sample.length && target.every((d, i) => d === sample[i])) return null;
  const rank = ctx.inShape.length;
  for (let start = 1; start < rank; start++) {
    for (let end = start; end < rank; end++) {
      const merged = [
        ...sample.slice(0, start - 1),
        sample.slice(start - 1, end).reduce((a, b) => a * b, 1),
        ...sample.slice(end),
      ];
      if (merged.length === target.length && merged.every((d, i) => d === target[i])) {
        return new Flatten({ startDim: start, endDim: end === rank - 1 ? -1 : end });
      }
    }
  }
  throw fail('is not a flatten of consecutive dims (simdnet has no general reshape)');
}

/**
 * Reshape by a constant shape, or one folded from the tensor's shape, that keeps the batch first and merges
 * consecutive dims: a Flatten ([0, -1], [-1, K], [N, -1], PyTorch's view(x.size(0), -1)).
 */
function reshape(ctx: NodeContext): Module | null {
  ctx.allowAttributes(['allowzero']);
  const t = ctx.constant(1, 'shape', undefined, true);
  if (t === undefined || t.int === undefined || t.dims.length !== 1) throw ctx.fail('needs a constant 1-d int64 shape');
  const allowZero = ctx.int('allowzero', 0) === 1;
  const target = t.int.map((d, i) => (t.batch?.[i] ? 'batch' : d));
  const sample = ctx.inShape.slice(1);
  const size = sample.reduce((a, b) => a * b, 1);
  const fail = (why: string) => ctx.fail(`Reshape of ${batchShape(ctx.inShape)} to ${list(target)} ${why}`);
  if (target.length === 0) throw fail('drops the batch dimension');
  if (target.slice(1).includes('batch'))
    throw fail(`puts the batch size at position ${target.indexOf('batch', 1)}; only first is supported`);
  const dims = t.int;
  if (allowZero && dims.some((d, i) => d === 0 && !t.batch?.[i])) throw fail('has a 0 with allowzero 1');
  if (dims.filter((d) => d === -1).length > 1 || dims.some((d) => d < -1)) throw fail('is not a valid shape');
  // The batch stays first when it is copied (0 or the input's own size), inferred from fixed other dims (-1), or the input's fixed batch.
  const keepsBatch =
    target[0] === 'batch' ||
    dims[0] === 0 ||
    (dims[0] === -1 && !dims.slice(1).includes(-1)) ||
    dims[0] === ctx.inputBatch;
  if (!keepsBatch) throw fail('changes the batch dimension (use 0 or -1 first to keep the batch dynamic)');
  const rest = dims.slice(1).map((d, i) => (d === 0 ? (sample[i] ?? NaN) : d));
  const known = rest.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = rest.map((d) => (d === -1 ? size / known : d));
  if (resolved.some((d) => !Number.isSafeInteger(d) || d < 1) || resolved.reduce((a, b) => a * b, 1) !== size)
    throw fail('does not keep the sample size');
  return flattenTo(ctx, resolved, fail);
}

/** Squeeze of size-1 dims after the batch (a Flatten merging each into its neighbour); axes are required. */
function squeeze(ctx: NodeContext): Module | null {
  let axes: number[] | undefined;
  if (ctx.opset < 13) {
    ctx.allowAttributes(['axes']);
    axes = ctx.ints('axes');
  } else {
    ctx.allowAttributes([]);
    const t = ctx.constant(1, 'axes');
    if (t !== undefined && t.int === undefined) throw ctx.fail(`axes ${q(t.name)} must be int64`);
    axes = t?.int;
  }
  const rank = ctx.inShape.length;
  if (axes === undefined)
    throw ctx.fail('without axes would also squeeze a batch of 1; only explicit axes are supported');
  const at = axes.map((a) => (a < 0 ? a + rank : a));
  if (at.some((a) => a < 0 || a >= rank))
    throw ctx.fail(`axes ${list(axes)} are out of range for the input ${batchShape(ctx.inShape)}`);
  if (at.includes(0)) throw ctx.fail('squeezing axis 0 would drop the batch dimension');
  const bad = at.find((a) => ctx.inShape[a] !== 1);
  if (bad !== undefined)
    throw ctx.fail(`cannot squeeze axis ${bad} of the input ${batchShape(ctx.inShape)}: its size is not 1`);
  const target = ctx.inShape.slice(1).filter((_, i) => !at.includes(i + 1));
  return flattenTo(ctx, target, (why) =>
    ctx.fail(`Squeeze of ${batchShape(ctx.inShape)} to ${list(['batch', ...target])} ${why}`),
  );
}

/** ReduceMean over H and W of [N, C, H, W]: AdaptiveAvgPool2d(1), and a Flatten for keepdims 0 (PyTorch's x.mean((2, 3))). */
function reduceMean(ctx: NodeContext): Module[] {
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

function dropout(ctx: NodeContext): Module {
  ctx.allowAttributes(['ratio', 'seed', 'is_test']);
  const training = ctx.constant(2, 'training_mode');
  if (training !== undefined && (training.int === undefined || training.int.some((v) => v !== 0)))
    throw ctx.fail('training_mode true is not supported');
  let p = ctx.float('ratio', 0.5);
  const ratio = ctx.constant(1, 'ratio');
  if (ratio !== undefined) {
    if (ratio.float === undefined || ratio.float.length !== 1)
      throw ctx.fail(`ratio ${q(ratio.name)} must be one float32`);
    p = float32Decimal(ratio.float[0]);
  }
  if (!(p >= 0 && p < 1)) throw ctx.fail(`ratio ${p} must be within [0, 1)`);
  return new Dropout({ p, generator: layerGenerator() });
}

function elementwise(make: () => Module): Converter {
  return (ctx) => {
    ctx.allowAttributes([]);
    return make();
  };
}

/** The ops importOnnx turns into layers (MatMul, with its Add, is handled by the graph walk). */
export const CONVERTERS: Readonly<Record<string, Converter>> = {
  ...CONV_CONVERTERS,
  Gemm: gemm,
  Relu: elementwise(() => new ReLU()),
  Sigmoid: elementwise(() => new Sigmoid()),
  Tanh: elementwise(() => new Tanh()),
  LeakyRelu: (ctx) => {
    ctx.allowAttributes(['alpha']);
    return new LeakyReLU({ negativeSlope: ctx.float('alpha', 0.01) });
  },
  Softmax: softmax(Softmax),
  LogSoftmax: softmax(LogSoftmax),
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  ReduceMean: reduceMean,
  BatchNormalization: batchNormalization,
  Dropout: dropout,
  Identity: (ctx) => {
    ctx.allowAttributes([]);
    return null;
  },
};

/** Names of the supported ops, for error messages and docs. */
export const SUPPORTED_OPS = [...Object.keys(CONVERTERS), 'MatMul (+ Add)', 'Constant'].sort();
