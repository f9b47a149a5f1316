// SPDX-License-Identifier: MIT
// ONNX import, patterns: a layer that exporters write as several nodes, recognised at its first node: GELU below
// opset 20, which torch.onnx.export writes as 0.5 * x * (1 + erf(x / sqrt 2)):
// Div(x, 1.4142135) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5); and SiLU, Sigmoid(x) -> Mul(x, .). Also the
// chain matcher the longer formulas use (onnx-import-formulas.ts) and matchPattern, which picks the matchers by the
// first node's op (Pad + Conv is onnx-import-pad-conv.ts).
import type { onnx } from 'onnx-proto';
import { GELU } from '../modules/gelu';
import { SiLU } from '../modules/silu';
import type { Module } from '../modules/module';
import type { ConstTensor, NodeContext } from './onnx-import-proto';

/** A layer standing for nodes first..end (the Constant nodes between them included). */
export interface Pattern {
  end: number;
  layer: Module;
  /** The value the layer reads (default: the first node's first computed input). */
  input?: string;
  /** The node whose name the layer takes (default the first: the Conv of Pad + Conv, a synthetic one for a scope). */
  named?: onnx.INodeProto;
}

/** A constant's one value, or undefined (not a constant, or not one number). */
export type ScalarOf = (name: string) => number | undefined;

/** What a matcher sees at node i. */
export interface PatternInput {
  nodes: readonly onnx.INodeProto[];
  i: number;
  /** How many nodes (and the graph output) read each value; Shape nodes do not count. */
  uses: ReadonlyMap<string, number>;
  scalarOf: ScalarOf;
  /** A constant (initializer, Constant node or folded value), or undefined for a computed value. */
  constOf(name: string): ConstTensor | undefined;
  /** The context of node j, reading a value of shape `inShape`. */
  context(j: number, inShape: readonly number[]): NodeContext;
  /** The shape of node i's first computed input (batch placeholder 1). */
  inShape: readonly number[];
}

/** Float32 constants as the exporter rounded them. */
export const near = (a: number | undefined, b: number): boolean =>
  a !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);

/**
 * An operand of a formula step: a value of the chain (0 the chain's input x, k the output of step k), a scalar constant
 * near a number, any constant (captured under the name given), or the shape of x (a Shape(x) node in the chain).
 */
export type Operand = number | { near: number } | { capture: string } | 'shape';
/** One node of a formula: its op and operands (Add and Mul match either order). */
export interface Step {
  op: string;
  ins: Operand[];
}
/** A matched chain: the index of each step's node, the captured constants' names, the input x and the last node. */
export interface Chain {
  at: number[];
  captured: Record<string, string>;
  x: string;
  end: number;
}

/**
 * Matches `steps` to the nodes from i on, one node each, with only Constant nodes and Shape nodes of x between them;
 * every intermediate value is read only inside the chain (x and the last output may be read anywhere). Null when the
 * nodes differ in any way; attributes are the caller's to check.
 */
export function matchChain(p: PatternInput, steps: readonly Step[]): Chain | null {
  const { nodes, i } = p;
  const x = (nodes[i].input ?? []).find((n) => n && p.constOf(n) === undefined);
  if (!x) return null;
  const values = [x];
  const shapeOfX = new Set<string>();
  const captured: Record<string, string> = {};
  const at: number[] = [];
  let j = i;
  const operandFits = (o: Operand, name: string): boolean => {
    if (typeof o === 'number') return name === values[o];
    if (o === 'shape') return shapeOfX.has(name);
    if ('near' in o) return near(p.scalarOf(name), o.near);
    if (p.constOf(name) === undefined) return false;
    captured[o.capture] = name;
    return true;
  };
  for (const step of steps) {
    for (; j < nodes.length; j++) {
      const n = nodes[j];
      if (n.opType === 'Constant') continue;
      if (n.opType === 'Shape' && n.input?.[0] === x && j !== i && n.output?.[0] && wholeShape(n)) {
        shapeOfX.add(n.output[0]);
        continue;
      }
      break;
    }
    const node = nodes[j];
    const ins = node?.input ?? [];
    if (!node || node.opType !== step.op || ins.length !== step.ins.length) return null;
    const orders = (step.op === 'Add' || step.op === 'Mul') && ins.length === 2 ? [ins, [ins[1], ins[0]]] : [ins];
    if (!orders.some((order) => step.ins.every((o, k) => operandFits(o, order[k] ?? '')))) return null;
    const out = node.output?.[0];
    if (!out) return null;
    values.push(out);
    at.push(j);
    j++;
  }
  // Intermediate values: read by the chain alone.
  const inside = at.flatMap((k) => nodes[k].input ?? []);
  for (const v of values.slice(1, -1)) if (inside.filter((n) => n === v).length !== p.uses.get(v)) return null;
  return { at, captured, x, end: at[at.length - 1] };
}

