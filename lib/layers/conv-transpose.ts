// SPDX-License-Identifier: MIT
// ConvTranspose2d: spec type, MACs, ONNX ConvTranspose both ways and the program's transposed-conv op.
import { pair, padPair } from '../io/onnx-import-conv';
import { batchShape, layerGenerator, list, q, type NodeContext } from '../io/onnx-import-proto';
import { ConvTranspose2d, CONV_TRANSPOSE_OPTIONS, type ConvTranspose2dOptions } from '../modules/conv-transpose2d';
import { OP } from '../modules/program-code';
import { layerKind } from './kind';
import { infer, needRank, num } from './spec';

/** ConvTranspose over [N, C, H, W] with weight [in, out / group, kh, kw], symmetric pads and no output_shape. */
function convTransposeFromOnnx(ctx: NodeContext): ConvTranspose2d {
  ctx.allowAttributes([
    'kernel_shape',
    'strides',
    'pads',
    'dilations',
    'group',
    'output_padding',
    'output_shape',
    'auto_pad',
  ]);
  ctx.expectRank(4, 'simdnet imports 2-d transposed convolutions (input [N, C, H, W]) only');
  if (ctx.ints('output_shape') !== undefined)
    throw ctx.fail('output_shape is not supported: simdnet reads the output size from pads and output_padding');
  const w = ctx.floats(1, 'weight');
  if (w.dims.length !== 4)
    throw ctx.fail(`weight ${q(w.name)} must be 4-d [in, out / group, kh, kw], got ${list(w.dims)}`);
  const [inChannels, perGroup, kh, kw] = w.dims;
  const groups = ctx.int('group', 1);
  if (inChannels !== ctx.inShape[1] || groups < 1 || inChannels % groups !== 0) {
    throw ctx.fail(
      `weight ${q(w.name)} ${list(w.dims)} with group ${groups} does not fit the input ${batchShape(ctx.inShape)}`,
    );
  }
  const kernel = pair(ctx, 'kernel_shape', 0);
  if (ctx.ints('kernel_shape') !== undefined && (kernel[0] !== kh || kernel[1] !== kw))
    throw ctx.fail(`kernel_shape ${list(kernel)} does not match the weight's ${list([kh, kw])}`);
  const outChannels = perGroup * groups;
  const b = ctx.constant(2, 'bias', [outChannels]);
  if (b !== undefined && b.float === undefined) throw ctx.fail(`bias ${q(b.name)} must be float32`);
  const options = {
    inChannels,
    outChannels,
    kernelSize: [kh, kw] as [number, number],
    stride: pair(ctx, 'strides', 1),
    padding: padPair(ctx),
    outputPadding: pair(ctx, 'output_padding', 0),
    dilation: pair(ctx, 'dilations', 1),
    groups,
    bias: b !== undefined,
    generator: layerGenerator(),
  };
  let layer: ConvTranspose2d;
  try {
    layer = new ConvTranspose2d(options);
  } catch (e) {
    throw ctx.fail((e as Error).message);
  }
  layer.weight.data.data.set(w.float);
  if (b !== undefined) layer.bias!.data.data.set(b.float!);
  return layer;
}

export const convTranspose2dKind = layerKind<ConvTranspose2d>({
  module: ConvTranspose2d,
  spec: [
    {
      type: 'convtranspose2d',
      options: CONV_TRANSPOSE_OPTIONS,
      normalise(o, shape, where) {
        needRank(where, 'convtranspose2d', shape, [4], '4-D [N, C, H, W]');
        return infer(o, 'inChannels', shape[1]);
      },
      stateValues(o) {
        const k = o.kernelSize;
        const kernel = Array.isArray(k) ? k.reduce((a: number, v) => a * num(v, NaN), 1) : num(k, NaN) ** 2;
        const out = num(o.outChannels, NaN);
        return num(o.inChannels, NaN) * (out / num(o.groups, 1)) * kernel + (o.bias === false ? 0 : out);
      },
      build: (o, rng) => new ConvTranspose2d({ ...(o as unknown as ConvTranspose2dOptions), generator: rng }),
    },
  ],
  /**
   * Each input value is multiplied by the (outChannels / groups) * kh * kw weights of its channel, so MACs =
   * N * inC * H * W * (outC / groups) * kh * kw (fvcore's and torchinfo's rule; outputs cropped by padding included).
   */
  macs: (layer, input) =>
    input.reduce((a, b) => a * b, 1) * (layer.outChannels / layer.groups) * layer.kernelSize[0] * layer.kernelSize[1],
  toOnnx: (layer, ctx) => {
    ctx.rank(4, '[N, C, H, W]');
    // onnxruntime refuses output_padding >= stride (which PyTorch allows when the dilation is larger): then the input
    // gets the zero rows/columns the layer itself adds (convInputShape) through a Pad, and the output padding left is
    // below the stride.
    const conv = layer.convInputShape(ctx.inShape);
    const extra = [conv[2] - ctx.inShape[2], conv[3] - ctx.inShape[3]];
    let x = ctx.x;
    if (extra[0] > 0 || extra[1] > 0) {
      const pads = ctx.g.int64Init(`${ctx.nodeName}.onnx_pads`, [0, 0, 0, 0, 0, 0, ...extra]);
      x = ctx.node('Pad', [x, pads], { mode: 'constant' }, '_pad');
    }
    const out = layer.outputShape(ctx.inShape);
    const natural = (i: number) =>
      (conv[2 + i] - 1) * layer.stride[i] - 2 * layer.padding[i] + layer.dilation[i] * (layer.kernelSize[i] - 1) + 1;
    const inputs = [x, ctx.g.floatInit(`${ctx.prefix}weight`, layer.weight.data)];
    if (layer.bias) inputs.push(ctx.g.floatInit(`${ctx.prefix}bias`, layer.bias.data));
    return ctx.node('ConvTranspose', inputs, {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: [...layer.padding, ...layer.padding],
      output_padding: [out[2] - natural(0), out[3] - natural(1)],
      dilations: [...layer.dilation],
      group: layer.groups,
    });
  },
  fromOnnx: { ConvTranspose: convTransposeFromOnnx },
  // The native op needs the Conv2d of the same sizes to map the output back to the input exactly; with outputPadding
  // >= stride (dilation larger) it does not, and the layer predicts in JavaScript.
  program: (layer, p) => {
    const conv = layer.convInputShape(p.inShape);
    const [, c, h, w] = p.inShape;
    if (conv[2] !== h || conv[3] !== w) return false;
    p.emit(OP.convTranspose, c, h, w, layer.outChannels, ...layer.kernelSize, ...layer.stride, ...layer.padding);
    p.emit(p.outShape[2], p.outShape[3], ...layer.dilation, layer.groups, ...p.weights(layer));
    return true;
  },
});
