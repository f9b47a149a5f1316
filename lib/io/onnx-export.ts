// SPDX-License-Identifier: MIT
// ONNX export: a Sequential (LeNet, LeNetBN, ...) as an opset-13 ModelProto, encoded by onnx-proto (protobufjs code generated from onnx.proto).
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { describe } from '../errors';
import { AvgPool2d } from '../modules/avg-pool2d';
import { BatchNormBase } from '../modules/batch-norm';
import { Conv2d } from '../modules/conv2d';
import { Dropout } from '../modules/dropout';
import { Flatten } from '../modules/flatten';
import { Linear } from '../modules/linear';
import { MaxPool2d } from '../modules/max-pool2d';
import { Module } from '../modules/module';
import { ReLU } from '../modules/relu';
import { Sequential } from '../modules/sequential';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/** ONNX operator set the exporter writes (ai.onnx, the default domain). */
export const ONNX_OPSET = 13;
/** ONNX IR version the exporter writes (IR 7 = ONNX 1.8; onnxruntime 1.30 reads it). */
export const ONNX_IR_VERSION = 7;
/** Name of the graph input. */
export const ONNX_INPUT_NAME = 'input';
/** Name of the graph output. */
export const ONNX_OUTPUT_NAME = 'logits';
/** Name of the dynamic first (batch) axis of the input and output. */
export const ONNX_BATCH_AXIS = 'batch';
/** metadata_props key `simdnet export` gives the class count (the output size), so `predict` can check it. */
export const ONNX_NUM_CLASSES_KEY = 'simdnet.num_classes';

/** Options of encodeOnnx / exportOnnx. */
export interface OnnxExportOptions {
  /** ModelProto.doc_string. Default: the model's description, e.g. "LeNet(inChannels=3, ...)". */
  docString?: string;
  /**
   * ModelProto.metadata_props, in key order. `simdnet export` writes "simdnet.dataset" (the training data,
   * which picks predict's normalisation and class names) and "simdnet.num_classes". Default: none.
   */
  metadata?: Readonly<Record<string, string>>;
}

const { AttributeType } = onnx.AttributeProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type Attr = number | number[] | string;

/** Collects the graph's nodes and initializers while the layers are walked in order. */
class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>([ONNX_INPUT_NAME, ONNX_OUTPUT_NAME]);

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
          : Number.isInteger(v) && key !== 'epsilon' && key !== 'alpha' && key !== 'momentum'
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

/** Leaf layers in execution order with their dotted path ("conv1", "block.0"); nested Sequentials expanded. */
function flatten(model: Module, prefix: string): [string, Module][] {
  if (!(model instanceof Sequential)) return [[prefix, model]];
  return model.namedChildren().flatMap(([name, child]) => flatten(child, prefix ? `${prefix}.${name}` : name));
}

function pads(p: readonly [number, number]): number[] {
  return [p[0], p[1], p[0], p[1]];
}

