// SPDX-License-Identifier: MIT
// ONNX import: a ModelProto (decoded by onnx-proto) whose graph is a chain of supported ops, as a simdnet Sequential in eval mode;
// the op converters are onnx-import-ops.ts (Conv and the pools onnx-import-conv.ts), tensor and attribute decoding
// onnx-import-proto.ts, folding of shape computations onnx-import-shape.ts, external data onnx-import-external.ts.
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { describe } from '../check';
import { FileFormatError, ShapeError } from '../errors';
import type { Graph } from '../modules/graph';
import { GraphOp } from '../modules/graph-op';
import { Module } from '../modules/module';
import { Sequential } from '../modules/sequential';
import { ONNX_NUM_CLASSES_KEY } from './onnx-export';
import { externalDataReader } from './onnx-import-external';
import { assemble, stepName, type ImportedStep } from './onnx-import-names';
import { converters, matMul, supportedOps } from './onnx-import-ops';
import { matchPattern } from './onnx-import-match';
import { scalarValue } from './onnx-import-patterns';
import { readRegularFile } from './regular-file';
import {
  batchShape,
  ConstantTable,
  list,
  NodeContext,
  printable,
  q,
  toInt,
  type ConstTensor,
} from './onnx-import-proto';
import { FOLDABLE_OPS, foldNode, unfoldable } from './onnx-import-shape';

/** Oldest ai.onnx opset importOnnx reads. */
export const ONNX_IMPORT_MIN_OPSET = 7;
/** Newest ai.onnx opset importOnnx reads (the supported ops mean the same up to here). */
export const ONNX_IMPORT_MAX_OPSET = 24;
/**
 * Values one sample may have at the input or after any layer (2^28 floats = 1 GiB): larger shapes cannot be
 * allocated as a typed array, so a model declaring them is refused at import, naming the input or node.
 */
export const MAX_SAMPLE_VALUES = 2 ** 28;
/** Largest model file importOnnx reads: protobuf messages end at 2 GiB (larger models keep weights in external data). */
const MAX_ONNX_BYTES = 2 ** 31 - 1;

/** What importOnnx returns: the model and what running it needs. */
export interface OnnxImport {
  /** The model in eval mode, with the file's weights: a Sequential for a chain of layers, else a Graph. */
  model: Sequential | Graph;
  /** One sample's input shape, without the batch: [C, H, W] for an image model. */
  inputShape: number[];
  /** One sample's output shape, without the batch: [classes] for a classifier. */
  outputShape: number[];
  /** Values per sample in the output (the class count of a classifier). */
  outputSize: number;
  /** ModelProto.metadata_props (`simdnet export` writes "simdnet.dataset" and "simdnet.num_classes"). */
  metadata: Record<string, string>;
  /** GraphProto.name: the model class for simdnet's exports ("LeNet"), "main_graph" for PyTorch's. */
  graphName: string;
  /** Producer name and version, e.g. "pytorch 2.13.0". */
  producer: string;
  /** The ai.onnx opset the file uses. */
  opset: number;
}

