// SPDX-License-Identifier: MIT
// Turns a training recipe (lib/train/recipes.ts) into the model and the augmentation for a dataset.
import { compose, randomCrop, randomHorizontalFlip, type Transform } from '../data/transforms';
import { LeNet } from '../modules/lenet';
import { LeNetBN } from '../modules/lenet-bn';
import type { Module } from '../modules/module';
import type { Recipe } from '../train/recipes';

export interface BuiltRecipe {
  model: Module & { readonly config: object };
  /** "LeNet" for CIFAR-10, "LeNet-5" for 28x28 images, with "BN" for batch norm. */
  modelName: string;
  transform?: Transform;
}

/** The recipe's model for images of `sampleShape` ([C, H, W]) and its training augmentation. */
export function buildRecipe(recipe: Recipe, sampleShape: readonly number[], numClasses: number): BuiltRecipe {
  const [inChannels, imageSize] = sampleShape;
  const options = { inChannels, imageSize, numClasses };
  const model = recipe.model === 'LeNetBN' ? new LeNetBN(options) : new LeNet(options);
  const modelName = `${imageSize === 28 ? 'LeNet-5' : 'LeNet'}${recipe.model === 'LeNetBN' ? 'BN' : ''}`;
  const steps: Transform[] = [];
  if (recipe.cropPadding > 0) steps.push(randomCrop(imageSize, recipe.cropPadding));
  if (recipe.flip) steps.push(randomHorizontalFlip());
  return { model, modelName, transform: steps.length === 0 ? undefined : compose(...steps) };
}