/** A Shape node giving every dim (no attributes, or start 0 alone). */
function wholeShape(n: onnx.INodeProto): boolean {
  const a = n.attribute ?? [];
  return a.length === 0 || (a.length === 1 && a[0].name === 'start' && Number(a[0].i ?? 0) === 0);
}

/** Node names as simdnet's exporter writes them: "<layer path><suffix>" ("body.2.mean"); the layer path, or null. */
export function scopeOf(node: onnx.INodeProto, suffix: string): onnx.INodeProto | undefined {
  const name = node.name ?? '';
  return name.endsWith(suffix) && name.length > suffix.length
    ? { name: name.slice(0, -suffix.length), opType: node.opType }
    : undefined;
}

/** The attributes of node j by name (for a matcher's checks, which must not throw). */
export function attributes(node: onnx.INodeProto): Map<string, onnx.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

/** The first node after `from` reading `value`, or -1. */
function reader(nodes: readonly onnx.INodeProto[], from: number, value: string): number {
  for (let j = from + 1; j < nodes.length; j++) if ((nodes[j].input ?? []).includes(value)) return j;
  return -1;
}

/**
 * GELU (approximate 'none') when nodes[i] starts its Erf formula, each intermediate value read only by the next step
 * and nothing but Constant nodes in between; else null (the node is then judged on its own).
 */
export function matchGeluErf(
  nodes: readonly onnx.INodeProto[],
  i: number,
  uses: ReadonlyMap<string, number>,
  scalarOf: ScalarOf,
): Pattern | null {
  const div = nodes[i];
  const [x, divisor] = div.input ?? [];
  if (div.opType !== 'Div' || !x || !divisor || !near(scalarOf(divisor), Math.SQRT2)) return null;
  // Each later step: its op and its other input (the same x, or a constant).
  const steps: [string, string | number | null][] = [
    ['Erf', null],
    ['Add', 1],
    ['Mul', x],
    ['Mul', 0.5],
  ];
  const used = new Set([i]);
  let value = div.output?.[0];
  let at = i;
  for (const [op, other] of steps) {
    if (!value || uses.get(value) !== 1) return null;
    const j = reader(nodes, at, value);
    if (j < 0 || nodes[j].opType !== op || (nodes[j].attribute ?? []).length > 0) return null;
    const ins = nodes[j].input ?? [];
    if (other === null ? ins.length !== 1 : ins.length !== 2) return null;
    if (other !== null) {
      const rest = ins[0] === value ? ins[1] : ins[0];
      if (typeof other === 'string' ? rest !== other : !near(scalarOf(rest), other)) return null;
    }
    used.add(j);
    value = nodes[j].output?.[0];
    at = j;
  }
  for (let j = i; j <= at; j++) if (!used.has(j) && nodes[j].opType !== 'Constant') return null;
  return { end: at, layer: new GELU() };
}

/**
 * SiLU when nodes[i] is Sigmoid(x) whose output only a Mul by the same x reads, with nothing but Constant nodes in
 * between (squeeze-and-excitation's Mul of another value is not this); else null.
 */
export function matchSilu(
  nodes: readonly onnx.INodeProto[],
  i: number,
  uses: ReadonlyMap<string, number>,
): Pattern | null {
  const sigmoid = nodes[i];
  const x = sigmoid.input?.[0];
  const s = sigmoid.output?.[0];
  if (sigmoid.opType !== 'Sigmoid' || !x || !s || uses.get(s) !== 1) return null;
  const j = reader(nodes, i, s);
  const mul = nodes[j];
  const ins = mul?.input ?? [];
  if (j < 0 || mul.opType !== 'Mul' || ins.length !== 2 || !ins.includes(x) || (ins[0] === s ? ins[1] : ins[0]) !== x)
    return null;
  for (let k = i + 1; k < j; k++) if (nodes[k].opType !== 'Constant') return null;
  return { end: j, layer: new SiLU() };
}

/** The one value of a constant, for ScalarOf. */
export function scalarValue(t: ConstTensor | undefined): number | undefined {
  const values = t?.float ?? t?.int;
  return values && values.length === 1 ? values[0] : undefined;
}
