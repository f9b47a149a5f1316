// SPDX-License-Identifier: MIT
// Turns a training recipe (lib/train/recipes.ts) into the model, the augmentation and the loss for a dataset; a
// --model-file model replaces the recipe's.
import { compose, cutout, randomCrop, randomHorizontalFlip, type Transform } from '../data/transforms';
import { LeNet } from '../modules/lenet';
import { LeNetBN } from '../modules/lenet-bn';
import { heInit } from '../modules/init';
import type { Module } from '../modules/module';
import { CrossEntropyLoss } from '../loss/cross-entropy';
import { resnet20 } from '../models/resnet';
import type { Recipe } from '../train/recipes';
import { titleOfModel } from './models';

export interface BuiltRecipe {
  model: Module & { readonly config: object };
  /** The model's name (titleOfModel: "LeNet", "LeNet-5", "LeNetBN", as every command names it; "ResNet-20"); the given name for a custom model. */
  modelName: string;
  transform?: Transform;
  /** Cross-entropy with the recipe's label smoothing. */
  lossFn: CrossEntropyLoss;
}

/**
 * The recipe's model for images of `sampleShape` ([C, H, W]), its training augmentation and its loss. With
 * `custom` (a model from --model-file), that model replaces the recipe's; the augmentation is the recipe's.
 *
 * @example
 * const { model, transform } = buildRecipe(RECIPES['lenet-bn'], [3, 32, 32], 10);
 * const mine = buildRecipe(RECIPES.lenet, [3, 32, 32], 10, { model: spec.model, name: 'net.json' });
 */
export function buildRecipe(
  recipe: Recipe,
  sampleShape: readonly number[],
  numClasses: number,
  custom?: { model: Module & { readonly config: object }; name: string },
): BuiltRecipe {
  const [inChannels, imageSize] = sampleShape;
  let model: BuiltRecipe['model'];
  let modelName: string;
  if (custom !== undefined) {
    ({ model, name: modelName } = custom);
  } else if (recipe.model === 'ResNet20') {
    model = resnet20({ inChannels, imageSize, numClasses });
    modelName = titleOfModel(model);
  } else {
    const options = { inChannels, imageSize, numClasses };
    model = recipe.model === 'LeNetBN' ? new LeNetBN(options) : new LeNet(options);
    modelName = titleOfModel(model);
  }
  if (recipe.init === 'he') heInit(model);
  const steps: Transform[] = [];
  if (recipe.cropPadding > 0) steps.push(randomCrop(imageSize, recipe.cropPadding));
  if (recipe.flip) steps.push(randomHorizontalFlip());
  if (recipe.cutout > 0) steps.push(cutout(recipe.cutout));
  return {
    model,
    modelName,
    transform: steps.length === 0 ? undefined : compose(...steps),
    lossFn: new CrossEntropyLoss({ labelSmoothing: recipe.labelSmoothing }),
  };
}
