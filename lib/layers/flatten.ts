// SPDX-License-Identifier: MIT
// Flatten and Dropout: spec types, ONNX ops both ways (Flatten, or Reshape for inner dims; Dropout as Identity), MACs
// and their place in inference programs (both vanish: programs keep values flat, Dropout is the identity in eval mode).
import { batchShape, float32Decimal, layerGenerator, q, type NodeContext } from '../io/onnx-import-proto';
import { Dropout, type DropoutOptions } from '../modules/dropout';
import { Flatten, type FlattenOptions } from '../modules/flatten';
import type { Module } from '../modules/module';
import { Generator } from '../random';
import { layerKind } from './kind';
import { directSpec } from './spec';

function flattenFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['axis']);
  const rank = ctx.inShape.length;
  const given = ctx.int('axis', 1);
  const axis = given < 0 ? given + rank : given;
  if (axis !== 1)
    throw ctx.fail(
      `axis ${given} on the input ${batchShape(ctx.inShape)} would merge the batch dimension; only axis 1 is supported`,
    );
  return new Flatten();
}

function dropoutFromOnnx(ctx: NodeContext): Module {
  ctx.allowAttributes(['ratio', 'seed', 'is_test']);
  const training = ctx.constant(2, 'training_mode');
  if (training !== undefined && (training.int === undefined || training.int.some((v) => v !== 0)))
    throw ctx.fail('training_mode true is not supported');
  let p = ctx.float('ratio', 0.5);
  const ratio = ctx.constant(1, 'ratio');
  if (ratio !== undefined) {
    if (ratio.float === undefined || ratio.float.length !== 1)
      throw ctx.fail(`ratio ${q(ratio.name)} must be one float32`);
    p = float32Decimal(ratio.float[0]);
  }
  if (!(p >= 0 && p < 1)) throw ctx.fail(`ratio ${p} must be within [0, 1)`);
  return new Dropout({ p, generator: layerGenerator() });
}

// Subclasses of Flatten may reshape differently: only Flatten itself vanishes from programs.
export const flattenKind = layerKind<Flatten>({
  module: Flatten,
  exact: true,
  spec: [directSpec('flatten', ['startDim', 'endDim'], (o) => new Flatten(o as FlattenOptions))],
  // Convention: reshapes count 0 MACs.
  macs: () => 0,
  toOnnx: (layer, ctx) => {
    const nd = ctx.inShape.length;
    const start = layer.startDim < 0 ? layer.startDim + nd : layer.startDim;
    const end = layer.endDim < 0 ? layer.endDim + nd : layer.endDim;
    if (start === 0)
      throw ctx.unsupported('merges the batch dimension (startDim 0), which the dynamic batch axis cannot follow');
    if (start === 1 && end === nd - 1) return ctx.node('Flatten', [ctx.x], { axis: 1 });
    // Merge dims start..end only: Reshape with 0 (= copy the dynamic batch size) first.
    const target = layer.outputShape(ctx.inShape).map((d, i) => (i === 0 ? 0 : d));
    return ctx.node('Reshape', [ctx.x, ctx.g.int64Init(`${ctx.prefix}onnx_shape`, target)]);
  },
  fromOnnx: { Flatten: flattenFromOnnx },
  program: 'identity',
});

export const dropoutKind = layerKind<Dropout>({
  module: Dropout,
  spec: [
    {
      type: 'dropout',
      options: ['p'],
      // Its masks get their own stream from the spec's generator, so building never touches the global one.
      build: (o, rng) =>
        new Dropout({ ...(o as DropoutOptions), generator: new Generator(Math.floor(rng.random() * 2 ** 53)) }),
    },
  ],
  toOnnx: (_layer, ctx) => ctx.node('Identity', [ctx.x]),
  fromOnnx: { Dropout: dropoutFromOnnx },
  program: 'identity',
});
