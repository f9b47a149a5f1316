// SPDX-License-Identifier: MIT
// The graph ops that combine values: Add and Mul (element-wise, broadcasting like PyTorch) and Concat (along one dim).
// Reshape, Pad, Slice and Clamp are graph-ops-shape.ts.
import { checkInt, describe } from '../check';
import { native } from '../native';
import { formatShape, sameShape, shapeSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { checkArity, GraphOp, type OpContext } from './graph-op';

/**
 * The shape two inputs broadcast to (PyTorch's and NumPy's rule, at equal rank): each dim equal, or 1 on one side.
 * The batch dims must be equal.
 */
export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const fail = () =>
    new RangeError(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (each dim equal or 1)`);
  if (a.length !== b.length) {
    throw new RangeError(
      `${op}: inputs ${formatShape(a)} and ${formatShape(b)} have different ranks; reshape one first (broadcasting keeps the batch first)`,
    );
  }
  if (a.length === 0) throw fail();
  if (a[0] !== b[0]) throw new RangeError(`${op}: batch sizes ${a[0]} and ${b[0]} differ`);
  return a.map((d, i) => {
    if (d === b[i] || b[i] === 1) return d;
    if (d === 1) return b[i];
    throw fail();
  });
}

/** Element strides of `shape` read as `out` (0 along a broadcast dim). */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 && out[d] !== 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Calls visit(i, ia, ib) for every flat index i of `out` with the matching flat indices of a and b (broadcast by
 * their strides), in row-major order.
 */
function walk(
  out: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
  visit: (i: number, ia: number, ib: number) => void,
): void {
  const rank = out.length;
  const size = shapeSize(out);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < size; i++) {
    visit(i, ia, ib);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

/** Sums `g` (of shape `out`) down to `shape` over the broadcast dims, in float64, into a new tensor. */
function reduceTo(g: Float32Array, out: readonly number[], shape: readonly number[], into: Tensor): Tensor {
  const sums = new Float64Array(into.size);
  const strides = broadcastStrides(shape, out);
  walk(out, strides, strides, (i, ia) => {
    sums[ia] += g[i];
  });
  into.data.set(sums);
  return into;
}

/** a + b or a * b element-wise with broadcasting (equal ranks; each dim equal or 1, as torch.add / torch.mul). */
abstract class Binary extends GraphOp {
  readonly arity = 2;
  private saved: readonly Tensor[] | null = null;

  protected abstract apply(x: number, y: number): number;

  /** o = x (op) y element-wise for inputs of one shape: a plain loop per op, as fast as V8 runs one. */
  protected abstract applyAll(x: Float32Array, y: Float32Array, o: Float32Array): void;

  outputShape(inputs: readonly (readonly number[])[]): number[] {
    checkArity(this, inputs.length);
    return broadcastShape(this.type, inputs[0], inputs[1]);
  }

  forward(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    const [a, b] = inputs;
    const shape = this.outputShape([a.shape, b.shape]);
    const out = ctx.scratch('out', shape);
    const [x, y, o] = [a.data, b.data, out.data];
    if (sameShape(a.shape, b.shape)) {
      this.applyAll(x, y, o);
    } else {
      walk(shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), (i, ia, ib) => {
        o[i] = this.apply(x[ia], y[ib]);
      });
    }
    this.keepShapes(inputs, ctx);
    if (ctx.keep) this.saved = this.type === 'mul' ? inputs : null;
    return out;
  }

  /** The inputs of the last training-mode forward (Mul's gradient needs them). */
  protected savedInputs(): readonly Tensor[] {
    if (this.saved === null) throw new Error(`${this.type}.backward: call forward() first`);
    return this.saved;
  }

  options(): Record<string, unknown> {
    return {};
  }
}

/** a + b with broadcasting: the residual connection. Gradients: dout, summed over each input's broadcast dims. */
export class Add extends Binary {
  readonly type = 'add';

  protected apply(x: number, y: number): number {
    return x + y;
  }

  protected applyAll(x: Float32Array, y: Float32Array, o: Float32Array): void {
    if (o.length > 0) native.add(o, x, y);
  }

  /**
   * relu(a + b) for inputs of one shape in one pass, the bits of forward() then a ReLU: Graph calls it when only a
   * ReLU reads this add's output. backward() is unchanged (the ReLU's runs before it).
   */
  forwardWithRelu(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    const [a, b] = inputs;
    if (!sameShape(a.shape, b.shape)) throw new Error('add.forwardWithRelu: only for inputs of one shape');
    const out = ctx.scratch('out', a.shape);
    if (out.size > 0) native.addRelu(out.data, a.data, b.data);
    this.keepShapes(inputs, ctx);
    return out;
  }

  /**
   * Records inputs of one shape whose sum (and ReLU) a BatchNorm before this add computed in its own pass
   * (BatchNormBase.forwardWithAddRelu, run by Graph): backward() then runs as after forward().
   */
  keepInputs(inputs: readonly Tensor[], ctx: OpContext): void {
    this.keepShapes(inputs, ctx);
  }

  backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[] {
    const shapes = this.shapes();
    return shapes.map((shape, k) => {
      if (!needed[k]) return null;
      // The same gradient flows to an input of the output's shape (the Graph adds into it once nothing else holds it).
      if (sameShape(shape, doutput.shape)) return doutput;
      return reduceTo(doutput.data, doutput.shape, shape, ctx.scratch(`d${k}`, shape));
    });
  }
}

/** a * b with broadcasting (squeeze-and-excitation's x * s for s of shape [N, C, 1, 1]). */
export class Mul extends Binary {
  readonly type = 'mul';

  protected apply(x: number, y: number): number {
    return x * y;
  }

  protected applyAll(x: Float32Array, y: Float32Array, o: Float32Array): void {
    for (let i = 0; i < o.length; i++) o[i] = x[i] * y[i];
  }

  backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[] {
    const [a, b] = this.savedInputs();
    const out = doutput.shape;
    const g = doutput.data;
    const grad = (k: number, mine: Tensor, other: Tensor): Tensor | null => {
      if (!needed[k]) return null;
      const dx = ctx.scratch(`d${k}`, mine.shape);
      const so = broadcastStrides(other.shape, out);
      const sm = broadcastStrides(mine.shape, out);
      if (sameShape(mine.shape, out)) {
        const o = other.data;
        walk(out, sm, so, (i, _im, io) => {
          dx.data[i] = g[i] * o[io];
        });
        return dx;
      }
      const sums = new Float64Array(dx.size);
      const o = other.data;
      walk(out, sm, so, (i, im, io) => {
        sums[im] += g[i] * o[io];
      });
      dx.data.set(sums);
      return dx;
    };
    return [grad(0, a, b), grad(1, b, a)];
  }
}

export interface ConcatOptions {
  /** The dim to join along; default 1 (channels). Negative counts from the end; never the batch (0). */
  dim?: number;
}

/** Joins inputs along `dim` (torch.cat); the other dims must be equal. Gradient: the matching slice of dout for each. */
export class Concat extends GraphOp {
  readonly type = 'concat';
  readonly arity = 'many';
  readonly dim: number;

  constructor(options: ConcatOptions = {}) {
    super();
    if (options === null || typeof options !== 'object')
      throw new TypeError(`concat: options must be an object, got ${describe(options)}`);
    const unknown = Object.keys(options).find((k) => k !== 'dim');
    if (unknown !== undefined) throw new RangeError(`concat: unknown option '${unknown}'`);
    this.dim = checkInt('concat: dim', options.dim ?? 1, -64);
    if (this.dim === 0) throw new RangeError('concat: dim 0 would join along the batch');
  }

  /** The dim as a positive index for rank `rank`. */
  axis(rank: number): number {
    const d = this.dim < 0 ? this.dim + rank : this.dim;
    if (d < 1 || d >= rank)
      throw new RangeError(`concat: dim ${this.dim} is out of range for ${rank}-d inputs (or is the batch)`);
    return d;
  }

  outputShape(inputs: readonly (readonly number[])[]): number[] {
    checkArity(this, inputs.length);
    const first = inputs[0];
    const d = this.axis(first.length);
    let total = 0;
    for (const s of inputs) {
      if (s.length !== first.length || s.some((v, i) => i !== d && v !== first[i])) {
        throw new RangeError(
          `concat: input ${formatShape(s)} does not match ${formatShape(first)} outside dim ${this.dim}`,
        );
      }
      total += s[d];
    }
    const out = [...first];
    out[d] = total;
    return out;
  }

  /** [outer, inner sizes of each input] for inputs of these shapes: the output is outer blocks of the inputs' rows. */
  blocks(shapes: readonly (readonly number[])[]): { outer: number; inner: number[] } {
    const d = this.axis(shapes[0].length);
    return { outer: shapeSize(shapes[0].slice(0, d)), inner: shapes.map((s) => shapeSize(s.slice(d))) };
  }

  forward(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    const out = ctx.scratch('out', this.outputShape(inputs.map((t) => t.shape)));
    const { outer, inner } = this.blocks(inputs.map((t) => t.shape));
    const total = inner.reduce((a, b) => a + b, 0);
    let offset = 0;
    inputs.forEach((t, k) => {
      for (let o = 0; o < outer; o++)
        out.data.set(t.data.subarray(o * inner[k], (o + 1) * inner[k]), o * total + offset);
      offset += inner[k];
    });
    this.keepShapes(inputs, ctx);
    return out;
  }

  backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[] {
    const shapes = this.shapes();
    const { outer, inner } = this.blocks(shapes);
    const total = inner.reduce((a, b) => a + b, 0);
    let offset = 0;
    return shapes.map((shape, k) => {
      const at = offset;
      offset += inner[k];
      if (!needed[k]) return null;
      const dx = ctx.scratch(`d${k}`, shape);
      for (let o = 0; o < outer; o++)
        dx.data.set(doutput.data.subarray(o * total + at, o * total + at + inner[k]), o * inner[k]);
      return dx;
    });
  }

  options(): Record<string, unknown> {
    return { dim: this.dim };
  }
}
