// SPDX-License-Identifier: MIT
// ONNX import: which multi-node patterns are tried at a node, by its op (the first node of the pattern). The matchers
// are onnx-import-patterns.ts (GELU's Erf form, SiLU), onnx-import-formulas.ts (LayerNorm, GroupNorm, GELU's tanh
// form) and onnx-import-pad-conv.ts (Pad + Conv).
import { FORMULAS } from './onnx-import-formulas';
import { matchPadConv } from './onnx-import-pad-conv';
import { matchGeluErf, matchSilu, scopeOf, type Pattern, type PatternInput } from './onnx-import-patterns';

type Matcher = (p: PatternInput) => Pattern | null;

/** The pattern named after simdnet's layer path when node i is named "<path><suffix>" (simdnet's own export). */
function scoped(pattern: Pattern | null, p: PatternInput, suffix: string): Pattern | null {
  return pattern && { ...pattern, named: pattern.named ?? scopeOf(p.nodes[p.i], suffix) };
}

const MATCHERS: Readonly<Record<string, readonly Matcher[]>> = {
  ...FORMULAS,
  Div: [(p) => scoped(matchGeluErf(p.nodes, p.i, p.uses, p.scalarOf), p, '.div')],
  Sigmoid: [(p) => scoped(matchSilu(p.nodes, p.i, p.uses), p, '.sigmoid')],
  Pad: [matchPadConv],
};

/** The layer standing for nodes i..end when one of op's patterns starts at node i, else null. */
export function matchPattern(op: string, p: PatternInput): Pattern | null {
  const matchers = Object.prototype.hasOwnProperty.call(MATCHERS, op) ? MATCHERS[op] : [];
  for (const m of matchers) {
    const found = m(p);
    if (found) return found;
  }
  return null;
}