/** Adds the nodes of one layer; returns the name of its output value. */
function emitLayer(g: GraphBuilder, name: string, layer: Module, x: string, inShape: readonly number[]): string {
  const prefix = name ? `${name}.` : '';
  const nodeName = name || layer.constructor.name;
  const unsupported = (why: string): TypeError => new TypeError(`exportOnnx: layer '${nodeName}' (${layer.constructor.name}) ${why}`);
  const rank4 = (): void => {
    if (inShape.length !== 4) throw unsupported(`needs a 4-d input, got ${formatShape(inShape)}`);
  };
  if (layer instanceof Conv2d) {
    rank4();
    const inputs = [x, g.floatInit(`${prefix}weight`, layer.weight.data)];
    if (layer.bias) inputs.push(g.floatInit(`${prefix}bias`, layer.bias.data));
    return g.node('Conv', nodeName, inputs, {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: pads(layer.padding),
      dilations: [...layer.dilation],
      group: layer.groups,
    });
  }
  if (layer instanceof MaxPool2d) {
    rank4();
    const attrs: Record<string, Attr> = {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: pads(layer.padding),
      ceil_mode: layer.ceilMode ? 1 : 0,
    };
    // MaxPool2d gained dilation after this exporter was written; read it when present.
    const dilation = (layer as unknown as { dilation?: readonly [number, number] }).dilation;
    if (dilation && (dilation[0] !== 1 || dilation[1] !== 1)) attrs.dilations = [...dilation];
    return g.node('MaxPool', nodeName, [x], attrs);
  }
  if (layer instanceof AvgPool2d) {
    rank4();
    if (layer.divisorOverride !== undefined && layer.divisorOverride !== null) throw unsupported('has divisorOverride, which ONNX AveragePool cannot express');
    return g.node('AveragePool', nodeName, [x], {
      kernel_shape: [...layer.kernelSize],
      strides: [...layer.stride],
      pads: pads(layer.padding),
      ceil_mode: layer.ceilMode ? 1 : 0,
      count_include_pad: layer.countIncludePad ? 1 : 0,
    });
  }
  if (layer instanceof Linear) {
    if (inShape.length !== 2) throw unsupported(`is exported as Gemm, which needs a 2-d input, got ${formatShape(inShape)}`);
    const inputs = [x, g.floatInit(`${prefix}weight`, layer.weight.data)];
    if (layer.bias) inputs.push(g.floatInit(`${prefix}bias`, layer.bias.data));
    return g.node('Gemm', nodeName, inputs, { transB: 1 });
  }
  if (layer.constructor === ReLU) return g.node('Relu', nodeName, [x]);
  if (layer instanceof Flatten) {
    const nd = inShape.length;
    const start = layer.startDim < 0 ? layer.startDim + nd : layer.startDim;
    const end = layer.endDim < 0 ? layer.endDim + nd : layer.endDim;
    if (start === 0) throw unsupported('merges the batch dimension (startDim 0), which the dynamic batch axis cannot follow');
    if (start === 1 && end === nd - 1) return g.node('Flatten', nodeName, [x], { axis: 1 });
    // Merge dims start..end only: Reshape with 0 (= copy the dynamic batch size) first.
    const target = layer.outputShape(inShape).map((d, i) => (i === 0 ? 0 : d));
    return g.node('Reshape', nodeName, [x, g.int64Init(`${prefix}onnx_shape`, target)]);
  }
  if (layer instanceof BatchNormBase) {
    if (inShape.length < 2) throw unsupported(`needs an input [N, C, ...], got ${formatShape(inShape)}`);
    const mean = layer.runningMean;
    const variance = layer.runningVar;
    if (!mean || !variance) throw unsupported('does not track running statistics (trackRunningStats false), so eval mode uses batch statistics');
    const c = layer.numFeatures;
    const scale = layer.weight ? g.floatInit(`${prefix}weight`, layer.weight.data) : g.floatInit(`${prefix}onnx_scale`, new Float32Array(c).fill(1), [c]);
    const bias = layer.bias ? g.floatInit(`${prefix}bias`, layer.bias.data) : g.floatInit(`${prefix}onnx_bias`, new Float32Array(c), [c]);
    const inputs = [x, scale, bias, g.floatInit(`${prefix}running_mean`, mean), g.floatInit(`${prefix}running_var`, variance)];
    return g.node('BatchNormalization', nodeName, inputs, { epsilon: layer.eps });
  }
  if (layer instanceof Dropout) return g.node('Identity', nodeName, [x]);
  throw unsupported(`is not supported by the ONNX exporter (supported: Conv2d, MaxPool2d, AvgPool2d, Linear, ReLU, Flatten, BatchNorm1d/2d, Dropout, nested Sequential)`);
}

function checkInputShape(inputShape: unknown): number[] {
  if (!Array.isArray(inputShape) || inputShape.length < 2 || inputShape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new TypeError(`exportOnnx: inputShape must be sizes >= 1, batch first, e.g. [1, 3, 32, 32]; got ${describe(inputShape)}`);
  }
  return [...inputShape];
}

