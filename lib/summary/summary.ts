// SPDX-License-Identifier: MIT
// summary(): walks a model layer by layer (graphs node by node) and counts output shapes, parameters, multiply-adds and
// activations (rendering is format.ts).
import { checkInt, describe } from '../check';
import { Graph, GRAPH_INPUT } from '../modules/graph';
import { Module } from '../modules/module';
import { Sequential } from '../modules/sequential';
import { checkShape, formatShape, sameShape, shapeSize } from '../tensor/shape';
import { findMacCounter } from './layer-macs';

export interface SummaryOptions {
  /** Bytes per activation value. Default 4 (float32). */
  bytesPerValue?: number;
}

/** A number of values and the bytes they take. */
export interface ActivationSize {
  values: number;
  bytes: number;
}

/** One leaf layer of the model, in execution order. */
export interface LayerSummary {
  /** PyTorch's dotted name ("conv1", "features.0"); "" when the model itself is one layer. */
  name: string;
  /** The class name ("Conv2d"). */
  type: string;
  inputShape: number[];
  outputShape: number[];
  /** Trainable values (weights and biases) of this layer. */
  params: number;
  /** Multiply-adds of one forward pass over the whole input batch. */
  macs: number;
  /** The layer's output. */
  activations: ActivationSize;
  /** Output values / input values - 1 (-0.5 is -50%). */
  activationChange: number;
  /**
   * For a node of a Graph: the dotted names of the values it reads ("input" is the graph's input); `inputShape` is
   * the first one's shape. Absent in a chain.
   */
  inputs?: string[];
  /**
   * False for a layer with no MAC rule that was accepted because it has no parameters and keeps the
   * shape (Dropout, Identity, an activation): its MACs are taken as 0.
   */
  known: boolean;
}

/** What summary() returns: per-layer counts and totals, all for the batch size in the input shape. */
export interface ModelSummary {
  inputShape: number[];
  outputShape: number[];
  layers: LayerSummary[];
  totalParams: number;
  totalMacs: number;
  /** 2 x totalMacs: a multiply-add is two floating-point operations. */
  flops: number;
  inputActivations: ActivationSize;
  outputActivations: ActivationSize;
  /** Model output values / input values - 1 (0 is "0% change"). */
  activationChange: number;
  /** The sum of every layer's output (torchinfo's forward pass size; Flatten's view counted too). */
  totalActivations: ActivationSize;
  bytesPerValue: number;
}

/**
 * Counts, per leaf layer, the output shape, trainable parameters, multiply-adds (MACs) and
 * activation memory for an input of `inputShape` (batch included: MACs and activations scale with
 * N), with totals, like torchinfo's summary(). Nested Sequentials are expanded; leaf layers keep
 * their dotted names. No tensor is allocated and no forward pass is run.
 *
 * Conventions: Conv2d = N*outC*OH*OW*(inC/groups)*kh*kw and Linear = N*in*out MACs; bias adds,
 * pooling comparisons, activations and reshapes count 0. FLOPs = 2 x MACs.
 *
 * A layer class without a rule (see registerMacCounter) is accepted with 0 MACs only when it has
 * no parameters and keeps the shape (an identity, dropout, an activation); otherwise summary throws
 * a TypeError naming its type. Layer shape errors are rethrown with the layer's name.
 *
 * @example
 * const s = summary(new LeNet(), [1, 3, 32, 32]);
 * s.totalParams; // 62006
 * s.totalMacs;   // 651720
 * console.log(formatSummary(s));
 */
