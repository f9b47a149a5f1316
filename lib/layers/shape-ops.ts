// SPDX-License-Identifier: MIT
// The graph ops pad, slice and clamp: spec types, ONNX Pad / Slice / Clip both ways and their program ops. The maths
// is lib/modules/graph-ops-shape.ts.
import { list, printable, q, type ConstTensor, type NodeContext } from '../io/onnx-import-proto';
import { Clamp, Pad, Slice } from '../modules/graph-ops-shape';
import { Hardtanh } from '../modules/hardtanh';
import { MAX_RANK, OP } from '../modules/program-code';
import { ReLU6 } from '../modules/relu6';
import { opKind } from './kind';

/** Largest end index ONNX exporters write for "to the end" is INT64_MAX; anything this large means the same. */
const TO_THE_END = 2 ** 31;

/** An int64 constant input (or attribute before `attrOpset`), or undefined when absent. */
function ints(ctx: NodeContext, pos: number, what: string): number[] | undefined {
  const t: ConstTensor | undefined = ctx.constant(pos, what);
  if (t === undefined) return undefined;
  if (t.int === undefined) throw ctx.fail(`${what} ${q(t.name)} must be int64`);
  return t.int;
}

/** A scalar float constant input (Clip's min and max, Pad's constant_value), or undefined when absent. */
function scalar(ctx: NodeContext, pos: number, what: string): number | undefined {
  const t = ctx.constant(pos, what);
  if (t === undefined) return undefined;
  const values = t.float ?? t.int;
  if (values === undefined || values.length !== 1) throw ctx.fail(`${what} ${q(t.name)} must be one number`);
  return values[0];
}

/** What a Pad node says: its mode, pads per axis (batch first) and constant value. */
export interface OnnxPad {
  mode: string;
  pads: [number, number][];
  value: number;
}

