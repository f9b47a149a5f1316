// SPDX-License-Identifier: MIT
// ONNX import, patterns: a layer that exporters write as several nodes, recognised at its first node: GELU below
// opset 20, which torch.onnx.export writes as 0.5 * x * (1 + erf(x / sqrt 2)):
// Div(x, 1.4142135) -> Erf -> Add(., 1) -> Mul(x, .) -> Mul(., 0.5); and SiLU, Sigmoid(x) -> Mul(x, .).
import type { onnx } from 'onnx-proto';
import { GELU } from '../modules/gelu';
import { SiLU } from '../modules/silu';
import type { Module } from '../modules/module';
import type { ConstTensor } from './onnx-import-proto';

/** A layer standing for nodes first..end (the Constant nodes between them included). */
export interface Pattern {
  end: number;
  layer: Module;
}

/** A constant's one value, or undefined (not a constant, or not one number). */
type ScalarOf = (name: string) => number | undefined;

/** Float32 constants as the exporter rounded them. */
const near = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);

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
