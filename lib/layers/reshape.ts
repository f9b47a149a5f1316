// SPDX-License-Identifier: MIT
// The reshape graph op: spec type, ONNX Reshape export, and the import of Reshape, Squeeze and Unsqueeze of computed
// values (as a Flatten when they merge consecutive dims, else a reshape op). Programs keep values flat: it vanishes.
import { batchShape, list, q, type NodeContext } from '../io/onnx-import-proto';
import { Flatten } from '../modules/flatten';
import type { GraphOp } from '../modules/graph-op';
import { Reshape } from '../modules/graph-ops-shape';
import type { Module } from '../modules/module';
import { opKind } from './kind';

/**
 * What gives each sample the shape `target` (without the batch): null when it is the input's, a Flatten when it merges
 * consecutive dims (so chains import as before, with Flatten layers), else a reshape op.
 */
function reshapeTo(ctx: NodeContext, target: readonly number[]): Module | GraphOp | null {
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
  return new Reshape({ shape: target });
}

/**
 * Reshape by a constant shape, or one folded from the tensor's shape, that keeps the batch first (a Flatten for
 * [0, -1], [-1, K], [N, -1], PyTorch's view(x.size(0), -1); a reshape op for view(b, c, 1, 1)).
 */
function reshapeFromOnnx(ctx: NodeContext): Module | GraphOp | null {
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
  return reshapeTo(ctx, resolved);
}

/** The axes of a Squeeze or Unsqueeze: an attribute before opset 13, an input from 13. */
function axesOf(ctx: NodeContext): number[] | undefined {
  if (ctx.opset < 13) {
    ctx.allowAttributes(['axes']);
    return ctx.ints('axes');
  }
  ctx.allowAttributes([]);
  const t = ctx.constant(1, 'axes');
  if (t !== undefined && t.int === undefined) throw ctx.fail(`axes ${q(t.name)} must be int64`);
  return t?.int;
}

/** Squeeze of size-1 dims after the batch (a Flatten merging each into its neighbour); axes are required. */
function squeezeFromOnnx(ctx: NodeContext): Module | GraphOp | null {
  const axes = axesOf(ctx);
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
  return reshapeTo(
    ctx,
    ctx.inShape.slice(1).filter((_, i) => !at.includes(i + 1)),
  );
}

/** Unsqueeze of a computed value (s[:, :, None, None]): new size-1 dims after the batch, as a reshape. */
function unsqueezeFromOnnx(ctx: NodeContext): Module | GraphOp | null {
  const axes = axesOf(ctx);
  if (axes === undefined || axes.length === 0) throw ctx.fail('has no axes');
  const rank = ctx.inShape.length + axes.length;
  const at = axes.map((a) => (a < 0 ? a + rank : a));
  if (at.some((a) => a < 0 || a >= rank) || new Set(at).size !== at.length)
    throw ctx.fail(`axes ${list(axes)} are out of range or repeated for the output rank ${rank}`);
  if (at.includes(0)) throw ctx.fail('inserting axis 0 would move the batch dimension');
  const out: number[] = [];
  let next = 1;
  for (let d = 1; d < rank; d++) out.push(at.includes(d) ? 1 : ctx.inShape[next++]);
  return reshapeTo(ctx, out);
}

export const reshapeKind = opKind<Reshape>({
  op: Reshape,
  type: 'reshape',
  options: ['shape'],
  make: (o) => new Reshape(o as { shape: number[] }),
  // 0 copies the dynamic batch size.
  toOnnx: (op, ctx) => {
    const target = op.outputShape([ctx.inShape]).map((d, i) => (i === 0 ? 0 : d));
    return ctx.node('Reshape', [ctx.x, ctx.g.int64Init(`${ctx.nodeName}.onnx_shape`, target)]);
  },
  fromOnnx: { Reshape: reshapeFromOnnx, Squeeze: squeezeFromOnnx, Unsqueeze: unsqueezeFromOnnx },
  program: 'identity',
});
