// SPDX-License-Identifier: MIT
// ONNX export, layer side: the graph builder and the node(s) each supported layer becomes; the model walk, ModelProto and file
// writing are onnx-export.ts.
import { onnx } from 'onnx-proto';
import { AdaptiveAvgPool2d } from '../modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../modules/avg-pool2d';
import { BatchNormBase } from '../modules/batch-norm';
import { Conv1d } from '../modules/conv1d';
import { Conv2d } from '../modules/conv2d';
import { Dropout } from '../modules/dropout';
import { Flatten } from '../modules/flatten';
import { LeakyReLU } from '../modules/leaky-relu';
import { Linear } from '../modules/linear';
import { MaxPool2d } from '../modules/max-pool2d';
import { Module } from '../modules/module';
import { ReLU } from '../modules/relu';
import { Sigmoid } from '../modules/sigmoid';
import { LogSoftmax, Softmax } from '../modules/softmax';
import { Tanh } from '../modules/tanh';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

const { AttributeType } = onnx.AttributeProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type Attr = number | number[] | string;

/** Attributes ONNX types as FLOAT even when the value is a whole number (LeakyRelu alpha 1, epsilon 0). */
const FLOAT_ATTRS = new Set(['epsilon', 'alpha', 'momentum']);

/** The layers emitLayer knows, for the error on any other. */
export const EXPORTABLE_LAYERS =
  'Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, Flatten, BatchNorm1d/2d, Dropout, nested Sequential';

/** Collects the graph's nodes and initializers while the layers are walked in order. */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly names: Set<string>;

  /** @param reserved value names no node or initializer may take (the graph input and output). */
  constructor(reserved: readonly string[]) {
    this.names = new Set(reserved);
  }

  /** A float32 initializer from a tensor (little-endian raw data), under its state-dict name. */
  floatInit(name: string, t: Tensor | Float32Array, dims: readonly number[] = (t as Tensor).shape): string {
    const data = t instanceof Tensor ? t.data : t;
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
    this.initializers.push({ name: this.claim(name), dataType: FLOAT, dims: [...dims], rawData: raw });
    return name;
  }

  int64Init(name: string, values: readonly number[]): string {
    this.initializers.push({ name: this.claim(name), dataType: INT64, dims: [values.length], int64Data: [...values] });
    return name;
  }

  node(opType: string, name: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const output = this.claim(`${name}.output`);
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([key, v]) =>
      typeof v === 'string'
        ? { name: key, type: AttributeType.STRING, s: Buffer.from(v, 'utf8') }
        : Array.isArray(v)
          ? { name: key, type: AttributeType.INTS, ints: v }
          : Number.isInteger(v) && !FLOAT_ATTRS.has(key)
            ? { name: key, type: AttributeType.INT, i: v }
            : { name: key, type: AttributeType.FLOAT, f: v },
    );
    this.nodes.push({ opType, name: this.claim(name || opType), input: inputs, output: [output], attribute });
    return output;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new TypeError(`exportOnnx: two graph values would be named '${name}'`);
    this.names.add(name);
    return name;
  }
}

/** ONNX pads (all begins, then all ends) for simdnet's symmetric padding. */
function pads(p: readonly number[]): number[] {
  return [...p, ...p];
}

/** Conv for Conv1d or Conv2d: the weight keeps its layout ([out, in / groups, k] or [out, in / groups, kh, kw]). */
function conv(g: GraphBuilder, name: string, prefix: string, layer: Conv1d | Conv2d, x: string): string {
  const inputs = [x, g.floatInit(`${prefix}weight`, layer.weight.data)];
  if (layer.bias) inputs.push(g.floatInit(`${prefix}bias`, layer.bias.data));
  const list = (v: number | readonly number[]): number[] => (typeof v === 'number' ? [v] : [...v]);
  return g.node('Conv', name, inputs, {
    kernel_shape: list(layer.kernelSize),
    strides: list(layer.stride),
    pads: pads(list(layer.padding)),
    dilations: list(layer.dilation),
    group: layer.groups,
  });
}

/**
 * AdaptiveAvgPool2d as GlobalAveragePool (output 1x1) or, when each output side divides the input side, AveragePool with
 * kernel = stride = input / output (the windows PyTorch's adaptive pooling then uses). ONNX has no adaptive pooling, so
 * other sizes are refused, as torch.onnx.export refuses them.
 */
function adaptiveAvgPool(
  g: GraphBuilder,
  name: string,
  layer: AdaptiveAvgPool2d,
  x: string,
  inShape: readonly number[],
  fail: (why: string) => Error,
): string {
  const [h, w] = [inShape[2], inShape[3]];
  const [oh, ow] = layer.outputShape(inShape).slice(2);
  if (oh === 1 && ow === 1) return g.node('GlobalAveragePool', name, [x]);
  if (h % oh !== 0 || w % ow !== 0) {
    throw fail(
      `has output ${oh}x${ow} for the input ${h}x${w}: ONNX has no adaptive pooling, and an AveragePool (kernel = stride = input / output) ` +
        'exists only when each output side divides the input side (or the output is 1x1), as in torch.onnx.export; pick such an output size or input shape',
    );
  }
  const kernel = [h / oh, w / ow];
  return g.node('AveragePool', name, [x], { kernel_shape: kernel, strides: kernel, pads: [0, 0, 0, 0] });
}

/**
 * Adds the nodes of one layer (dotted path `name`, "" for the model itself) reading value `x` of shape `inShape`;
 * returns the name of its output value. Layers and forms ONNX cannot express throw a TypeError naming the layer,
 * an AdaptiveAvgPool2d the input size does not fit a RangeError.
 */
