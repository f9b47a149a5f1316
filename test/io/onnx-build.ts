// SPDX-License-Identifier: MIT
// Hand-built ONNX ModelProtos for the importer's tests: initializers, nodes with attributes, and a model around them.
import { onnx } from 'onnx-proto';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

export type Attr = number | number[] | string | { float: number } | { tensor: onnx.ITensorProto };

/** A float32 initializer with values 0.1 * (i % 7 - 3), or the given ones. */
export function floats(name: string, dims: number[], values?: number[]): onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(values ?? Array.from({ length: n }, (_, i) => 0.1 * ((i % 7) - 3)));
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer) };
}

export function int64s(name: string, values: number[]): onnx.ITensorProto {
  return { name, dataType: DataType.INT64, dims: [values.length], int64Data: values };
}

export function node(
  opType: string,
  inputs: string[],
  output: string,
  attrs: Record<string, Attr> = {},
  name = opType.toLowerCase(),
): onnx.INodeProto {
  const attribute = Object.entries(attrs).map(([key, v]): onnx.IAttributeProto => {
    if (typeof v === 'string') return { name: key, type: AttributeType.STRING, s: Buffer.from(v) };
    if (Array.isArray(v)) return { name: key, type: AttributeType.INTS, ints: v };
    if (typeof v === 'number') return { name: key, type: AttributeType.INT, i: v };
    if ('float' in v) return { name: key, type: AttributeType.FLOAT, f: v.float };
    return { name: key, type: AttributeType.TENSOR, t: v.tensor };
  });
  return { opType, name, input: inputs, output: [output], attribute };
}

export function valueInfo(
  name: string,
  dims: (number | string)[],
  elemType: number = DataType.FLOAT,
): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

export interface GraphSpec {
  nodes: onnx.INodeProto[];
  inits?: onnx.ITensorProto[];
  input?: (number | string)[];
  output?: string;
  opset?: number;
  /** Edits the ModelProto before encoding. */
  edit?: (m: onnx.IModelProto & { graph: onnx.IGraphProto }) => void;
}

/** Encodes a model: input 'x' [batch, 2, 5, 5] by default, output the last node's output. */
export function build(spec: GraphSpec): Uint8Array {
  const last = spec.nodes[spec.nodes.length - 1];
  const m = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    producerName: 'test',
    graph: {
      name: 'g',
      node: spec.nodes,
      initializer: spec.inits ?? [],
      input: [valueInfo('x', spec.input ?? ['batch', 2, 5, 5])],
      output: [{ name: spec.output ?? last?.output?.[0] ?? 'x' }],
    } as onnx.IGraphProto,
  };
  spec.edit?.(m);
  return onnx.ModelProto.encode(m).finish();
}
