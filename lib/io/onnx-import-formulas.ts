// SPDX-License-Identifier: MIT
// ONNX import, formulas: layers that exporters write as chains of small ops, recognised as one layer each. What
// simdnet's own exporter writes for LayerNorm and GroupNorm (lib/layers/norm.ts: ReduceMean / Sub / Mul / Sqrt / Div)
// and for GELU's tanh form (lib/layers/activations-more.ts; torch.onnx.export below opset 20 writes the same chain),
// and torch.onnx.export's GroupNorm: Reshape to [N, G, -1] -> InstanceNormalization -> Reshape back -> Mul -> Add.
// Anything that differs in a node, a constant or an attribute is not matched (its first node is then refused by name).
import type { onnx } from 'onnx-proto';
import { GELU } from '../modules/gelu';
import { GroupNorm } from '../modules/group-norm';
import { Hardswish } from '../modules/hardswish';
import { LayerNorm } from '../modules/layer-norm';
import type { Module } from '../modules/module';
import { attributes, matchChain, scopeOf, type Pattern, type PatternInput, type Step } from './onnx-import-patterns';
import { float32Decimal, type ConstTensor } from './onnx-import-proto';

const GELU_TANH: Step[] = [
  { op: 'Mul', ins: [0, 0] },
  { op: 'Mul', ins: [1, 0] },
  { op: 'Mul', ins: [2, { near: 0.044715 }] },
  { op: 'Add', ins: [0, 3] },
  { op: 'Mul', ins: [4, { near: Math.sqrt(2 / Math.PI) }] },
  { op: 'Tanh', ins: [5] },
  { op: 'Add', ins: [6, { near: 1 }] },
  { op: 'Mul', ins: [0, 7] },
  { op: 'Mul', ins: [8, { near: 0.5 }] },
];

/** (x - mean) / sqrt(var + eps) of value `x` (a step index), as norm.ts's normaliseToOnnx writes it: 7 steps. */
function normalise(x: number): Step[] {
  const k = x; // steps k+1 ... k+7
  return [
    { op: 'ReduceMean', ins: [k] },
    { op: 'Sub', ins: [k, k + 1] },
    { op: 'Mul', ins: [k + 2, k + 2] },
    { op: 'ReduceMean', ins: [k + 3] },
    { op: 'Add', ins: [k + 4, { capture: 'eps' }] },
    { op: 'Sqrt', ins: [k + 5] },
    { op: 'Div', ins: [k + 2, k + 6] },
  ];
}

/** The affine tails affineToOnnx writes after value `y`: weight and bias, weight only, or an Identity. */
function affineTails(y: number): Step[][] {
  return [
    [
      { op: 'Mul', ins: [y, { capture: 'weight' }] },
      { op: 'Add', ins: [y + 1, { capture: 'bias' }] },
    ],
    [{ op: 'Mul', ins: [y, { capture: 'weight' }] }],
    [{ op: 'Identity', ins: [y] }],
  ];
}

/** The first chain of `head` + one of `tails` that matches. */
function firstChain(p: PatternInput, head: Step[], tails: Step[][]) {
  for (const tail of tails) {
    const chain = matchChain(p, [...head, ...tail]);
    if (chain) return chain;
  }
  return null;
}

/** Whether node j has exactly the INTS/INT attributes `want` (ReduceMean's axes and keepdims). */
function hasInts(node: onnx.INodeProto, want: Record<string, number | number[]>): boolean {
  const attrs = attributes(node);
  if (attrs.size !== Object.keys(want).length) return false;
  return Object.entries(want).every(([key, v]) => {
    const a = attrs.get(key);
    if (!a) return false;
    return Array.isArray(v)
      ? JSON.stringify((a.ints ?? []).map(Number)) === JSON.stringify(v)
      : a.type === 2 && Number(a.i) === v; // AttributeType.INT
  });
}

/** ReduceMean over `axes` with keepdims 1 as an attribute (opset < 18) or input. */
function reduceOver(p: PatternInput, j: number): number[] | undefined {
  const node = p.nodes[j];
  const attrs = attributes(node);
  const axes = attrs.get('axes');
  if (!axes || !hasInts(node, { axes: (axes.ints ?? []).map(Number), keepdims: 1 })) return undefined;
  return (axes.ints ?? []).map(Number);
}

/** A float constant with exactly `size` values, or undefined. */
function floatsOf(p: PatternInput, name: string | undefined, size: number): ConstTensor | undefined {
  const t = name === undefined ? undefined : p.constOf(name);
  return t?.float && t.float.length === size ? t : undefined;
}

/** One positive float constant (an epsilon), as the shortest decimal of its float32 value. */
function epsOf(p: PatternInput, name: string | undefined): number | undefined {
  const v = name === undefined ? undefined : p.scalarOf(name);
  return v !== undefined && Number.isFinite(v) && v >= 0 ? float32Decimal(v) : undefined;
}