/** Options of importOnnx. */
export interface OnnxImportOptions {
  /** The name errors give for bytes (a file's errors name the file). Default "ONNX bytes". */
  name?: string;
  /**
   * The folder of the tensors' external data files (torch.onnx.export's default `<model>.onnx.data`). Default: the
   * model file's folder; bytes have none, so their external tensors are an error unless this is given.
   */
  externalDataDir?: string;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

interface ValueShape {
  dims: (number | undefined)[];
  /** The fixed batch size when dim 0 has a value rather than a name. */
  batch: number | undefined;
}

/**
 * Element type float32 and the dims of a graph input or output (undefined for a symbolic or unknown dim);
 * undefined when the value declares no shape (or, for an output, no type).
 */
function valueShape(
  vi: onnx.IValueInfoProto,
  what: 'input' | 'output',
  fail: (d: string) => FileFormatError,
): ValueShape | undefined {
  if (!vi.type && what === 'output') return undefined;
  const tensor = vi.type?.tensorType;
  if (!tensor) throw fail(`${what} ${q(vi.name)} is not a tensor`);
  if (tensor.elemType !== FLOAT) {
    const type =
      (onnx.TensorProto.DataType as unknown as Record<number, string | undefined>)[tensor.elemType ?? 0] ??
      tensor.elemType;
    throw fail(`${what} ${q(vi.name)} is ${type}; simdnet runs float32 models only`);
  }
  if (!tensor.shape) return undefined;
  const dims = (tensor.shape.dim ?? []).map((d) =>
    d.dimValue !== null && d.dimValue !== undefined ? toInt(d.dimValue, `${what} dimension`, fail) : undefined,
  );
  return { dims, batch: dims[0] };
}

/** A Constant node's value. */
function constantValue(ctx: NodeContext): ConstTensor {
  ctx.allowAttributes(['value', 'value_float', 'value_floats', 'value_int', 'value_ints']);
  const name = ctx.node.output?.[0] ?? '';
  const tensor = ctx.tensor('value');
  if (tensor !== undefined) return { ...tensor, name };
  const ints = ctx.ints('value_ints');
  if (ints !== undefined) return { name, dims: [ints.length], int: ints };
  const floats = ctx.floatList('value_floats');
  if (floats !== undefined) return { name, dims: [floats.length], float: Float32Array.from(floats) };
  if (ctx.has('value_int')) return { name, dims: [], int: [ctx.int('value_int', 0)] };
  if (ctx.has('value_float')) return { name, dims: [], float: Float32Array.of(ctx.float('value_float', 0)) };
  throw ctx.fail('has no value (value, value_float(s) or value_int(s))');
}

/** The graph of a decoded ModelProto as a Sequential; every problem is a FileFormatError naming `file`. */
function convertModel(proto: onnx.ModelProto, file: string, dataDir: string | undefined): OnnxImport {
  const fail = (detail: string) => new FileFormatError(file, detail);
  const ir = toInt(proto.irVersion, 'ir_version', fail);
  if (ir < 3)
    throw fail(
      ir <= 0 ? 'no ir_version: not an ONNX model' : `IR version ${ir} is too old (simdnet reads IR 3 and later)`,
    );
  const graph = proto.graph;
  if (!graph) throw fail('no graph: not an ONNX model');
  const defaults = (proto.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (defaults.length !== 1) throw fail(`needs one ai.onnx opset import, got ${defaults.length}`);
  const opset = toInt(defaults[0].version, 'opset version', fail);
  if (opset < ONNX_IMPORT_MIN_OPSET || opset > ONNX_IMPORT_MAX_OPSET) {
    throw fail(
      `opset ${opset} is not supported (simdnet imports ai.onnx opsets ${ONNX_IMPORT_MIN_OPSET} to ${ONNX_IMPORT_MAX_OPSET})`,
    );
  }
  if ((graph.sparseInitializer?.length ?? 0) > 0) throw fail('sparse initializers are not supported');
  const metadata: Record<string, string> = {};
  for (const { key, value } of proto.metadataProps ?? []) metadata[key ?? ''] = value ?? '';

  const constants = new ConstantTable(externalDataReader(dataDir));
  for (const t of graph.initializer ?? []) {
    if (!t.name) throw fail('an initializer has no name');
    if (constants.has(t.name)) throw fail(`two initializers are named ${q(t.name)}`);
    constants.addProto(t.name, t);
  }
  const inputs = (graph.input ?? []).filter((vi) => !constants.has(vi.name ?? ''));
  const outputs = graph.output ?? [];
  if (inputs.length !== 1)
    throw fail(
      `the graph has ${inputs.length} inputs ${list(inputs.map((i) => q(i.name)))}; simdnet imports models with one input`,
    );
  if (outputs.length !== 1)
    throw fail(
      `the graph has ${outputs.length} outputs ${list(outputs.map((o) => q(o.name)))}; simdnet imports models with one output`,
    );
  const [input, output] = [inputs[0], outputs[0]];
  const inShape = valueShape(input, 'input', fail);
  if (inShape === undefined || inShape.dims.length < 2 || inShape.dims.slice(1).some((d) => d === undefined || d < 1)) {
    const dims = inShape && list(inShape.dims.map((d) => d ?? '?'));
    throw fail(
      `input ${q(input.name)} must have a batch axis and fixed sizes >= 1 after it, e.g. [batch, 3, 32, 32]; got ${dims ?? 'no shape'}`,
    );
  }
  const sample = inShape.dims.slice(1) as number[];
  const sampleValues = sample.reduce((a, b) => a * b, 1);
  if (sampleValues > MAX_SAMPLE_VALUES) {
    throw new ShapeError(
      `${file}: input ${q(input.name)} takes ${batchShape([1, ...sample])}: ${sampleValues} values per sample, more than simdnet handles (${MAX_SAMPLE_VALUES})`,
    );
  }
  const outShape = valueShape(output, 'output', fail);

  const nodes = graph.node ?? [];
  const uses = new Map<string, number>();
  // A Shape reads only the shape of its input.
  for (const n of nodes)
    if (n.opType !== 'Shape') for (const name of n.input ?? []) if (name) uses.set(name, (uses.get(name) ?? 0) + 1);
  uses.set(output.name ?? '', (uses.get(output.name ?? '') ?? 0) + 1);
  // Constant nodes have no inputs, so they are read first wherever they stand.
  const context = (i: number, shape: readonly number[]) =>
    new NodeContext(file, nodes[i], i, opset, shape, inShape.batch, constants);
  const functions = new Set((proto.functions ?? []).map((f) => `${f.domain ?? ''}:${f.name ?? ''}`));
  nodes.forEach((n, i) => {
    if (functions.has(`${n.domain ?? ''}:${n.opType ?? ''}`)) {
      throw context(i, []).fail(
        `calls the model's own function ${q(n.opType)} (domain ${q(n.domain)}), which simdnet does not expand; inline it first (onnx.inliner.inline_local_functions)`,
      );
    }
    if (n.domain && n.domain !== 'ai.onnx')
      throw context(i, []).fail(`is in domain ${q(n.domain)}; simdnet imports ai.onnx ops only`);
    if (n.opType === 'Constant') constants.addDecoded(n.output?.[0] ?? '', constantValue(context(i, [])));
  });

  const inputName = input.name ?? '';
  // Every computed value: the step computing it (-1: the graph input) and its shape (batch placeholder 1).
  const values = new Map<string, number>([[inputName, -1]]);
  const shapes = new Map<string, readonly number[]>([[inputName, [1, ...sample]]]);
  const steps: ImportedStep[] = [];
  const table = converters();
  const isOp = (op: string) => Object.prototype.hasOwnProperty.call(table, op);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (node.opType === 'Constant') continue;
    const op = node.opType ?? '';
    let data = (node.input ?? []).filter((n) => n && !constants.has(n));
    const ctx = context(i, shapes.get(data[0] ?? '') ?? [1, ...sample]);
    if (FOLDABLE_OPS.has(op)) {
      // Side computations on constants and shapes (x.view(x.size(0), -1)) become constants; the graph goes on around them.
      const reads = (node.input ?? []).filter((n) => n);
      const known = (n: string) => constants.has(n) || (op === 'Shape' && shapes.has(n));
      if (reads.length > 0 && reads.every(known)) {
        const out = node.output?.[0];
        if (!out) throw ctx.fail('has no output');
        if (constants.has(out) || shapes.has(out))
          throw ctx.fail(`writes ${q(out)}, which another node or initializer also defines`);
        constants.addDecoded(
          out,
          foldNode(ctx, (n) => shapes.get(n)),
        );
        continue;
      }
      // Reading a computed tensor, an op without a converter is just unsupported; else the shape side is what failed.
      const computed = reads.some((n) => shapes.has(n) && !known(n));
      if (op === 'Shape' || (!computed && !isOp(op))) throw ctx.fail(unfoldable(ctx, known));
    }
    // A layer written as several nodes (GELU's formulas, SiLU, LayerNorm, GroupNorm, Pad + Conv) replaces them all.
    const constOf = (n: string) => (constants.has(n) ? constants.get(n, (d) => ctx.fail(d)) : undefined);
    const pattern = matchPattern(op, {
      nodes,
      i,
      uses,
      scalarOf: (n) => scalarValue(constOf(n)),
      constOf,
      context,
      inShape: ctx.inShape,
    });
    if (pattern) data = [pattern.input ?? data[0]];
    if (!pattern && op !== 'MatMul' && !isOp(op)) {
      throw ctx.fail(`op ${printable(op)} is not supported (supported: ${supportedOps().join(', ')})`);
    }
    if (data.length === 0) throw ctx.fail('reads no computed value (only constants)');
    const unknown = data.find((n) => !values.has(n));
    if (unknown !== undefined)
      throw ctx.fail(`reads ${q(unknown)}, which is not the graph input, an initializer or an earlier node's output`);
    let last = node;
    let add: NodeContext | undefined;
    if (pattern) [last, i] = [nodes[pattern.end], pattern.end];
    if (op === 'MatMul') {
      // x W + b: a following Add of a constant row is the Linear's bias.
      let j = i + 1;
      while (j < nodes.length && nodes[j].opType === 'Constant') j++;
      const next = nodes[j];
      const out = node.output?.[0];
      if (
        next?.opType === 'Add' &&
        out &&
        uses.get(out) === 1 &&
        next.input?.includes(out) &&
        (next.input ?? []).every((n) => n === out || constants.has(n))
      ) {
        add = context(j, ctx.inShape);
        last = next;
        i = j;
      }
    }
    const outputs = last.output ?? [];
    if (!outputs[0]) throw ctx.fail('has no output');
    for (const extra of outputs.slice(1)) {
      if (extra && uses.has(extra))
        throw ctx.fail(`its second output ${q(extra)} is used; simdnet imports the first output only`);
    }
    const inShapes = data.map((n) => shapes.get(n) as readonly number[]);
    let made: ReturnType<(typeof table)[string]>;
    try {
      made = pattern ? pattern.layer : op === 'MatMul' ? matMul(ctx, add) : table[op](ctx, inShapes);
    } catch (err) {
      if (err instanceof FileFormatError) throw err;
      throw ctx.fail((err as Error).message);
    }
    const produced = made === null ? [] : Array.isArray(made) ? made : [made];
    if (produced.length === 0 && data.length !== 1)
      throw ctx.fail(`passes on ${data.length} values; only one is supported`);
    if (produced.some((m) => m instanceof Module) && data.length !== 1) {
      const reads = data.slice(0, 8).map(q).join(', ');
      throw ctx.fail(`reads the computed values ${reads}; ${op} takes one (the others must be constants)`);
    }
    const { name, tail } = stepName(pattern?.named ?? node, steps.length);
    let value = values.get(data[0]) as number;
    let shape: readonly number[] = inShapes[0];
    produced.forEach((step, k) => {
      const reads = k === 0 ? data.map((n) => values.get(n) as number) : [value];
      const ins = k === 0 ? inShapes : [shape];
      try {
        shape = step instanceof GraphOp ? step.outputShape(ins) : step.outputShape(ins[0]);
      } catch (err) {
        throw ctx.fail(`does not fit its input ${ins.map(batchShape).join(', ')}: ${(err as Error).message}`);
      }
      const size = shape.slice(1).reduce((a, b) => a * b, 1);
      if (size > MAX_SAMPLE_VALUES) {
        throw new ShapeError(
          `${file}: ${ctx.label} gives ${batchShape(shape)}: ${size} values per sample, more than simdnet handles (${MAX_SAMPLE_VALUES})`,
        );
      }
      // A node made of two layers (ReduceMean with keepdims 0: pool, flatten) names the second after its class.
      const suffix = k === 0 ? '' : `_${step instanceof GraphOp ? step.type : step.constructor.name.toLowerCase()}`;
      steps.push({
        name: name + suffix,
        tail: tail + suffix,
        ...(step instanceof GraphOp ? { op: step } : { module: step }),
        inputs: reads,
      });
      value = steps.length - 1;
    });
    if (shapes.has(outputs[0]) || constants.has(outputs[0]))
      throw ctx.fail(`writes ${q(outputs[0])}, which another node or initializer also defines`);
    values.set(outputs[0], value);
    shapes.set(outputs[0], shape);
  }
  const result = values.get(output.name ?? '');
  if (result === undefined) throw fail(`no node computes the graph output ${q(output.name)} from the input`);
  const shape = shapes.get(output.name ?? '') as readonly number[];

  const outSample = shape.slice(1);
  const declared = outShape?.dims.slice(1);
  if (
    declared &&
    (declared.length !== outSample.length || declared.some((d, k) => d !== undefined && d !== outSample[k]))
  ) {
    throw fail(
      `the graph output ${q(output.name)} is declared ${list(['batch', ...declared.map((d) => d ?? '?')])}, but the layers give ${batchShape(shape)}`,
    );
  }
  const outputSize = outSample.reduce((a, b) => a * b, 1);
  const classes = metadata[ONNX_NUM_CLASSES_KEY];
  if (classes !== undefined && Number(classes) !== outputSize) {
    throw fail(
      `metadata "${ONNX_NUM_CLASSES_KEY}" is ${JSON.stringify(classes)}, but the model gives ${outputSize} values per sample`,
    );
  }
  // An output that is the input itself (a model of no-op Reshapes and Identities) is an empty Sequential.
  const model = result < 0 ? new Sequential() : assemble(steps, result);
  model.eval();
  const producer = [proto.producerName, proto.producerVersion].filter((s) => s).join(' ');
  return {
    model,
    inputShape: sample,
    outputShape: outSample,
    outputSize,
    metadata,
    graphName: graph.name ?? '',
    producer,
    opset,
  };
}

/**
 * Reads an ONNX model whose graph is a chain of the ops simdnet has layers for (what `exportOnnx` and both of
 * `torch.onnx.export`'s exporters write for LeNet-like models: Conv (2-d, or 1-d as Conv1d), MaxPool, AveragePool, GlobalAveragePool,
 * ReduceMean over H and W, Gemm, MatMul + Add, BatchNormalization, Relu, LeakyRelu, Sigmoid, Tanh, Softmax,
 * LogSoftmax, Flatten, Reshape and Squeeze as a flatten, Dropout, Identity, Constant; GroupNormalization,
 * InstanceNormalization, a reflect/edge/wrap Pad before a Conv as its padding mode, and the formulas exporters write for
 * LayerNorm, GroupNorm and GELU: see docs/onnx.md) and returns it as a Sequential in eval mode with its weights. Side computations on constants and shapes are folded (PyTorch's
 * `x.view(x.size(0), -1)`); weights in external data files are read from the model's folder.
 * Layers are named after their weights ("conv1.weight" -> "conv1"), so state-dict names carry over.
 *
 * @param source a file path, or the file's bytes.
 * @throws FileFormatError naming the file (and the node, with its op type) for an empty, truncated or
 *   corrupt file, an unsupported op, attribute value or tensor type, a missing or short external data file, a
 *   side computation that does not fold (or computes with the batch size), a graph that is not a single chain
 *   from one input to one output, or weights whose shapes do not fit; TypeError for a bad source.
 *   fs errors (ENOENT...) of the model file as thrown by Node.
 *
 * @example
 * const { model, inputShape, outputSize } = importOnnx('lenet.onnx'); // [3, 32, 32], 10
 * const logits = model.predict(new Tensor(images, [n, ...inputShape]));
 */
export function importOnnx(source: string | Uint8Array, options: OnnxImportOptions = {}): OnnxImport {
  let bytes: Uint8Array;
  let file: string;
  if (typeof source === 'string') {
    if (source.length === 0)
      throw new TypeError('importOnnx: source must be a non-empty path or a Uint8Array, got an empty string');
    file = source;
    // A FIFO or device named as the model would block or stream forever; protobuf cannot hold more than 2 GiB.
    bytes = readRegularFile(source, MAX_ONNX_BYTES, 'an ONNX model');
  } else if (
    ArrayBuffer.isView(source) &&
    source.constructor?.name !== 'DataView' &&
    (source as Uint8Array).BYTES_PER_ELEMENT === 1
  ) {
    file = options.name ?? 'ONNX bytes';
    bytes = source;
  } else {
    throw new TypeError(`importOnnx: source must be a file path or a Uint8Array, got ${describe(source)}`);
  }
  if (bytes.length === 0) throw new FileFormatError(file, 'the file is empty, not an ONNX model');
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new FileFormatError(file, `not an ONNX model, or truncated (protobuf: ${(err as Error).message})`);
  }
  const dataDir = options.externalDataDir ?? (typeof source === 'string' ? path.dirname(source) : undefined);
  try {
    return convertModel(proto, file, dataDir);
  } catch (err) {
    if (err instanceof FileFormatError || err instanceof ShapeError) throw err;
    // Values no check above foresaw (a garbage file that happens to parse) still name the file.
    throw new FileFormatError(file, `not a valid ONNX model: ${(err as Error)?.message ?? String(err)}`);
  }
}
