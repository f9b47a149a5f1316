// SPDX-License-Identifier: MIT
// The graph ops that move or clip values of one input: Reshape (of the sample, keeping the batch), Pad (constant),
// Slice (strided, as x[:, :, ::2, ::2]) and Clamp (torch.clamp, ReLU6). Add, Mul and Concat are graph-ops.ts.
import { checkInt, describe } from '../check';
import { native } from '../native';
import { formatShape, shapeSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { GraphOp, type OpContext } from './graph-op';

/** Rejects unknown option keys and non-objects, naming the op. */
function checkOptions(op: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${op}: options must be an object, got ${describe(options)}`);
  const unknown = Object.keys(options).find((k) => !known.includes(k));
  if (unknown !== undefined)
    throw new RangeError(`${op}: unknown option '${unknown}' (${op} takes ${known.join(', ')})`);
  return options as Record<string, unknown>;
}

function intList(what: string, value: unknown, min: number): number[] {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array of integers, got ${describe(value)}`);
  return value.map((v, i) => checkInt(`${what}[${i}]`, v, min));
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** Runs at least this long are copied with TypedArray.set (a view per run costs more than a short loop). */
const LONG_RUN = 64;

/** Calls visit(index) for every index over all dims but the last of `shape` (the rows), in row-major order. */
function forEachRow(shape: readonly number[], visit: (index: readonly number[]) => void): void {
  const lead = shape.slice(0, -1);
  if (lead.some((d) => d === 0)) return;
  const idx = new Array<number>(lead.length).fill(0);
  for (;;) {
    visit(idx);
    let d = lead.length - 1;
    while (d >= 0 && ++idx[d] === lead[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

export interface ReshapeOptions {
  /** The shape of each sample (without the batch); one entry may be -1 (inferred). */
  shape: readonly number[];
}

/** Gives each sample a new shape with the same values (x.view(x.size(0), ...)); the batch stays first. */
export class Reshape extends GraphOp {
  readonly type = 'reshape';
  readonly arity = 1;
  readonly shape: readonly number[];

  constructor(options: ReshapeOptions) {
    super();
    const o = checkOptions('reshape', options, ['shape']);
    this.shape = intList('reshape: shape', o.shape, -1);
    if (this.shape.length === 0) throw new RangeError('reshape: shape needs at least one dim (the sample shape)');
    if (this.shape.some((d) => d === 0)) throw new RangeError('reshape: shape entries must be >= 1 or -1');
    if (this.shape.filter((d) => d === -1).length > 1) throw new RangeError('reshape: at most one -1 in shape');
  }

  outputShape(inputs: readonly (readonly number[])[]): number[] {
    const [input] = inputs;
    if (input.length < 1) throw new RangeError('reshape: the input needs a batch dim');
    const size = shapeSize(input.slice(1));
    const known = shapeSize(this.shape.filter((d) => d !== -1));
    const target = this.shape.map((d) => (d === -1 ? size / known : d));
    if (target.some((d) => !Number.isSafeInteger(d)) || shapeSize(target) !== size)
      throw new RangeError(`reshape: cannot view ${formatShape(input)} as [batch, ${this.shape.join(', ')}]`);
    return [input[0], ...target];
  }

  forward(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    this.keepShapes(inputs, ctx);
    return inputs[0].reshape(this.outputShape([inputs[0].shape]));
  }

  backward(doutput: Tensor, needed: readonly boolean[]): (Tensor | null)[] {
    return [needed[0] ? doutput.reshape(this.shapes()[0]) : null];
  }

  options(): Record<string, unknown> {
    return { shape: [...this.shape] };
  }
}

export interface PadOptions {
  /** [before, after] for each dim of a sample (without the batch), e.g. [[8, 8], [0, 0], [0, 0]] for 8 channels each side. */
  pads: readonly (readonly [number, number])[];
  /** The padding value. Default 0. */
  value?: number;
}

/** Constant padding of each sample (F.pad with mode 'constant'; ResNet option A's extra zero channels). */
export class Pad extends GraphOp {
  readonly type = 'pad';
  readonly arity = 1;
  readonly pads: readonly (readonly [number, number])[];
  readonly value: number;

  constructor(options: PadOptions) {
    super();
    const o = checkOptions('pad', options, ['pads', 'value']);
    if (!Array.isArray(o.pads))
      throw new TypeError(`pad: pads must be an array of [before, after] pairs, got ${describe(o.pads)}`);
    this.pads = o.pads.map((p: unknown, i) => {
      const pair = intList(`pad: pads[${i}]`, p, 0);
      if (pair.length !== 2) throw new RangeError(`pad: pads[${i}] must be a [before, after] pair`);
      return [pair[0], pair[1]] as const;
    });
    const value = o.value ?? 0;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new TypeError(`pad: value must be a finite number, got ${describe(value)}`);
    this.value = value;
  }

  /** Before and after of every dim of `shape`, the batch's included (0). */
  private full(shape: readonly number[]): [number[], number[]] {
    if (this.pads.length !== shape.length - 1) {
      throw new RangeError(
        `pad: pads has ${this.pads.length} pairs, the input ${formatShape(shape)} has ${shape.length - 1} dims after the batch`,
      );
    }
    return [
      [0, ...this.pads.map((p) => p[0])],
      [0, ...this.pads.map((p) => p[1])],
    ];
  }

  outputShape(inputs: readonly (readonly number[])[]): number[] {
    const [input] = inputs;
    const [before, after] = this.full(input);
    return input.map((d, i) => d + before[i] + after[i]);
  }

  forward(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    const x = inputs[0];
    const outShape = this.outputShape([x.shape]);
    const out = ctx.scratch('out', outShape);
    out.data.fill(this.value);
    const [o, xd] = [out.data, x.data];
    this.copy(x.shape, outShape, (src, dst, n) => {
      if (n >= LONG_RUN) o.set(xd.subarray(src, src + n), dst);
      else for (let j = 0; j < n; j++) o[dst + j] = xd[src + j];
    });
    this.keepShapes(inputs, ctx);
    return out;
  }

  backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[] {
    if (!needed[0]) return [null];
    const shape = this.shapes()[0];
    const dx = ctx.scratch('d0', shape);
    const [d, g] = [dx.data, doutput.data];
    this.copy(shape, doutput.shape, (src, dst, n) => {
      if (n >= LONG_RUN) d.set(g.subarray(dst, dst + n), src);
      else for (let j = 0; j < n; j++) d[src + j] = g[dst + j];
    });
    return [dx];
  }

  /**
   * Calls move(inputOffset, outputOffset, count) for every contiguous run of the input and where it lands in the
   * output. The dims after the last padded one are whole in both, so a run spans them all (ResNet's shortcut pads
   * only channels: one run per sample, where a call per 16-value row cost about 3 ms of a training step).
   */
  private copy(
    inShape: readonly number[],
    outShape: readonly number[],
    move: (src: number, dst: number, n: number) => void,
  ): void {
    const [before, after] = this.full(inShape);
    let last = inShape.length - 1;
    while (last > 0 && before[last] === 0 && after[last] === 0) last--;
    const si = strides(inShape);
    const so = strides(outShape);
    const run = inShape.slice(last).reduce((a, b) => a * b, 1);
    if (run === 0) return;
    forEachRow(inShape.slice(0, last + 1), (idx) => {
      let src = 0;
      let dst = before[last] * so[last];
      for (let d = 0; d < last; d++) {
        src += idx[d] * si[d];
        dst += (idx[d] + before[d]) * so[d];
      }
      move(src, dst, run);
    });
  }

  options(): Record<string, unknown> {
    return { pads: this.pads.map((p) => [...p]), value: this.value };
  }
}

export interface SliceOptions {
  /** The dims to slice (>= 1; negative counts from the end). */
  axes: readonly number[];
  /** First index per axis (default 0; negative counts from the end, as in Python). */
  starts?: readonly number[];
  /** End index (exclusive) per axis; null or absent: the end. Clamped to the size, as in Python. */
  ends?: readonly (number | null)[];
  /** Step per axis (>= 1; default 1). */
  steps?: readonly number[];
}

/** A strided slice of each sample (x[:, :, ::2, ::2]: axes [2, 3], steps [2, 2]); positive steps only. */
export class Slice extends GraphOp {
  readonly type = 'slice';
  readonly arity = 1;
  readonly axes: readonly number[];
  readonly starts: readonly number[];
  readonly ends: readonly (number | null)[];
  readonly steps: readonly number[];

  constructor(options: SliceOptions) {
    super();
    const o = checkOptions('slice', options, ['axes', 'starts', 'ends', 'steps']);
    this.axes = intList('slice: axes', o.axes, -64);
    const n = this.axes.length;
    if (n === 0) throw new RangeError('slice: axes must name at least one dim');
    if (new Set(this.axes).size !== n) throw new RangeError('slice: axes must not repeat');
    this.starts =
      o.starts === undefined ? new Array<number>(n).fill(0) : intList('slice: starts', o.starts, -(2 ** 52));
    if (o.ends !== undefined && !Array.isArray(o.ends))
      throw new TypeError(`slice: ends must be an array, got ${describe(o.ends)}`);
    this.ends =
      o.ends === undefined
        ? new Array<null>(n).fill(null)
        : (o.ends as unknown[]).map((e, i) => (e === null ? null : checkInt(`slice: ends[${i}]`, e, -(2 ** 52))));
    this.steps = o.steps === undefined ? new Array<number>(n).fill(1) : intList('slice: steps', o.steps, 1);
    for (const [what, list] of [
      ['starts', this.starts],
      ['ends', this.ends],
      ['steps', this.steps],
    ] as const) {
      if (list.length !== n) throw new RangeError(`slice: ${what} has ${list.length} entries, axes ${n}`);
    }
  }

  /** Per dim of `shape`: first index, step and count taken (whole dims for the others). */
  ranges(shape: readonly number[]): { start: number[]; step: number[]; count: number[] } {
    const start = shape.map(() => 0);
    const step = shape.map(() => 1);
    const count = [...shape];
    this.axes.forEach((a, k) => {
      const d = a < 0 ? a + shape.length : a;
      if (d < 1 || d >= shape.length)
        throw new RangeError(`slice: axis ${a} is out of range for ${formatShape(shape)} (or is the batch)`);
      const size = shape[d];
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
      const s = clamp(this.starts[k]);
      const e = this.ends[k] === null ? size : clamp(this.ends[k] as number);
      start[d] = s;
      step[d] = this.steps[k];
      count[d] = Math.max(0, Math.ceil((e - s) / this.steps[k]));
      if (count[d] === 0) throw new RangeError(`slice: axis ${a} of ${formatShape(shape)} keeps no values`);
    });
    return { start, step, count };
  }

  outputShape(inputs: readonly (readonly number[])[]): number[] {
    return this.ranges(inputs[0]).count;
  }

  forward(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    const x = inputs[0];
    const out = ctx.scratch('out', this.outputShape([x.shape]));
    native.sliceForward(out.data, x.data, x.shape[0], x.shape.length - 1, this.imageDims(x.shape));
    this.keepShapes(inputs, ctx);
    return out;
  }

  backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[] {
    if (!needed[0]) return [null];
    const shape = this.shapes()[0];
    const dx = ctx.scratch('d0', shape);
    native.sliceBackward(dx.data, doutput.data, shape[0], shape.length - 1, this.imageDims(shape));
    return [dx];
  }

  /**
   * The native slice's dims of one image of `inShape` (the batch dim, which the slice keeps whole, left out):
   * [in, start, step, out] per dim. Native, so that the copy runs on every thread (in JavaScript, on one, it was about
   * 2% of a ResNet-20 training step with the other thread idle).
   */
  private imageDims(inShape: readonly number[]): Float64Array {
    const { start, step, count } = this.ranges(inShape);
    const rank = inShape.length - 1;
    const dims = new Float64Array(4 * rank);
    for (let d = 0; d < rank; d++) {
      dims[d] = inShape[d + 1];
      dims[rank + d] = start[d + 1];
      dims[2 * rank + d] = step[d + 1];
      dims[3 * rank + d] = count[d + 1];
    }
    return dims;
  }

  options(): Record<string, unknown> {
    return { axes: [...this.axes], starts: [...this.starts], ends: [...this.ends], steps: [...this.steps] };
  }
}

export interface ClampOptions {
  /** Lower bound, or null for none. */
  min?: number | null;
  /** Upper bound, or null for none. */
  max?: number | null;
}

/**
 * min(max(x, min), max) element-wise (torch.clamp; ReLU6 is min 0, max 6). The gradient passes where
 * min <= x <= max, as torch.clamp's.
 */
export class Clamp extends GraphOp {
  readonly type = 'clamp';
  readonly arity = 1;
  readonly min: number | null;
  readonly max: number | null;
  private saved: Tensor | null = null;

  constructor(options: ClampOptions) {
    super();
    const o = checkOptions('clamp', options, ['min', 'max']);
    const bound = (what: string, v: unknown): number | null => {
      if (v === undefined || v === null) return null;
      if (typeof v !== 'number' || Number.isNaN(v))
        throw new TypeError(`clamp: ${what} must be a number or null, got ${describe(v)}`);
      return v;
    };
    this.min = bound('min', o.min);
    this.max = bound('max', o.max);
    if (this.min === null && this.max === null) throw new RangeError('clamp: give min, max or both');
    if (this.min !== null && this.max !== null && this.min > this.max)
      throw new RangeError(`clamp: min ${this.min} is above max ${this.max}`);
  }

  outputShape(inputs: readonly (readonly number[])[]): number[] {
    return [...inputs[0]];
  }

  forward(inputs: readonly Tensor[], ctx: OpContext): Tensor {
    const x = inputs[0];
    const out = ctx.scratch('out', x.shape);
    const lo = this.min ?? -Infinity;
    const hi = this.max ?? Infinity;
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      out.data[i] = v < lo ? lo : v > hi ? hi : v; // NaN stays NaN, as in PyTorch
    }
    this.keepShapes(inputs, ctx);
    if (ctx.keep) this.saved = x;
    return out;
  }

  backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[] {
    if (!needed[0]) return [null];
    const x = this.saved;
    if (x === null) throw new Error('clamp.backward: call forward() first');
    const dx = ctx.scratch('d0', x.shape);
    const lo = this.min ?? -Infinity;
    const hi = this.max ?? Infinity;
    for (let i = 0; i < x.size; i++) dx.data[i] = x.data[i] >= lo && x.data[i] <= hi ? doutput.data[i] : 0;
    return [dx];
  }

  options(): Record<string, unknown> {
    return { min: this.min, max: this.max };
  }
}