function valueInfo(name: string, shape: readonly number[]): onnx.IValueInfoProto {
  const dim = shape.map((d, i) => (i === 0 ? { dimParam: ONNX_BATCH_AXIS } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

let cachedVersion: string | undefined;
function producerVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // lib/io and dist/io are both two folders below package.json.
      cachedVersion = String(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version ?? '');
    } catch {
      cachedVersion = '';
    }
  }
  return cachedVersion;
}

/**
 * The ModelProto for `model` in eval mode (BatchNorm uses its running statistics, Dropout is an
 * identity), whatever mode the model is in, as torch.onnx.export does by default.
 *
 * @param inputShape batch first, e.g. [1, 3, 32, 32]; the batch becomes the dynamic axis 'batch'.
 * @throws TypeError naming the layer for a layer the exporter does not support, or for a bad model or shape;
 *   RangeError (ShapeError) when inputShape does not fit the model.
 */
export function buildOnnxModel(model: Module, inputShape: readonly number[], options: OnnxExportOptions = {}): onnx.ModelProto {
  if (!(model instanceof Module)) throw new TypeError(`exportOnnx: model must be a Module (a Sequential, LeNet or LeNetBN), got ${describe(model)}`);
  const shape0 = checkInputShape(inputShape);
  const outShape = model.outputShape(shape0); // validates the whole chain first (RangeError on a misfit)
  const g = new GraphBuilder();
  let x = ONNX_INPUT_NAME;
  let shape = shape0;
  for (const [name, layer] of flatten(model, '')) {
    x = emitLayer(g, name, layer, x, shape);
    shape = layer.outputShape(shape);
  }
  // The last node writes the graph output directly; an empty model is one Identity.
  if (g.nodes.length === 0) g.node('Identity', 'identity', [x]);
  g.nodes[g.nodes.length - 1].output = [ONNX_OUTPUT_NAME];
  const graph: onnx.IGraphProto = {
    name: model.constructor.name,
    node: g.nodes,
    initializer: g.initializers,
    input: [valueInfo(ONNX_INPUT_NAME, shape0)],
    output: [valueInfo(ONNX_OUTPUT_NAME, outShape)],
  };
  const doc = options.docString ?? `${model.constructor.name}(${model.extraRepr()})`;
  const metadata = options.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string')) {
    throw new TypeError(`exportOnnx: options.metadata must be an object of strings, got ${describe(metadata)}`);
  }
  return onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'simdnet',
    producerVersion: producerVersion(),
    docString: doc,
    graph,
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key] })),
  });
}

/** The model as ONNX protobuf bytes (see buildOnnxModel for what is exported). */
export function encodeOnnx(model: Module, inputShape: readonly number[], options: OnnxExportOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(buildOnnxModel(model, inputShape, options)).finish();
}

/**
 * Writes `model` as an ONNX file (opset 13, IR 7) that onnxruntime runs: input 'input' [batch, ...inputShape[1:]],
 * output 'logits'; initializers carry the PyTorch state-dict names ("conv1.weight", "bn1.running_mean").
 * The write is atomic: a temporary file in the same folder, fsynced, then renamed over `file`.
 *
 * @example
 * model.eval();
 * exportOnnx(model, [1, 3, 32, 32], 'lenet.onnx');
 */
export function exportOnnx(model: Module, inputShape: readonly number[], file: string, options: OnnxExportOptions = {}): void {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError(`exportOnnx: path must be a non-empty string, got ${describe(file)}`);
  const bytes = encodeOnnx(model, inputShape, options);
  writeFileAtomic(file, bytes);
}

/** Writes bytes to a temporary file next to `file`, fsyncs it and renames it over `file`; no partial file is left on failure. */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* already renamed or never created */
    }
    throw err;
  }
}
