// SPDX-License-Identifier: MIT
// splitWeightDecay: the parameter groups of the "no weight decay on normalisation layers and biases" recipe.
import { checkInstance } from '../check';
import { BatchNormBase } from '../modules/batch-norm';
import { GroupNorm } from '../modules/group-norm';
import { LayerNorm } from '../modules/layer-norm';
import { Module } from '../modules/module';
import { Parameter } from '../modules/parameter';

/** The groups splitWeightDecay returns: one takes the optimizer's weightDecay, the other none. */
export type WeightDecayGroups = ({ params: Parameter[] } | { params: Parameter[]; weightDecay: 0 })[];

/**
 * Splits a model's parameters into two groups for an optimizer: every weight that weight decay should shrink (conv and
 * linear weights), with the optimizer's weightDecay, and the rest (BatchNorm, GroupNorm and LayerNorm weights and biases,
 * and every other layer's bias) with weightDecay 0, the trick of modern CIFAR and ImageNet recipes (decay on a scale or
 * an offset only shrinks it, it does not regularise). A group that would be empty is left out; each keeps the model's
 * parameter order.
 *
 * @example
 * const opt = new SGD(splitWeightDecay(model), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 */
export function splitWeightDecay(model: Module): WeightDecayGroups {
  checkInstance('splitWeightDecay: model', model, Module, 'a Module');
  const decay: Parameter[] = [];
  const noDecay: Parameter[] = [];
  const visit = (m: Module): void => {
    const norm = m instanceof BatchNormBase || m instanceof GroupNorm || m instanceof LayerNorm;
    for (const [name, p] of m.namedParameters()) {
      if (name.includes('.')) continue; // a child's: visited below, with the child's type
      (norm || name === 'bias' ? noDecay : decay).push(p);
    }
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(model);
  const groups: WeightDecayGroups = [];
  if (decay.length > 0) groups.push({ params: decay });
  if (noDecay.length > 0) groups.push({ params: noDecay, weightDecay: 0 });
  return groups;
}
