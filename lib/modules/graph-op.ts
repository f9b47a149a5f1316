// SPDX-License-Identifier: MIT
// GraphOp: the base of a graph's parameter-free ops (add, mul, concat, reshape, pad, slice, clamp), with the context a
// Graph runs them in; the ops are graph-ops.ts and graph-ops-shape.ts, their spec/ONNX/program declarations lib/layers/.
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/** What a Graph gives an op for one call: memory it may reuse, and whether to keep what backward needs. */
export interface OpContext {
  /** A tensor for a result: the same memory every call while the shape holds (with `reuse`), zeroed when asked. */
  scratch(role: string, shape: readonly number[], zero?: boolean): Tensor;
  /** Keep what backward() needs (training mode, not predict()). */
  keep: boolean;
}

/**
 * A parameter-free operation on one or more tensors, as a node of a Graph. Unlike a Module it may read several
 * values; like one, forward() keeps what backward() needs and backward() returns the input gradients (null for an
 * input whose gradient is not needed). Ops never write into their inputs.
 */
export abstract class GraphOp {
  /** The spec type ("add"), also the node's default name. */
  abstract readonly type: string;
  /** How many inputs it reads: a number, or 'many' (at least one). */
  abstract readonly arity: number | 'many';
  private savedShapes: (readonly number[])[] | null = null;

  /** The output shape for these input shapes (validates them; each is batch first). */
  abstract outputShape(inputs: readonly (readonly number[])[]): number[];

  /** The output; with `ctx.keep` it records what backward() needs. */
  abstract forward(inputs: readonly Tensor[], ctx: OpContext): Tensor;

  /** Gradients of the inputs from the output gradient; entries are null where `needed` is false. */
  abstract backward(doutput: Tensor, needed: readonly boolean[], ctx: OpContext): (Tensor | null)[];

  /** The options a spec records for this op (what the constructor took, normalised). */
  abstract options(): Record<string, unknown>;

  /** "add()" / "concat(dim=1)". */
  toString(): string {
    const parts = Object.entries(this.options()).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `${this.type}(${parts.join(', ')})`;
  }

  /** Records input shapes for backward() (with ctx.keep), checking the count first. */
  protected keepShapes(inputs: readonly Tensor[], ctx: OpContext): void {
    if (ctx.keep) this.savedShapes = inputs.map((t) => t.shape);
  }

  /** The input shapes of the last training-mode forward(); throws when there was none. */
  protected shapes(): (readonly number[])[] {
    if (this.savedShapes === null) throw new Error(`${this.type}.backward: call forward() first`);
    return this.savedShapes;
  }
}

/** Throws unless `count` inputs fit `op`'s arity. */
export function checkArity(op: GraphOp, count: number): void {
  const ok = op.arity === 'many' ? count >= 1 : count === op.arity;
  if (!ok) {
    const want = op.arity === 'many' ? 'at least 1' : String(op.arity);
    throw new RangeError(`${op.type}: takes ${want} input${op.arity === 1 ? '' : 's'}, got ${count}`);
  }
}

/** Throws a RangeError naming the op unless the shape has a batch and `rank` dims (or at least `rank` when `min`). */
export function checkRank(op: string, shape: readonly number[], rank: number, min = false): void {
  if (min ? shape.length < rank : shape.length !== rank)
    throw new RangeError(`${op}: needs ${min ? 'at least ' : ''}${rank} dims, got ${formatShape(shape)}`);
}
