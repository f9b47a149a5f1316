// SPDX-License-Identifier: MIT
// ONNX import, folding: evaluates the side computations exporters write on constants and tensor shapes (PyTorch's
// x.view(x.size(0), -1) as Shape, Gather, Unsqueeze, Concat) into constants, with the batch size kept symbolic;
// the graph walk is onnx-import.ts, the layers onnx-import-ops.ts.
import { onnx } from 'onnx-proto';
import { list, q, type ConstTensor, type NodeContext } from './onnx-import-proto';

const { DataType } = onnx.TensorProto;

/** Ops folded into a constant when all their inputs are constants (Shape: when it reads a tensor of the chain). */
export const FOLDABLE_OPS: ReadonlySet<string> = new Set([
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'Cast',
  'Identity',
  'Reshape',
  'Flatten',
  'Transpose',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'ConstantOfShape',
]);

/** Most elements a folded value may have: a hostile ConstantOfShape must not allocate gigabytes. */
const MAX_FOLDED = 1 << 24;

/** A value being folded: row-major `values`, and where they stand for the batch size (see ConstTensor.batch). */
interface Value {
  dims: number[];
  values: number[];
  float: boolean;
  batch: boolean[] | undefined;
}

const count = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function toValue(t: ConstTensor): Value {
  return {
    dims: t.dims,
    values: t.float !== undefined ? Array.from(t.float) : (t.int ?? []),
    float: t.float !== undefined,
    batch: t.batch,
  };
}

function toConst(name: string, v: Value): ConstTensor {
  const batch = v.batch?.some((b) => b) ? { batch: v.batch } : {};
  return v.float
    ? { name, dims: v.dims, float: Float32Array.from(v.values), ...batch }
    : { name, dims: v.dims, int: v.values, ...batch };
}

/** The elements of `v` at the flat indices `src`, shaped `dims` (every movement op reduces to this). */
function pick(v: Value, src: readonly number[], dims: number[]): Value {
  return { dims, values: src.map((i) => v.values[i]), float: v.float, batch: v.batch && src.map((i) => v.batch![i]) };
}

/** Flat source indices of the sub-grid that takes, along each axis k, the indices `picks[k]`. */
function grid(dims: readonly number[], picks: readonly (readonly number[])[]): number[] {
  let out = [0];
  for (let k = 0; k < dims.length; k++) {
    const next: number[] = [];
    for (const base of out) for (const i of picks[k]) next.push(base * dims[k] + i);
    out = next;
  }
  return out;
}