/** Reads a Pad node's attributes and constant inputs (any mode), checking the pads against its input. */
export function readOnnxPad(ctx: NodeContext): OnnxPad {
  let pads: number[] | undefined;
  let value: number | undefined;
  let axes: number[] | undefined;
  if (ctx.opset < 11) {
    ctx.allowAttributes(['pads', 'value', 'mode']);
    pads = ctx.ints('pads');
    value = ctx.float('value', 0);
  } else {
    ctx.allowAttributes(['mode']);
    pads = ints(ctx, 1, 'pads');
    value = scalar(ctx, 2, 'constant_value');
    axes = ctx.opset >= 18 ? ints(ctx, 3, 'axes') : undefined;
  }
  const mode = ctx.string('mode', 'constant');
  const rank = ctx.inShape.length;
  const at = (axes ?? ctx.inShape.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  if (pads === undefined || pads.length !== 2 * at.length)
    throw ctx.fail(`pads ${pads ? list(pads) : '(none)'} must have 2 values per padded axis (${at.length})`);
  if (pads.some((p) => p < 0)) throw ctx.fail(`negative pads ${list(pads)} (cropping) are not supported`);
  const full = ctx.inShape.map(() => [0, 0] as [number, number]);
  at.forEach((a, j) => {
    if (a < 0 || a >= rank) throw ctx.fail(`axis ${axes?.[j]} is out of range for the input`);
    full[a] = [pads[j], pads[j + at.length]];
  });
  if (full[0][0] !== 0 || full[0][1] !== 0) throw ctx.fail('pads the batch dimension');
  return { mode, pads: full, value: value ?? 0 };
}

function padFromOnnx(ctx: NodeContext): Pad {
  const { mode, pads, value } = readOnnxPad(ctx);
  if (mode !== 'constant') {
    throw ctx.fail(
      `mode '${printable(mode)}' is not supported here: simdnet imports reflect, edge and wrap padding only as the padding mode of a Conv that alone reads the Pad (nothing but Constant nodes between them), and has no layer for such padding on its own`,
    );
  }
  return new Pad({ pads: pads.slice(1), value });
}

function sliceFromOnnx(ctx: NodeContext): Slice | null {
  let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
  if (ctx.opset < 10) {
    ctx.allowAttributes(['starts', 'ends', 'axes']);
    [starts, ends, axes] = [ctx.ints('starts'), ctx.ints('ends'), ctx.ints('axes')];
  } else {
    ctx.allowAttributes([]);
    [starts, ends, axes, steps] = [
      ints(ctx, 1, 'starts'),
      ints(ctx, 2, 'ends'),
      ints(ctx, 3, 'axes'),
      ints(ctx, 4, 'steps'),
    ];
  }
  if (starts === undefined || ends === undefined) throw ctx.fail('needs starts and ends');
  const n = starts.length;
  const rank = ctx.inShape.length;
  const at = (axes ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  const step = steps ?? new Array<number>(n).fill(1);
  if (ends.length !== n || at.length !== n || step.length !== n)
    throw ctx.fail(`starts ${list(starts)}, ends ${list(ends)}, axes and steps must have one value per sliced axis`);
  if (step.some((s) => s < 1)) throw ctx.fail(`steps ${list(step)}: only positive steps are supported`);
  const keep: number[] = [];
  for (let j = 0; j < n; j++) {
    if (at[j] < 0 || at[j] >= rank) throw ctx.fail(`axis ${axes?.[j]} is out of range for the input`);
    const whole = (starts[j] === 0 || starts[j] <= -TO_THE_END) && ends[j] >= TO_THE_END && step[j] === 1;
    if (at[j] === 0) {
      if (!whole) throw ctx.fail('slices the batch dimension');
      continue;
    }
    if (!whole) keep.push(j);
  }
  if (keep.length === 0) return null;
  return new Slice({
    axes: keep.map((j) => at[j]),
    starts: keep.map((j) => starts![j]),
    ends: keep.map((j) => (ends![j] >= TO_THE_END ? null : ends![j])),
    steps: keep.map((j) => step[j]),
  });
}

/**
 * Clip with both bounds is PyTorch's Hardtanh (ReLU6 for [0, 6]): imported as that layer, so a chain stays a Sequential.
 * One bound, or equal bounds, is the clamp op. (The values are the same; only the gradient at a bound differs.)
 */
function clipFromOnnx(ctx: NodeContext): Clamp | Hardtanh | null {
  let min: number | undefined, max: number | undefined;
  if (ctx.opset < 11) {
    ctx.allowAttributes(['min', 'max']);
    min = ctx.has('min') ? ctx.float('min', 0) : undefined;
    max = ctx.has('max') ? ctx.float('max', 0) : undefined;
  } else {
    ctx.allowAttributes([]);
    [min, max] = [scalar(ctx, 1, 'min'), scalar(ctx, 2, 'max')];
  }
  if (min === undefined && max === undefined) return null;
  if (min !== undefined && max !== undefined && max > min)
    return min === 0 && max === 6 ? new ReLU6() : new Hardtanh({ minVal: min, maxVal: max });
  return new Clamp({ min: min ?? null, max: max ?? null });
}

export const padKind = opKind<Pad>({
  op: Pad,
  type: 'pad',
  options: ['pads', 'value'],
  make: (o) => new Pad(o as never),
  toOnnx: (op, ctx) => {
    const pads = [0, ...op.pads.map((p) => p[0]), 0, ...op.pads.map((p) => p[1])];
    const value = ctx.g.floatInit(`${ctx.nodeName}.onnx_value`, Float32Array.of(op.value), []);
    return ctx.node('Pad', [ctx.x, ctx.g.int64Init(`${ctx.nodeName}.onnx_pads`, pads), value], { mode: 'constant' });
  },
  fromOnnx: { Pad: padFromOnnx },
  program: (op, p) => {
    const rank = p.inShape.length - 1;
    if (rank < 1 || rank > MAX_RANK) return false;
    const value = p.param(Float32Array.of(op.value));
    p.emit(OP.pad, rank, ...p.inShape.slice(1), ...op.pads.map((d) => d[0]), ...op.pads.map((d) => d[1]), value);
    return true;
  },
});

export const sliceKind = opKind<Slice>({
  op: Slice,
  type: 'slice',
  options: ['axes', 'starts', 'ends', 'steps'],
  make: (o) => new Slice(o as never),
  // Exported with the resolved ranges of the export's input shape (INT64_MAX cannot be written exactly from JS).
  toOnnx: (op, ctx) => {
    const { start, step, count } = op.ranges(ctx.inShape);
    const axes = op.axes.map((a) => (a < 0 ? a + ctx.inShape.length : a));
    const int = (what: string, v: number[]) => ctx.g.int64Init(`${ctx.nodeName}.onnx_${what}`, v);
    return ctx.node('Slice', [
      ctx.x,
      int(
        'starts',
        axes.map((a) => start[a]),
      ),
      int(
        'ends',
        axes.map((a) => start[a] + (count[a] - 1) * step[a] + 1),
      ),
      int('axes', axes),
      int(
        'steps',
        axes.map((a) => step[a]),
      ),
    ]);
  },
  fromOnnx: { Slice: sliceFromOnnx },
  program: (op, p) => {
    const rank = p.inShape.length - 1;
    if (rank < 1 || rank > MAX_RANK) return false;
    const { start, step } = op.ranges(p.inShape);
    p.emit(OP.slice, rank, ...p.inShape.slice(1), ...start.slice(1), ...step.slice(1), ...p.outShape.slice(1));
    return true;
  },
});

export const clampKind = opKind<Clamp>({
  op: Clamp,
  type: 'clamp',
  options: ['min', 'max'],
  make: (o) => new Clamp(o as never),
  toOnnx: (op, ctx) => {
    const bound = (what: string, v: number | null) =>
      v === null ? '' : ctx.g.floatInit(`${ctx.nodeName}.onnx_${what}`, Float32Array.of(v), []);
    return ctx.node('Clip', [ctx.x, bound('min', op.min), bound('max', op.max)]);
  },
  fromOnnx: { Clip: clipFromOnnx },
  program: (op, p) => {
    const bounds = p.param(Float32Array.of(op.min ?? -Infinity, op.max ?? Infinity));
    p.emit(
      OP.clamp,
      p.inShape.slice(1).reduce((a, b) => a * b, 1),
      bounds,
    );
    return true;
  },
});