/** Sets a norm layer's weight and bias from the captured constants. */
function setAffine(layer: LayerNorm | GroupNorm, weight?: ConstTensor, bias?: ConstTensor): Module {
  if (weight) layer.weight!.data.data.set(weight.float!);
  if (bias) layer.bias!.data.data.set(bias.float!);
  return layer;
}

/** simdnet's LayerNorm export, starting at its first ReduceMean. */
function matchLayerNorm(p: PatternInput): Pattern | null {
  const chain = firstChain(p, normalise(0), affineTails(7));
  if (!chain) return null;
  const axes = reduceOver(p, chain.at[0]);
  const rank = p.inShape.length;
  if (
    !axes ||
    axes.length === 0 ||
    axes.length >= rank ||
    JSON.stringify(reduceOver(p, chain.at[3])) !== JSON.stringify(axes)
  )
    return null;
  // Trailing axes, written as negatives: [-k, ..., -1].
  const k = axes.length;
  if (axes.some((a, n) => (a < 0 ? a : a - rank) !== n - k)) return null;
  const normalizedShape = p.inShape.slice(rank - k);
  const size = normalizedShape.reduce((a, b) => a * b, 1);
  const eps = epsOf(p, chain.captured.eps);
  const weight = floatsOf(p, chain.captured.weight, size);
  const bias = floatsOf(p, chain.captured.bias, size);
  const affine = p.nodes[chain.end].opType !== 'Identity';
  if (eps === undefined || (affine && !weight) || (chain.captured.bias !== undefined && !bias)) return null;
  const layer = new LayerNorm({ normalizedShape, eps, elementwiseAffine: affine, bias: bias !== undefined });
  return { end: chain.end, layer: setAffine(layer, weight, bias), named: scopeOf(p.nodes[p.i], '.mean') };
}

/** Whether the constant is the shape [0 | -1 | batch, groups, -1] (Reshape to one row per group). */
function groupShape(t: ConstTensor | undefined): number | undefined {
  const v = t?.int;
  if (!v || v.length !== 3 || v[2] !== -1 || v[1] < 1 || !(v[0] === 0 || v[0] === -1 || t?.batch?.[0]))
    return undefined;
  return v[1];
}

/** Reshape back to x's shape: a Shape(x) node in the chain (the operand matched 'shape'), or a constant of that shape. */
function backToShape(p: PatternInput, name: string | undefined): boolean {
  if (name === undefined) return true;
  const v = p.constOf(name)?.int;
  return !!v && v.length === p.inShape.length && v.slice(1).every((d, k) => d === p.inShape[k + 1]);
}

/** Reshape without allowzero (0 copies the input's dim), as every exporter writes it. */
const plainReshape = (node: onnx.INodeProto): boolean => {
  const a = attributes(node);
  return a.size === 0 || (a.size === 1 && a.get('allowzero')?.i !== undefined && Number(a.get('allowzero')?.i) === 0);
};

/** simdnet's GroupNorm export, starting at its Reshape to [0, G, -1]. */
function matchGroupNormFormula(p: PatternInput): Pattern | null {
  const head: Step[] = [
    { op: 'Reshape', ins: [0, { capture: 'groups' }] },
    ...normalise(1),
    { op: 'Reshape', ins: [8, 'shape'] },
  ];
  const chain = firstChain(
    p,
    head,
    affineTails(9)
      .slice(0, 1)
      .concat([affineTails(9)[2]]),
  );
  if (!chain) return null;
  return groupNormOf(
    p,
    chain,
    () => {
      const axes = reduceOver(p, chain.at[1]);
      const eps = epsOf(p, chain.captured.eps);
      return axes?.length === 1 && axes[0] === 2 && JSON.stringify(reduceOver(p, chain.at[4])) === '[2]'
        ? eps
        : undefined;
    },
    scopeOf(p.nodes[p.i], '.group'),
  );
}

/** torch.onnx.export's GroupNorm (both exporters), starting at its Reshape to [0, G, -1]. */
function matchGroupNormInstance(p: PatternInput): Pattern | null {
  const head: Step[] = [
    { op: 'Reshape', ins: [0, { capture: 'groups' }] },
    { op: 'InstanceNormalization', ins: [1, { capture: 'scale' }, { capture: 'shift' }] },
    { op: 'Reshape', ins: [2, 'shape'] },
  ];
  const constBack: Step = { op: 'Reshape', ins: [2, { capture: 'back' }] };
  const tails = affineTails(3).slice(0, 1).concat([[]]);
  const chain = firstChain(p, head, tails) ?? firstChain(p, [...head.slice(0, 2), constBack], tails);
  if (!chain || !backToShape(p, chain.captured.back)) return null;
  const norm = p.nodes[chain.at[1]];
  const attrs = attributes(norm);
  const epsAttr = attrs.get('epsilon');
  if (attrs.size > 1 || (attrs.size === 1 && !epsAttr)) return null;
  const eps = epsAttr ? float32Decimal(epsAttr.f ?? 0) : 1e-5;
  return groupNormOf(p, chain, () => eps, undefined);
}

