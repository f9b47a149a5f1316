// SPDX-License-Identifier: MIT
// The activations Hardtanh, ReLU6, GELU, SiLU, Hardswish, Hardsigmoid and ELU, and Identity and Dropout2d: spec types,
// ONNX ops both ways (opset 13 has no Gelu or HardSwish, so those export as formulas of older ops), and the program's
// clamp for Hardtanh and ReLU6. The others have no native op: a model holding them predicts in JavaScript.
import type { OnnxExportContext } from '../io/onnx-export-ops';
import { float32Decimal, type Converter, type NodeContext } from '../io/onnx-import-proto';
import { Dropout2d } from '../modules/dropout2d';
import { ELU, type ELUOptions } from '../modules/elu';
import { GELU, type GELUOptions } from '../modules/gelu';
import { Hardsigmoid } from '../modules/hardsigmoid';
import { Hardswish } from '../modules/hardswish';
import { Hardtanh, type HardtanhOptions } from '../modules/hardtanh';
import { Identity } from '../modules/identity';
import type { Module } from '../modules/module';
import { OP } from '../modules/program-code';
import { ReLU6 } from '../modules/relu6';
import { SiLU } from '../modules/silu';
import { Generator } from '../random';
import { layerKind } from './kind';
import { directSpec, plainSpec } from './spec';

/** A converter for an op without attributes. */
function plain(make: () => Module): Converter {
  return (ctx) => {
    ctx.allowAttributes([]);
    return make();
  };
}

/** A scalar float32 initializer `<node>.onnx_<what>` (a constant of a formula). */
function scalar(ctx: OnnxExportContext, what: string, value: number): string {
  return ctx.g.floatInit(`${ctx.nodeName}.onnx_${what}`, Float32Array.of(value), []);
}

/** HardSigmoid's alpha and beta for PyTorch's Hardsigmoid (x / 6 + 1/2). */
const HARD_SIGMOID = { alpha: 1 / 6, beta: 0.5 };

/** GELU in opset-13 ops, as torch.onnx.export writes it below opset 20: 0.5 x (1 + erf(x / sqrt 2)), or the tanh form. */
function geluToOnnx(layer: GELU, ctx: OnnxExportContext): string {
  const x = ctx.x;
  let inner: string;
  if (layer.approximate === 'none') {
    inner = ctx.node('Erf', [ctx.node('Div', [x, scalar(ctx, 'sqrt2', Math.SQRT2)], {}, '.div')], {}, '.erf');
  } else {
    const cube = ctx.node('Mul', [ctx.node('Mul', [x, x], {}, '.x2'), x], {}, '.x3');
    const sum = ctx.node('Add', [x, ctx.node('Mul', [cube, scalar(ctx, 'c', 0.044715)], {}, '.cx3')], {}, '.sum');
    const arg = ctx.node('Mul', [sum, scalar(ctx, 'k', Math.sqrt(2 / Math.PI))], {}, '.arg');
    inner = ctx.node('Tanh', [arg], {}, '.tanh');
  }
  const onePlus = ctx.node('Add', [inner, scalar(ctx, 'one', 1)], {}, '.add');
  return ctx.node('Mul', [ctx.node('Mul', [x, onePlus], {}, '.mul'), scalar(ctx, 'half', 0.5)]);
}

function hardSigmoidFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['alpha', 'beta']);
  // ONNX's defaults are alpha 0.2, beta 0.5 (Keras'); PyTorch's Hardsigmoid is alpha 1/6.
  const alpha = ctx.float('alpha', 0.2);
  const beta = ctx.float('beta', 0.5);
  if (alpha !== float32Decimal(HARD_SIGMOID.alpha) || beta !== HARD_SIGMOID.beta)
    throw ctx.fail(
      `alpha ${alpha} and beta ${beta} are not supported (only PyTorch's Hardsigmoid: alpha 1/6, beta 0.5)`,
    );
  return new Hardsigmoid();
}

function geluFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['approximate']);
  const approximate = ctx.string('approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh')
    throw ctx.fail(`approximate '${approximate}' is not supported (none or tanh)`);
  return new GELU({ approximate });
}