export function summary(model: Module, inputShape: readonly number[], options: SummaryOptions = {}): ModelSummary {
  if (!(model instanceof Module)) throw new TypeError(`summary: model must be a Module, got ${describe(model)}`);
  if (options === null || typeof options !== 'object')
    throw new TypeError(`summary: options must be an object, got ${describe(options)}`);
  const bytesPerValue = checkInt('summary: bytesPerValue', options.bytesPerValue ?? 4);
  const input = [...checkShape('summary: inputShape', inputShape)];
  if (input.length === 0 || input.some((d) => d < 1)) {
    throw new RangeError(
      `summary: inputShape must have sizes >= 1 (batch first, e.g. [1, 3, 32, 32]), got ${formatShape(input)}`,
    );
  }
  const size = (shape: readonly number[]): ActivationSize => ({
    values: shapeSize(shape),
    bytes: shapeSize(shape) * bytesPerValue,
  });
  const layers: LayerSummary[] = [];
  const row = (name: string, layer: Module, shape: number[], inputs?: string[]): number[] => {
    const outputShape = layerOutputShape(layer, name, shape);
    const params = layer.numParameters();
    const rule = findMacCounter(layer);
    if (!rule && (params > 0 || !sameShape(shape, outputShape))) {
      const why =
        params > 0
          ? `it has ${params} parameters`
          : `it changes the shape ${formatShape(shape)} -> ${formatShape(outputShape)}`;
      throw new TypeError(
        `summary: ${label(name, layer)} is a layer type summary() cannot count (${why}); register its MACs with registerMacCounter(${layer.constructor.name}, ...)`,
      );
    }
    layers.push({
      name,
      type: layer.constructor.name,
      inputShape: shape,
      outputShape,
      params,
      macs: rule ? rule(layer, shape, outputShape) : 0,
      activations: size(outputShape),
      activationChange: shapeSize(outputShape) / shapeSize(shape) - 1,
      known: rule !== undefined,
      ...(inputs ? { inputs } : {}),
    });
    return outputShape;
  };
  const shape = walk(model, '', input, row, (name, type, shapes, outputShape, inputs) => {
    layers.push({
      name,
      type,
      inputShape: shapes[0],
      outputShape,
      params: 0,
      macs: 0,
      activations: size(outputShape),
      activationChange: shapeSize(outputShape) / shapeSize(shapes[0]) - 1,
      known: true,
      inputs,
    });
  });
  const totalMacs = layers.reduce((n, l) => n + l.macs, 0);
  const totalValues = layers.reduce((n, l) => n + l.activations.values, 0);
  return {
    inputShape: input,
    outputShape: shape,
    layers,
    totalParams: layers.reduce((n, l) => n + l.params, 0),
    totalMacs,
    flops: 2 * totalMacs,
    inputActivations: size(input),
    outputActivations: size(shape),
    activationChange: shapeSize(shape) / shapeSize(input) - 1,
    totalActivations: { values: totalValues, bytes: totalValues * bytesPerValue },
    bytesPerValue,
  };
}

/**
 * Visits the leaf layers in execution order with dotted names, threading the shape: Sequentials (LeNet included) are
 * expanded unless a MAC rule is registered for their class, Graphs node by node (graph ops reported through `op`, with
 * 0 MACs and no parameters); any other module with children is a leaf only if it has a rule, since summary() cannot
 * know the order its children run in. Returns the output shape.
 */
function walk(
  module: Module,
  name: string,
  shape: number[],
  leaf: (name: string, layer: Module, shape: number[], inputs?: string[]) => number[],
  op: (name: string, type: string, shapes: number[][], outputShape: number[], inputs: string[]) => void,
  inputs?: string[],
): number[] {
  const children = module.namedChildren();
  const join = (child: string) => (name === '' ? child : `${name}.${child}`);
  if (
    findMacCounter(module) ||
    (children.length === 0 && !(module instanceof Sequential) && !(module instanceof Graph))
  )
    return leaf(name, module, shape, inputs);
  if (module instanceof Sequential) {
    return children.reduce(
      (s, [child, m], i) => walk(m, join(child), s, leaf, op, i === 0 ? inputs : undefined),
      shape,
    );
  }
  if (module instanceof Graph) {
    const shapes = [shape];
    const names = [name === '' ? GRAPH_INPUT : join(GRAPH_INPUT), ...module.nodes.map((n) => join(n.name))];
    module.nodes.forEach((node, k) => {
      const ins = node.inputs.map((i) => shapes[i]);
      const reads = node.inputs.map((i) => names[i]);
      if (node.module) {
        shapes.push(walk(node.module, names[k + 1], ins[0], leaf, op, reads));
      } else {
        const out = shapeOf(names[k + 1], () => node.op!.outputShape(ins), node.op!.type, ins);
        op(names[k + 1], node.op!.type, ins, out, reads);
        shapes.push(out);
      }
    });
    return shapes[shapes.length - 1];
  }
  throw new TypeError(
    `summary: ${label(name, module)} is a container other than Sequential and Graph; summary() cannot tell the order its children run in (register its MACs with registerMacCounter(${module.constructor.name}, ...))`,
  );
}

/** A graph op's output shape; errors name the node. */
function shapeOf(name: string, compute: () => number[], type: string, shapes: number[][]): number[] {
  try {
    return compute();
  } catch (err) {
    if (err instanceof Error)
      err.message = `summary: node '${name}' (${type}) with input ${shapes.map(formatShape).join(', ')}: ${err.message}`;
    throw err;
  }
}

function layerOutputShape(layer: Module, name: string, shape: number[]): number[] {
  try {
    return [...layer.outputShape(shape)];
  } catch (err) {
    // Keep the error class (ShapeError, RangeError) and say which layer and input it was.
    if (err instanceof Error)
      err.message = `summary: ${label(name, layer)} with input ${formatShape(shape)}: ${err.message}`;
    throw err;
  }
}

function label(name: string, layer: Module): string {
  return name === '' ? `the model (${layer.constructor.name})` : `layer '${name}' (${layer.constructor.name})`;
}
