// SPDX-License-Identifier: MIT
// Multiply-add (MAC) counting rules for summary(): each layer kind declares its own (lib/layers/); registerMacCounter()
// adds one for a class of your own. The walk and the totals live in summary.ts.
import type { LayerClass, MacCounter } from '../layers/kind';
import { macRule, registerLayerKind } from '../layers/registry';
import { Module } from '../modules/module';

export type { MacCounter };

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
  registerLayerKind({ module: layerClass, macs: count });
}

/** The rule for `layer`'s class or its nearest registered ancestor class, or undefined. */
export function findMacCounter(layer: Module): MacCounter | undefined {
  return macRule(layer) as MacCounter | undefined;
}