export function emitLayer(g: GraphBuilder, name: string, layer: Module, x: string, inShape: readonly number[]): string {
  const prefix = name ? `${name}.` : '';
  const nodeName = name || layer.constructor.name;
  const what = `exportOnnx: layer '${nodeName}' (${layer.constructor.name})`;
  const unsupported = (why: string): TypeError => new TypeError(`${what} ${why}`);
  const rank = (n: number, form: string): void => {
    if (inShape.length !== n) throw unsupported(`needs a ${n}-d input ${form}, got ${formatShape(inShape)}`);
  };
  if (layer instanceof Conv2d) {
    rank(4, '[N, C, H, W]');
    return conv(g, nodeName, prefix, layer, x);
  }
  if (layer instanceof Conv1d) {
    rank(3, '[N, C, L]');
    return conv(g, nodeName, prefix, layer, x);
  }
  if (layer instanceof MaxPool2d) {
    rank(4, '[N, C, H, W]');
    const attrs: Record<string, Attr> = {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: pads(layer.padding),
      ceil_mode: layer.ceilMode ? 1 : 0,
    };
    if (layer.dilation[0] !== 1 || layer.dilation[1] !== 1) attrs.dilations = [...layer.dilation];
    return g.node('MaxPool', nodeName, [x], attrs);
  }
  if (layer instanceof AvgPool2d) {
    rank(4, '[N, C, H, W]');
    if (layer.divisorOverride !== undefined && layer.divisorOverride !== null)
      throw unsupported('has divisorOverride, which ONNX AveragePool cannot express');
    return g.node('AveragePool', nodeName, [x], {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: pads(layer.padding),
      ceil_mode: layer.ceilMode ? 1 : 0,
      count_include_pad: layer.countIncludePad ? 1 : 0,
    });
  }
  if (layer instanceof AdaptiveAvgPool2d) {
    rank(4, '[N, C, H, W]');
    return adaptiveAvgPool(g, nodeName, layer, x, inShape, (why) => new RangeError(`${what} ${why}`));
  }
  if (layer instanceof Linear) {
    if (inShape.length !== 2)
      throw unsupported(`is exported as Gemm, which needs a 2-d input, got ${formatShape(inShape)}`);
    const inputs = [x, g.floatInit(`${prefix}weight`, layer.weight.data)];
    if (layer.bias) inputs.push(g.floatInit(`${prefix}bias`, layer.bias.data));
    return g.node('Gemm', nodeName, inputs, { transB: 1 });
  }
  if (layer.constructor === ReLU) return g.node('Relu', nodeName, [x]);
  if (layer instanceof LeakyReLU) return g.node('LeakyRelu', nodeName, [x], { alpha: layer.negativeSlope });
  if (layer instanceof Sigmoid) return g.node('Sigmoid', nodeName, [x]);
  if (layer instanceof Tanh) return g.node('Tanh', nodeName, [x]);
  if (layer instanceof Softmax || layer instanceof LogSoftmax) {
    // Opset 13: one axis, as PyTorch's dim (negative counts from the end); the dim was checked against the shape already.
    if ((layer.dim < 0 ? layer.dim + inShape.length : layer.dim) === 0) {
      throw unsupported(
        `has dim ${layer.dim}, the batch dimension: each sample's output would depend on the rest of the batch (importOnnx refuses it too)`,
      );
    }
    return g.node(layer instanceof Softmax ? 'Softmax' : 'LogSoftmax', nodeName, [x], { axis: layer.dim });
  }
  if (layer instanceof Flatten) {
    const nd = inShape.length;
    const start = layer.startDim < 0 ? layer.startDim + nd : layer.startDim;
    const end = layer.endDim < 0 ? layer.endDim + nd : layer.endDim;
    if (start === 0)
      throw unsupported('merges the batch dimension (startDim 0), which the dynamic batch axis cannot follow');
    if (start === 1 && end === nd - 1) return g.node('Flatten', nodeName, [x], { axis: 1 });
    // Merge dims start..end only: Reshape with 0 (= copy the dynamic batch size) first.
    const target = layer.outputShape(inShape).map((d, i) => (i === 0 ? 0 : d));
    return g.node('Reshape', nodeName, [x, g.int64Init(`${prefix}onnx_shape`, target)]);
  }
  if (layer instanceof BatchNormBase) {
    // BatchNormalization takes [N, C, ...]: BatchNorm1d's [N, C] and [N, C, L] as well as BatchNorm2d's [N, C, H, W].
    if (inShape.length < 2) throw unsupported(`needs an input [N, C, ...], got ${formatShape(inShape)}`);
    const mean = layer.runningMean;
    const variance = layer.runningVar;
    if (!mean || !variance)
      throw unsupported(
        'does not track running statistics (trackRunningStats false), so eval mode uses batch statistics',
      );
    const c = layer.numFeatures;
    const scale = layer.weight
      ? g.floatInit(`${prefix}weight`, layer.weight.data)
      : g.floatInit(`${prefix}onnx_scale`, new Float32Array(c).fill(1), [c]);
    const bias = layer.bias
      ? g.floatInit(`${prefix}bias`, layer.bias.data)
      : g.floatInit(`${prefix}onnx_bias`, new Float32Array(c), [c]);
    const inputs = [
      x,
      scale,
      bias,
      g.floatInit(`${prefix}running_mean`, mean),
      g.floatInit(`${prefix}running_var`, variance),
    ];
    return g.node('BatchNormalization', nodeName, inputs, { epsilon: layer.eps });
  }
  if (layer instanceof Dropout) return g.node('Identity', nodeName, [x]);
  throw unsupported(`is not supported by the ONNX exporter (supported: ${EXPORTABLE_LAYERS})`);
}
