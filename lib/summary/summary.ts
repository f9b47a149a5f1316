// SPDX-License-Identifier: MIT
// summary(): walks a model layer by layer and counts output shapes, parameters, multiply-adds and activations (rendering is format.ts).
import { checkInt, describe } from '../check';
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
  let shape = input;
  for (const [name, layer] of leafLayers(model, '')) {
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
    const macs = rule ? rule(layer, shape, outputShape) : 0;
    layers.push({
      name,
      type: layer.constructor.name,
      inputShape: shape,
      outputShape,
      params,
      macs,
      activations: size(outputShape),
      activationChange: shapeSize(outputShape) / shapeSize(shape) - 1,
      known: rule !== undefined,
    });
    shape = outputShape;
  }
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
 * The leaf layers in execution order with dotted names. Sequentials (LeNet included) are expanded
 * unless a MAC rule is registered for their class; any other module with children is a leaf only
 * if it has a rule, since summary() cannot know the order its children run in.
 */
function leafLayers(module: Module, name: string): [string, Module][] {
  const children = module.namedChildren();
  if (findMacCounter(module) || (children.length === 0 && !(module instanceof Sequential))) return [[name, module]];
  if (!(module instanceof Sequential)) {
    throw new TypeError(
      `summary: ${label(name, module)} is a container other than Sequential; summary() cannot tell the order its children run in (register its MACs with registerMacCounter(${module.constructor.name}, ...))`,
    );
  }
  return children.flatMap(([child, m]) => leafLayers(m, name === '' ? child : `${name}.${child}`));
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