// ReLU6 is a Hardtanh, as in PyTorch: it shares the Clip export and the clamp program op, and adds its spec type.
export const hardtanhKind = layerKind<Hardtanh>({
  module: Hardtanh,
  spec: [directSpec('hardtanh', ['minVal', 'maxVal'], (o) => new Hardtanh(o as HardtanhOptions))],
  toOnnx: (layer, ctx) => ctx.node('Clip', [ctx.x, scalar(ctx, 'min', layer.minVal), scalar(ctx, 'max', layer.maxVal)]),
  // Imported Clip nodes become the clamp graph op (lib/layers/shape-ops.ts), which computes the same values.
  program: (layer, p) => {
    const bounds = p.param(Float32Array.of(layer.minVal, layer.maxVal));
    p.emit(
      OP.clamp,
      p.inShape.slice(1).reduce((a, b) => a * b, 1),
      bounds,
    );
    return true;
  },
});

export const relu6Kind = layerKind<ReLU6>({
  module: ReLU6,
  spec: [plainSpec('relu6', () => new ReLU6())],
});

export const geluKind = layerKind<GELU>({
  module: GELU,
  spec: [directSpec('gelu', ['approximate'], (o) => new GELU(o as GELUOptions))],
  toOnnx: geluToOnnx,
  fromOnnx: { Gelu: geluFromOnnx },
});

export const siluKind = layerKind<SiLU>({
  module: SiLU,
  spec: [plainSpec('silu', () => new SiLU())],
  toOnnx: (_layer, ctx) => ctx.node('Mul', [ctx.x, ctx.node('Sigmoid', [ctx.x], {}, '.sigmoid')]),
});

export const hardswishKind = layerKind<Hardswish>({
  module: Hardswish,
  spec: [plainSpec('hardswish', () => new Hardswish())],
  // HardSwish is opset 14: x * HardSigmoid(x) is the same function in opset-13 ops.
  toOnnx: (_layer, ctx) => ctx.node('Mul', [ctx.x, ctx.node('HardSigmoid', [ctx.x], HARD_SIGMOID, '.hardsigmoid')]),
  fromOnnx: { HardSwish: plain(() => new Hardswish()) },
});

export const hardsigmoidKind = layerKind<Hardsigmoid>({
  module: Hardsigmoid,
  spec: [plainSpec('hardsigmoid', () => new Hardsigmoid())],
  toOnnx: (_layer, ctx) => ctx.node('HardSigmoid', [ctx.x], HARD_SIGMOID),
  fromOnnx: { HardSigmoid: hardSigmoidFromOnnx },
});

export const eluKind = layerKind<ELU>({
  module: ELU,
  spec: [directSpec('elu', ['alpha'], (o) => new ELU(o as ELUOptions))],
  toOnnx: (layer, ctx) => ctx.node('Elu', [ctx.x], { alpha: layer.alpha }),
  fromOnnx: {
    Elu: (ctx) => {
      ctx.allowAttributes(['alpha']);
      return new ELU({ alpha: ctx.float('alpha', 1) });
    },
  },
});

// ONNX Identity nodes import as nothing at all (lib/io/onnx-import-ops.ts), not as this layer.
export const identityKind = layerKind<Identity>({
  module: Identity,
  exact: true,
  spec: [plainSpec('identity', () => new Identity())],
  macs: () => 0,
  toOnnx: (_layer, ctx) => ctx.node('Identity', [ctx.x]),
  program: 'identity',
});

export const dropout2dKind = layerKind<Dropout2d>({
  module: Dropout2d,
  spec: [
    {
      type: 'dropout2d',
      options: ['p'],
      // As Dropout: the masks get their own stream from the spec's generator.
      build: (o, rng) =>
        new Dropout2d({ p: o.p as number | undefined, generator: new Generator(Math.floor(rng.random() * 2 ** 53)) }),
    },
  ],
  // Exported in eval mode, where it is the identity (as torch.onnx.export does).
  toOnnx: (_layer, ctx) => ctx.node('Identity', [ctx.x]),
  program: 'identity',
});
