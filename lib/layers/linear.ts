// SPDX-License-Identifier: MIT
// Linear: spec type, MACs, ONNX Gemm both ways (and MatMul + Add on import) and the program's linear op.
import { layerGenerator, list, q, type ConstTensor, type NodeContext } from '../io/onnx-import-proto';
import { BatchNorm1d } from '../modules/batch-norm';
import { Linear, type LinearOptions } from '../modules/linear';
import type { Module } from '../modules/module';
import { OP } from '../modules/program-code';
import { formatShape, shapeSize } from '../tensor/shape';
import { layerKind } from './kind';
import { infer, needRank, num } from './spec';

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

/**
 * MatMul by a constant [in, out] matrix, with the bias of the Add that follows it when there is one (the graph walk in
 * onnx-import.ts finds that Add).
 */
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

export const linearKind = layerKind<Linear>({
  module: Linear,
  spec: [
    {
      type: 'linear',
      options: ['inFeatures', 'outFeatures', 'bias'],
      normalise(o, shape, where) {
        needRank(where, 'linear', shape, [2], '2-D [N, features] (put a flatten before it)');
        return infer(o, 'inFeatures', shape[1]);
      },
      stateValues(o) {
        const out = num(o.outFeatures, NaN);
        return num(o.inFeatures, NaN) * out + (o.bias === false ? 0 : out);
      },
      build: (o, rng) => new Linear({ ...o, generator: rng } as unknown as LinearOptions),
    },
  ],
  /** MACs = N * inFeatures * outFeatures (bias adds not counted). */
  macs: (fc, _input, output) => shapeSize(output) * fc.inFeatures,
  toOnnx: (fc, ctx) => {
    if (ctx.inShape.length !== 2)
      throw ctx.unsupported(`is exported as Gemm, which needs a 2-d input, got ${formatShape(ctx.inShape)}`);
    const inputs = [ctx.x, ctx.g.floatInit(`${ctx.prefix}weight`, fc.weight.data)];
    if (fc.bias) inputs.push(ctx.g.floatInit(`${ctx.prefix}bias`, fc.bias.data));
    return ctx.node('Gemm', inputs, { transB: 1 });
  },
  fromOnnx: { Gemm: gemm },
  program: (fc, p) => {
    if (p.inShape.length !== 2) return false;
    p.emit(OP.linear, fc.inFeatures, fc.outFeatures, p.fuseRelu() ? 1 : 0, ...p.weights(fc));
    return true;
  },
  foldsBatchNorm: (_fc, norm) => norm instanceof BatchNorm1d,
});
