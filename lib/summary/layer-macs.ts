// SPDX-License-Identifier: MIT
// Multiply-add (MAC) counting rules per layer class for summary(); the walk and the totals live in summary.ts.
import { AdaptiveAvgPool2d } from '../modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../modules/avg-pool2d';
import { BatchNormBase } from '../modules/batch-norm';
import { Conv1d } from '../modules/conv1d';
import { Conv2d } from '../modules/conv2d';
import { Flatten } from '../modules/flatten';
import { Linear } from '../modules/linear';
import { MaxPool2d } from '../modules/max-pool2d';
import { Module } from '../modules/module';
import { ReLU } from '../modules/relu';
import { shapeSize } from '../tensor/shape';

/**
 * Counts the multiply-adds one forward pass of `layer` does for a whole input of `inputShape`
 * (batch included), given the `outputShape` the layer reported for it.
 */
export type MacCounter<M extends Module = Module> = (
  layer: M,
  inputShape: readonly number[],
  outputShape: readonly number[],
) => number;

type LayerClass<M extends Module> = abstract new (...args: never[]) => M;

const counters = new Map<LayerClass<Module>, MacCounter>();

/**
 * Teaches summary() a layer class: `count` gives its MACs for one forward pass. Subclasses inherit
 * the rule unless they register their own. Parameters and output shapes need no rule: they come from
 * the module (numParameters(), outputShape()).
 *
 * @example
 * registerMacCounter(BatchNorm2d, () => 0); // normalisation: no multiply-adds counted
 */
export function registerMacCounter<M extends Module>(layerClass: LayerClass<M>, count: MacCounter<M>): void {
  if (typeof layerClass !== 'function' || !(layerClass.prototype instanceof Module)) {
    throw new TypeError('registerMacCounter: layerClass must be a Module subclass');
  }
  if (typeof count !== 'function') throw new TypeError('registerMacCounter: count must be a function');
  counters.set(layerClass as LayerClass<Module>, count as MacCounter);
}

/** The rule for `layer`'s class or its nearest registered ancestor class, or undefined. */
export function findMacCounter(layer: Module): MacCounter | undefined {
  for (
    let proto = Object.getPrototypeOf(layer);
    proto && proto !== Module.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const rule = counters.get(proto.constructor as LayerClass<Module>);
    if (rule) return rule;
  }
  return undefined;
}

/**
 * Conv2d: every output value is a dot product of (inChannels / groups) * kh * kw weights and inputs,
 * so MACs = N * outC * OH * OW * (inC / groups) * kh * kw. The bias add is not a multiply-add and is
 * not counted (as fvcore and torchinfo's conv MACs); dilation and padding change neither factor.
 */
registerMacCounter(Conv2d, (conv, _input, output) => {
  const [kh, kw] = conv.kernelSize;
  return shapeSize(output) * (conv.inChannels / conv.groups) * kh * kw;
});

/** Linear: MACs = N * inFeatures * outFeatures (bias adds not counted). */
registerMacCounter(Linear, (fc, _input, output) => shapeSize(output) * fc.inFeatures);

// Convention: comparisons (max pooling), activations (ReLU) and reshapes (Flatten) are 0 MACs.
registerMacCounter(MaxPool2d, () => 0);
registerMacCounter(ReLU, () => 0);
registerMacCounter(Flatten, () => 0);
registerMacCounter(AvgPool2d, () => 0);
registerMacCounter(AdaptiveAvgPool2d, () => 0);
/** Conv1d: MACs = N * outChannels * OL * (inChannels / groups) * kernel. */
registerMacCounter(
  Conv1d,
  (conv, _input, output) => shapeSize(output) * (conv.inChannels / conv.groups) * conv.kernelSize,
);
/** Batch norm: one multiply-add per output value (x * scale + shift once folded, as in eval mode). */
registerMacCounter(BatchNormBase, (_bn, _input, output) => shapeSize(output));
