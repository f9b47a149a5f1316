// SPDX-License-Identifier: MIT
// ONNX export: a model (Sequential, LeNet, a Graph such as a ResNet, ...) as an opset-13 ModelProto, encoded by onnx-proto
// (protobufjs code generated from onnx.proto), written with the shared atomic writer; each layer kind declares its node(s) (lib/layers/).
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { describe } from '../check';
import { opKindOf } from '../layers/registry';
import { Graph } from '../modules/graph';
import type { GraphOp } from '../modules/graph-op';
import { Module } from '../modules/module';
import { Sequential } from '../modules/sequential';
import { writeFileAtomic } from './atomic-file';
import { emitLayer, EXPORTABLE_LAYERS, exportContext, GraphBuilder } from './onnx-export-ops';

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

const FLOAT = onnx.TensorProto.DataType.FLOAT;

const join = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

/**
 * Adds the nodes of `module` (dotted path `name`) reading value `x` of shape `shape`; returns its output value.
 * Sequentials run their children in order, Graphs their nodes; any other module is one layer.
 */
function emitModule(g: GraphBuilder, name: string, module: Module, x: string, shape: readonly number[]): string {
  if (module instanceof Sequential) {
    for (const [child, layer] of module.namedChildren()) {
      x = emitModule(g, join(name, child), layer, x, shape);
      shape = layer.outputShape(shape);
    }
    return x;
  }
  if (module instanceof Graph) {
    const shapes = module.valueShapes(shape);
    const values = [x];
    module.nodes.forEach((node) => {
      const path = join(name, node.name);
      const ins = node.inputs.map((i) => values[i]);
      const inShapes = node.inputs.map((i) => shapes[i]);
      values.push(
        node.module
          ? emitModule(g, path, node.module, ins[0], inShapes[0])
          : emitOp(g, path, node.op as GraphOp, ins, inShapes),
      );
    });
    return values[values.length - 1];
  }
  return emitLayer(g, name, module, x, shape);
}

/** The node(s) of a graph op. */
function emitOp(g: GraphBuilder, name: string, op: GraphOp, inputs: string[], shapes: number[][]): string {
  const ctx = exportContext(g, name, op.type, inputs, shapes);
  const toOnnx = opKindOf(op)?.toOnnx;
  if (!toOnnx) throw ctx.unsupported(`is not supported by the ONNX exporter (supported: ${EXPORTABLE_LAYERS()})`);
  return toOnnx(op, ctx);
}

function checkInputShape(inputShape: unknown): number[] {
  if (
    !Array.isArray(inputShape) ||
    inputShape.length < 2 ||
    inputShape.some((d) => !Number.isSafeInteger(d) || d < 1)
  ) {
    throw new TypeError(
      `exportOnnx: inputShape must be sizes >= 1, batch first, e.g. [1, 3, 32, 32]; got ${describe(inputShape)}`,
    );
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
      cachedVersion = String(
        JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version ?? '',
      );
    } catch {
      cachedVersion = '';
    }
  }
  return cachedVersion;
}

// The returned model, typed by simdnet itself: onnx-proto's generated types name protobufjs's `Long`, which
// would leak into every client's type check (skipLibCheck: false). These are the fields buildOnnxModel
// fills, in protobufjs's camelCase; int64 fields are plain numbers here. Enum fields hold ONNX's numbers
// (TensorProto.DataType, AttributeProto.AttributeType).

/** An attribute of a node: FLOAT (f), INT (i), INTS (ints) or STRING (s, UTF-8 bytes). */
export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  ints?: number[];
  s?: Uint8Array;
}

/** A node of the graph (opType in the default ai.onnx domain). */
export interface OnnxNode {
  opType: string;
  name: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** An initializer: float32 weights as little-endian rawData, int64 shapes as int64Data. */
export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  rawData?: Uint8Array;
  int64Data?: number[];
}

/** A graph input or output: a float tensor whose first axis is the dynamic batch (dimParam). */
export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Array<{ dimParam: string } | { dimValue: number }> } } };
}

export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/** What buildOnnxModel returns: an ONNX ModelProto (encodeOnnx gives its bytes). */
export interface OnnxModel {
  irVersion: number;
  opsetImport: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: OnnxGraph;
  metadataProps: Array<{ key: string; value: string }>;
}

// OnnxModel must stay a valid onnx-proto ModelProto description (this line stops compiling otherwise).
const _modelFitsProto: (m: OnnxModel) => onnx.IModelProto = (m) => m;

/**
 * The ModelProto for `model` in eval mode (BatchNorm uses its running statistics, Dropout is an
 * identity), whatever mode the model is in, as torch.onnx.export does by default.
 *
 * @param inputShape batch first, e.g. [1, 3, 32, 32]; the batch becomes the dynamic axis 'batch'.
 * @throws TypeError naming the layer for a layer the exporter does not support, or for a bad model or shape;
 *   RangeError (ShapeError) when inputShape does not fit the model, or naming an AdaptiveAvgPool2d whose output size does
 *   not divide its input size there (ONNX has no adaptive pooling).
 */
export function buildOnnxModel(
  model: Module,
  inputShape: readonly number[],
  options: OnnxExportOptions = {},
): OnnxModel {
  // The builders fill exactly the fields OnnxModel names, with numbers for every int64.
  return buildModelProto(model, inputShape, options) as unknown as OnnxModel;
}

function buildModelProto(model: Module, inputShape: readonly number[], options: OnnxExportOptions): onnx.ModelProto {
  if (!(model instanceof Module))
    throw new TypeError(
      `exportOnnx: model must be a Module (a Sequential, Graph, LeNet, ResNet, ...), got ${describe(model)}`,
    );
  const shape0 = checkInputShape(inputShape);
  const outShape = model.outputShape(shape0); // validates the whole chain first (RangeError on a misfit)
  const g = new GraphBuilder([ONNX_INPUT_NAME, ONNX_OUTPUT_NAME]);
  const x = emitModule(g, '', model, ONNX_INPUT_NAME, shape0);
  // The last node writes the graph output directly; an empty model (or one whose output is an earlier value) ends in an Identity.
  const last = g.nodes[g.nodes.length - 1];
  if (!last || last.output?.[0] !== x) g.node('Identity', 'identity', [x]);
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
  return onnx.ModelProto.encode(buildModelProto(model, inputShape, options)).finish();
}

/**
 * Writes `model` as an ONNX file (opset 13, IR 7) that onnxruntime runs: input 'input' [batch, ...inputShape[1:]],
 * output 'logits'; initializers carry the PyTorch state-dict names ("conv1.weight", "bn1.running_mean").
 * The write is atomic (lib/io/atomic-file.ts): a temporary file in the same folder, fsynced, then renamed over `file`.
 * @throws FileWriteError naming `file` when the disk refuses (ENOSPC, EROFS, EACCES...).
 *
 * @example
 * model.eval();
 * exportOnnx(model, [1, 3, 32, 32], 'lenet.onnx');
 */
export function exportOnnx(
  model: Module,
  inputShape: readonly number[],
  file: string,
  options: OnnxExportOptions = {},
): void {
  if (typeof file !== 'string' || file.length === 0)
    throw new TypeError(`exportOnnx: path must be a non-empty string, got ${describe(file)}`);
  const bytes = encodeOnnx(model, inputShape, options);
  writeFileAtomic(file, bytes);
}
