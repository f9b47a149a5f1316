// SPDX-License-Identifier: MIT
// ONNX export, node side: the graph builder, the context a layer kind (lib/layers/) writes its nodes through, and
// emitLayer(), which finds the layer's kind; the model walk, ModelProto and file writing are onnx-export.ts.
import { onnx } from 'onnx-proto';
import { layerRule, OPS_WITH_ONNX, EXPORTABLE_KINDS } from '../layers/registry';
import type { Module } from '../modules/module';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

const { AttributeType } = onnx.AttributeProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export type Attr = number | number[] | string;

/** Attributes ONNX types as FLOAT even when the value is a whole number (LeakyRelu alpha 1, epsilon 0). */
const FLOAT_ATTRS = new Set(['epsilon', 'alpha', 'momentum']);

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

/** What a layer kind's (or graph op's) toOnnx gets: where it is, what it reads, and the builder. */
export interface OnnxExportContext {
  readonly g: GraphBuilder;
  /** The layer's dotted path ("conv1", "layers.0.add"); "" for the model itself. */
  readonly name: string;
  /** Prefix of its initializers' names: the state-dict prefix ("conv1.") or "". */
  readonly prefix: string;
  /** The name its (first) node gets. */
  readonly nodeName: string;
  /** The value it reads (the first, for a graph op reading several). */
  readonly x: string;
  readonly inShape: readonly number[];
  /** Every value it reads, and their shapes (one for a layer). */
  readonly inputs: readonly string[];
  readonly inShapes: readonly (readonly number[])[];
  /** A TypeError "exportOnnx: layer '<name>' (<Class>) <why>". */
  unsupported(why: string): TypeError;
  /** A RangeError with the same start. */
  badSize(why: string): RangeError;
  /** Throws unsupported() unless the input has `rank` dims (`form` shows them, e.g. "[N, C, H, W]"). */
  rank(rank: number, form: string): void;
  /** Adds a node named nodeName (or nodeName + suffix) and returns its output. */
  node(opType: string, inputs: string[], attrs?: Record<string, Attr>, suffix?: string): string;
}

/** ONNX pads (all begins, then all ends) for simdnet's symmetric padding. */
export function symmetricPads(p: readonly number[]): number[] {
  return [...p, ...p];
}

/** The export context of one layer or op at dotted path `name` reading `inputs` of shapes `inShapes`. */
export function exportContext(
  g: GraphBuilder,
  name: string,
  what: string,
  inputs: readonly string[],
  inShapes: readonly (readonly number[])[],
): OnnxExportContext {
  const nodeName = name || what;
  const head = `exportOnnx: layer '${nodeName}' (${what})`;
  const unsupported = (why: string): TypeError => new TypeError(`${head} ${why}`);
  return {
    g,
    name,
    prefix: name ? `${name}.` : '',
    nodeName,
    x: inputs[0],
    inShape: inShapes[0],
    inputs,
    inShapes,
    unsupported,
    badSize: (why) => new RangeError(`${head} ${why}`),
    rank(rank, form) {
      if (inShapes[0].length !== rank)
        throw unsupported(`needs a ${rank}-d input ${form}, got ${formatShape(inShapes[0])}`);
    },
    node: (opType, ins, attrs = {}, suffix = '') => g.node(opType, nodeName + suffix, ins, attrs),
  };
}

/**
 * Adds the nodes of one layer (dotted path `name`, "" for the model itself) reading value `x` of shape `inShape`;
 * returns the name of its output value. Layers and forms ONNX cannot express throw a TypeError naming the layer,
 * an AdaptiveAvgPool2d the input size does not fit a RangeError.
 */
export function emitLayer(g: GraphBuilder, name: string, layer: Module, x: string, inShape: readonly number[]): string {
  const ctx = exportContext(g, name, layer.constructor.name, [x], [inShape]);
  const toOnnx = layerRule(layer, 'toOnnx');
  if (!toOnnx) throw ctx.unsupported(`is not supported by the ONNX exporter (supported: ${EXPORTABLE_LAYERS()})`);
  return toOnnx(layer, ctx);
}

/** The layers and graph ops the exporter knows, for the error on any other. */
export function EXPORTABLE_LAYERS(): string {
  return [...EXPORTABLE_KINDS(), 'nested Sequential and Graph', `graph ops ${OPS_WITH_ONNX().join(', ')}`].join(', ');
}