/**
 * The GroupNorm of a matched chain whose first node reshapes to groups; `epsOk` gives its epsilon (undefined: not a
 * match). A per-group scale and shift (InstanceNormalization's) fold into the per-channel weight and bias:
 * (n s_g + t_g) w_c + b_c = n (s_g w_c) + (t_g w_c + b_c).
 */
function groupNormOf(
  p: PatternInput,
  chain: { at: number[]; captured: Record<string, string>; end: number },
  epsOk: () => number | undefined,
  named: onnx.INodeProto | undefined,
): Pattern | null {
  const channels = p.inShape[1];
  const groups = groupShape(p.constOf(chain.captured.groups));
  const rank = p.inShape.length;
  if (rank < 3 || channels === undefined || groups === undefined || channels % groups !== 0) return null;
  if (!chain.at.filter((j) => p.nodes[j].opType === 'Reshape').every((j) => plainReshape(p.nodes[j]))) return null;
  const eps = epsOk();
  if (eps === undefined) return null;
  // Stored to broadcast against [N, C, *]: [C], [C, 1, ...], or one value ([1, 1, 1]: torch's affine=False).
  const perChannel = (name: string | undefined): Float32Array | undefined => {
    const t = name === undefined ? undefined : p.constOf(name);
    if (!t?.float || t.dims.length > rank - 1) return undefined;
    if (t.float.length === 1 && t.dims.every((d) => d === 1)) return new Float32Array(channels).fill(t.float[0]);
    const [first, ...rest] = t.dims;
    return t.float.length === channels && first === channels && rest.every((d) => d === 1) ? t.float : undefined;
  };
  const weight = perChannel(chain.captured.weight);
  const bias = perChannel(chain.captured.bias);
  if ((chain.captured.weight !== undefined && !weight) || (chain.captured.bias !== undefined && !bias)) return null;
  const scale = chain.captured.scale === undefined ? undefined : floatsOf(p, chain.captured.scale, groups)?.float;
  const shift = chain.captured.shift === undefined ? undefined : floatsOf(p, chain.captured.shift, groups)?.float;
  if ((chain.captured.scale !== undefined && !scale) || (chain.captured.shift !== undefined && !shift)) return null;
  const perGroup = channels / groups;
  const w = new Float32Array(channels);
  const b = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const g = Math.floor(c / perGroup);
    const wc = weight ? weight[c] : 1;
    w[c] = (scale ? scale[g] : 1) * wc;
    b[c] = (shift ? shift[g] : 0) * wc + (bias ? bias[c] : 0);
  }
  // An affine step of ones and zeros written only as a constant of one value is no affine step (affine=False).
  const identity = w.every((v) => v === 1) && b.every((v) => v === 0);
  const affine =
    !identity ||
    (weight !== undefined &&
      chain.captured.weight !== undefined &&
      p.constOf(chain.captured.weight)!.float!.length > 1);
  const layer = new GroupNorm({ numGroups: groups, numChannels: channels, eps, affine });
  if (affine) {
    layer.weight!.data.data.set(w);
    layer.bias!.data.data.set(b);
  }
  return { end: chain.end, layer, named };
}

/** GELU's tanh form, simdnet's export or torch.onnx.export's below opset 20 (the same chain, operands swapped). */
function matchGeluTanh(p: PatternInput): Pattern | null {
  const chain = matchChain(p, GELU_TANH);
  if (!chain || chain.at.some((j) => (p.nodes[j].attribute ?? []).length > 0)) return null;
  return {
    end: chain.end,
    layer: new GELU({ approximate: 'tanh' }),
    input: chain.x,
    named: scopeOf(p.nodes[p.i], '.x2'),
  };
}

/** Hardswish as simdnet exports it below opset 14: x * HardSigmoid(x) (alpha 1/6, beta 0.5). */
function matchHardswish(p: PatternInput): Pattern | null {
  const chain = matchChain(p, [
    { op: 'HardSigmoid', ins: [0] },
    { op: 'Mul', ins: [0, 1] },
  ]);
  if (!chain) return null;
  const attrs = attributes(p.nodes[chain.at[0]]);
  const alpha = attrs.get('alpha')?.f;
  const beta = attrs.get('beta')?.f;
  if (attrs.size !== 2 || alpha == null || beta == null) return null;
  if (float32Decimal(alpha) !== float32Decimal(1 / 6) || beta !== 0.5) return null;
  return { end: chain.end, layer: new Hardswish(), named: scopeOf(p.nodes[p.i], '.hardsigmoid') };
}

/** The formula matchers by the op of their first node. */
export const FORMULAS: Readonly<Record<string, readonly ((p: PatternInput) => Pattern | null)[]>> = {
  ReduceMean: [matchLayerNorm],
  Reshape: [matchGroupNormFormula, matchGroupNormInstance],
  Mul: [matchGeluTanh],
  HardSigmoid: [matchHardswish],
};