/** Folds one node of FOLDABLE_OPS whose inputs are known, giving the value of its (first) output. */
export function foldNode(ctx: NodeContext, shapeOf: (name: string) => readonly number[] | undefined): ConstTensor {
  const op = ctx.opType;
  const input = (pos: number, what: string): Value => {
    const t = ctx.constant(pos, what, undefined, true);
    if (t === undefined) throw ctx.fail(`has no ${what} (input ${pos})`);
    return toValue(t);
  };
  const optional = (pos: number, what: string): Value | undefined =>
    ctx.inputName(pos) === undefined ? undefined : input(pos, what);
  const ints = (v: Value, what: string): number[] => {
    if (v.float) throw ctx.fail(`${what} must be integers`);
    if (v.batch?.some((b) => b))
      throw ctx.fail(`${what} is computed from the batch size, which simdnet knows only at run time`);
    return v.values;
  };
  const axis = (a: number, rank: number): number => {
    if (a < -rank || a >= rank) throw ctx.fail(`axis ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  };
  // Opset 13 moved the axes of Squeeze and Unsqueeze from an attribute to an input.
  const axesOf = (pos: number, attrBefore: number): number[] | undefined => {
    if (ctx.opset < attrBefore) {
      ctx.allowAttributes(['axes']);
      return ctx.ints('axes');
    }
    ctx.allowAttributes([]);
    const a = optional(pos, 'axes');
    return a && ints(a, 'axes');
  };
  const out = (v: Value): ConstTensor => {
    if (v.values.length > MAX_FOLDED)
      throw ctx.fail(`folds to ${v.values.length} values, more than simdnet folds (${MAX_FOLDED})`);
    return toConst(ctx.node.output?.[0] ?? '', v);
  };

  switch (op) {
    case 'Shape': {
      ctx.allowAttributes(['start', 'end']);
      // A tensor of the chain has the batch first; a constant's shape is all fixed.
      const chain = shapeOf(ctx.inputName(0) ?? '');
      const shape = chain ?? input(0, 'input').dims;
      const clamp = (a: number) => Math.min(Math.max(a < 0 ? a + shape.length : a, 0), shape.length);
      const [start, end] = [clamp(ctx.int('start', 0)), clamp(ctx.int('end', shape.length))];
      const kept = shape.map((_, i) => i).slice(start, end);
      return out({
        dims: [kept.length],
        values: kept.map((i) => shape[i]),
        float: false,
        batch: kept.map((i) => i === 0 && chain !== undefined),
      });
    }
    case 'Identity':
      ctx.allowAttributes([]);
      return out(input(0, 'input'));
    case 'Cast': {
      ctx.allowAttributes(['to', 'saturate']);
      const v = input(0, 'input');
      const to = ctx.int('to', 0);
      if (to === DataType.FLOAT || to === DataType.DOUBLE)
        return out({ ...v, values: v.values.map(Math.fround), float: true });
      if (to === DataType.INT64 || to === DataType.INT32)
        return out({ ...v, values: v.values.map(Math.trunc), float: false });
      if (to === DataType.BOOL)
        return out({ ...v, values: v.values.map((x) => (x !== 0 ? 1 : 0)), float: false, batch: undefined });
      throw ctx.fail(
        `Cast to ${(DataType as unknown as Record<number, string | undefined>)[to] ?? to} is not folded (only FLOAT, DOUBLE, INT64, INT32, BOOL)`,
      );
    }
    case 'Gather': {
      ctx.allowAttributes(['axis']);
      const [data, idx] = [input(0, 'data'), input(1, 'indices')];
      const a = axis(ctx.int('axis', 0), data.dims.length);
      const n = data.dims[a];
      const indices = ints(idx, 'indices').map((i) => {
        if (i < -n || i >= n) throw ctx.fail(`index ${i} is out of range for size ${n}`);
        return i < 0 ? i + n : i;
      });
      const picks = data.dims.map((d, k) => (k === a ? indices : Array.from({ length: d }, (_, i) => i)));
      if (count(data.dims.map((d, k) => (k === a ? indices.length : d))) > MAX_FOLDED)
        throw ctx.fail('folds to too many values');
      return out(
        pick(data, grid(data.dims, picks), [...data.dims.slice(0, a), ...idx.dims, ...data.dims.slice(a + 1)]),
      );
    }
    case 'Unsqueeze': {
      const v = input(0, 'input');
      const axes = axesOf(1, 13);
      if (axes === undefined) throw ctx.fail('has no axes');
      const rank = v.dims.length + axes.length;
      const at = axes.map((a) => axis(a, rank));
      if (new Set(at).size !== at.length) throw ctx.fail(`axes ${list(axes)} repeat an axis`);
      const dims: number[] = [];
      for (let k = 0, j = 0; k < rank; k++) dims.push(at.includes(k) ? 1 : v.dims[j++]);
      return out({ ...v, dims });
    }
    case 'Squeeze': {
      const v = input(0, 'input');
      const axes = axesOf(1, 13);
      const at =
        axes === undefined ? v.dims.flatMap((d, k) => (d === 1 ? [k] : [])) : axes.map((a) => axis(a, v.dims.length));
      for (const k of at) if (v.dims[k] !== 1) throw ctx.fail(`cannot squeeze axis ${k} of size ${v.dims[k]}`);
      return out({ ...v, dims: v.dims.filter((_, k) => !at.includes(k)) });
    }
    case 'Concat': {
      ctx.allowAttributes(['axis']);
      const parts = (ctx.node.input ?? []).map((_, k) => input(k, `input ${k}`));
      if (parts.length === 0) throw ctx.fail('has no inputs');
      const rank = parts[0].dims.length;
      if (!ctx.has('axis')) throw ctx.fail('has no axis');
      const a = axis(ctx.int('axis', 0), rank);
      for (const p of parts) {
        if (
          p.float !== parts[0].float ||
          p.dims.length !== rank ||
          p.dims.some((d, k) => k !== a && d !== parts[0].dims[k])
        ) {
          throw ctx.fail(
            `inputs of shapes ${parts.map((x) => list(x.dims)).join(', ')} do not concatenate on axis ${a}`,
          );
        }
      }
      const dims = parts[0].dims.map((d, k) => (k === a ? parts.reduce((s, p) => s + p.dims[a], 0) : d));
      if (count(dims) > MAX_FOLDED) throw ctx.fail('folds to too many values');
      const outer = count(dims.slice(0, a));
      const values: number[] = [];
      const batch: boolean[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const block = count(p.dims.slice(a));
          for (let i = o * block; i < (o + 1) * block; i++) {
            values.push(p.values[i]);
            batch.push(p.batch?.[i] ?? false);
          }
        }
      }
      return out({ dims, values, float: parts[0].float, batch });
    }
    case 'Slice': {
      const v = input(0, 'data');
      let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
      if (ctx.opset < 10) {
        ctx.allowAttributes(['starts', 'ends', 'axes']);
        [starts, ends, axes] = [ctx.ints('starts') ?? [], ctx.ints('ends') ?? [], ctx.ints('axes')];
      } else {
        ctx.allowAttributes([]);
        [starts, ends] = [ints(input(1, 'starts'), 'starts'), ints(input(2, 'ends'), 'ends')];
        const [a, s] = [optional(3, 'axes'), optional(4, 'steps')];
        [axes, steps] = [a && ints(a, 'axes'), s && ints(s, 'steps')];
      }
      if (
        ends.length !== starts.length ||
        (axes && axes.length !== starts.length) ||
        (steps && steps.length !== starts.length)
      ) {
        throw ctx.fail(
          `starts ${list(starts)}, ends ${list(ends)}, axes and steps must have one value per sliced axis`,
        );
      }
      const picks = v.dims.map((d) => Array.from({ length: d }, (_, i) => i));
      starts.forEach((start, j) => {
        const k = axis(axes ? axes[j] : j, v.dims.length);
        const [d, step] = [v.dims[k], steps ? steps[j] : 1];
        if (step === 0) throw ctx.fail('has a step of 0');
        // ONNX's clamping: negative positions count from the end; a step < 0 runs from d - 1 down to -1 (exclusive).
        const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x < 0 ? x + d : x, lo), hi);
        const [s, e] =
          step > 0 ? [clamp(start, 0, d), clamp(ends[j], 0, d)] : [clamp(start, 0, d - 1), clamp(ends[j], -1, d - 1)];
        const idx: number[] = [];
        for (let i = s; step > 0 ? i < e : i > e; i += step) idx.push(i);
        picks[k] = idx;
      });
      return out(
        pick(
          v,
          grid(v.dims, picks),
          picks.map((p) => p.length),
        ),
      );
    }
    case 'Reshape':
    case 'Flatten': {
      const v = input(0, 'data');
      let dims: number[];
      if (op === 'Flatten') {
        ctx.allowAttributes(['axis']);
        const a = ctx.int('axis', 1);
        const k = a < 0 ? a + v.dims.length : a;
        if (k < 0 || k > v.dims.length) throw ctx.fail(`axis ${a} is out of range for rank ${v.dims.length}`);
        dims = [count(v.dims.slice(0, k)), count(v.dims.slice(k))];
      } else {
        ctx.allowAttributes(['allowzero']);
        const target = ints(input(1, 'shape'), 'shape');
        const allowZero = ctx.int('allowzero', 0) === 1;
        dims = target.map((d, k) => (d === 0 && !allowZero ? v.dims[k] : d));
        const known = count(dims.filter((d) => d !== -1));
        if (
          dims.filter((d) => d === -1).length > 1 ||
          dims.some((d) => d < -1 || d === undefined) ||
          (dims.includes(-1) && known === 0)
        ) {
          throw ctx.fail(`cannot reshape ${list(v.dims)} to ${list(target)}`);
        }
        dims = dims.map((d) => (d === -1 ? v.values.length / known : d));
      }
      if (dims.some((d) => !Number.isSafeInteger(d)) || count(dims) !== v.values.length)
        throw ctx.fail(`cannot reshape ${list(v.dims)} to ${list(dims)}`);
      return out({ ...v, dims });
    }
    case 'Transpose': {
      ctx.allowAttributes(['perm']);
      const v = input(0, 'data');
      const rank = v.dims.length;
      const perm = ctx.ints('perm') ?? v.dims.map((_, k) => rank - 1 - k);
      if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, k) => p !== k))
        throw ctx.fail(`perm ${list(perm)} is not a permutation of ${rank} axes`);
      const dims = perm.map((p) => v.dims[p]);
      const strides = v.dims.map((_, k) => count(v.dims.slice(k + 1)));
      const src = grid(
        dims,
        dims.map((d) => Array.from({ length: d }, (_, i) => i)),
      ).map((flat) => {
        let s = 0;
        for (let k = rank - 1; k >= 0; k--) {
          s += (flat % dims[k]) * strides[perm[k]];
          flat = Math.floor(flat / dims[k]);
        }
        return s;
      });
      return out(pick(v, src, dims));
    }
    case 'Neg': {
      ctx.allowAttributes([]);
      const v = input(0, 'input');
      if (v.batch?.some((b) => b)) throw ctx.fail('computes with the batch size, which simdnet knows only at run time');
      return out({ ...v, values: v.values.map((x) => (x === 0 ? 0 : -x)) });
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      ctx.allowAttributes([]);
      return out(arithmetic(ctx, input(0, 'A'), input(1, 'B')));
    case 'ConstantOfShape': {
      ctx.allowAttributes(['value']);
      const dims = ints(input(0, 'shape'), 'shape');
      if (dims.some((d) => d < 0) || count(dims) > MAX_FOLDED)
        throw ctx.fail(`shape ${list(dims)} is negative or too large to fold`);
      const fill = ctx.tensor('value') ?? { name: '', dims: [1], float: Float32Array.of(0) };
      const one = toValue(fill);
      if (one.values.length !== 1) throw ctx.fail('value must hold one element');
      return out({
        dims,
        values: new Array<number>(count(dims)).fill(one.values[0]),
        float: one.float,
        batch: undefined,
      });
    }
    default:
      throw ctx.fail(`op ${op} is not folded`);
  }
}

/** Add, Sub, Mul or Div of two constants of one type, broadcast as numpy does; integer Div truncates, as C does. */
function arithmetic(ctx: NodeContext, a: Value, b: Value): Value {
  if (a.float !== b.float) throw ctx.fail('inputs of two types (float and integer)');
  if (a.batch?.some((x) => x) || b.batch?.some((x) => x)) {
    throw ctx.fail(
      "computes with the batch size, which simdnet knows only at run time (only copying it into a Reshape's shape is followed)",
    );
  }
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const [da, db] = [pad(a.dims), pad(b.dims)];
  const dims = da.map((d, k) => {
    if (d !== db[k] && d !== 1 && db[k] !== 1)
      throw ctx.fail(`shapes ${list(a.dims)} and ${list(b.dims)} do not broadcast`);
    return d === 1 ? db[k] : d;
  });
  if (count(dims) > MAX_FOLDED) throw ctx.fail('folds to too many values');
  const all = dims.map((d) => Array.from({ length: d }, (_, i) => i));
  const ia = grid(
    da,
    all.map((p, k) => (da[k] === 1 ? p.map(() => 0) : p)),
  );
  const ib = grid(
    db,
    all.map((p, k) => (db[k] === 1 ? p.map(() => 0) : p)),
  );
  const f = {
    Add: (x: number, y: number) => x + y,
    Sub: (x: number, y: number) => x - y,
    Mul: (x: number, y: number) => x * y,
    Div: (x: number, y: number) => x / y,
  }[ctx.opType as 'Add'];
  const values = ia.map((i, n) => {
    const [x, y] = [a.values[i], b.values[ib[n]]];
    if (a.float) return Math.fround(f(x, y));
    if (ctx.opType === 'Div' && y === 0) throw ctx.fail('divides an integer by 0');
    const r = ctx.opType === 'Div' ? Math.trunc(x / y) : f(x, y);
    if (!Number.isSafeInteger(r)) throw ctx.fail(`${x} ${ctx.opType} ${y} is not an integer JS can hold exactly`);
    return r;
  });
  return { dims, values, float: a.float, batch: undefined };
}

/** Why a foldable node could not be folded, for its error (`known` tells whether an input is a constant or a shape). */
export function unfoldable(ctx: NodeContext, known: (name: string) => boolean): string {
  const unknown = (ctx.node.input ?? []).filter((n) => n && !known(n));
  if (unknown.length === 0) return 'has no inputs to fold';
  const what = ctx.opType === 'Shape' ? 'the shape of a tensor computed before it' : 'constants and tensor shapes';
  return `computes on ${unknown.slice(0, 4).map(q).join(', ')}: simdnet folds ${ctx.opType} only when it reads ${what}, and has no layer for it`;
}
