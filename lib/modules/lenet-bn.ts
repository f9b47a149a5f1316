// SPDX-License-Identifier: MIT
// LeNetBN: LeNet with a BatchNorm2d after each convolution, with PyTorch's parameter and buffer names.
import { checkInt } from '../errors';
import { BatchNorm2d } from './batch-norm';
import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import type { LeNetConfig, LeNetOptions } from './lenet';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool2d';
import { rejectUnknownOptions } from './options';
import { ReLU } from './relu';
import { Sequential } from './sequential';

export type LeNetBNOptions = LeNetOptions;
export type LeNetBNConfig = LeNetConfig;

/**
 * conv1(6, 5x5) -> bn1 -> ReLU -> MaxPool(2) -> conv2(16, 5x5) -> bn2 -> ReLU -> MaxPool(2) ->
 * flatten -> fc1(120) -> ReLU -> fc2(84) -> ReLU -> fc3(numClasses). The convolutions keep their
 * bias, as in LeNet: 62,050 parameters for the defaults (LeNet's 62,006 plus 2 x (6 + 16)).
 *
 * Options as LeNet: inChannels = 3, imageSize = 32, numClasses = 10, padding (of conv1) = 2 for
 * 28x28 input, otherwise 0. State dict: conv1.*, bn1.{weight, bias, running_mean, running_var,
 * num_batches_tracked}, conv2.*, bn2.*, fc1.*, fc2.*, fc3.*.
 *
 * Shape: [N, inChannels, imageSize, imageSize] -> [N, numClasses] (logits).
 *
 * @example
 * manualSeed(0);
 * const net = new LeNetBN();                                      // CIFAR-10
 * const digits = new LeNetBN({ inChannels: 1, imageSize: 28 });   // Fashion-MNIST
 */
export class LeNetBN extends Sequential {
  readonly config: LeNetBNConfig;

  constructor(options: LeNetBNOptions = {}) {
    rejectUnknownOptions('LeNetBN', options, ['inChannels', 'imageSize', 'numClasses', 'padding']);
    const inChannels = checkInt('LeNetBN: inChannels', options.inChannels ?? 3);
    const imageSize = checkInt('LeNetBN: imageSize', options.imageSize ?? 32);
    const numClasses = checkInt('LeNetBN: numClasses', options.numClasses ?? 10);
    const padding = checkInt('LeNetBN: padding', options.padding ?? (imageSize === 28 ? 2 : 0), 0);
    // Side after conv1 (5x5), pool, conv2 (5x5), pool.
    const side = Math.floor((Math.floor((imageSize + 2 * padding - 4) / 2) - 4) / 2);
    if (side < 1) throw new RangeError(`LeNetBN: imageSize ${imageSize} is too small (needs at least ${16 - 2 * padding})`);
    super({
      conv1: new Conv2d({ inChannels, outChannels: 6, kernelSize: 5, padding }),
      bn1: new BatchNorm2d({ numFeatures: 6 }),
      relu1: new ReLU(),
      pool1: new MaxPool2d(2),
      conv2: new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }),
      bn2: new BatchNorm2d({ numFeatures: 16 }),
      relu2: new ReLU(),
      pool2: new MaxPool2d(2),
      flatten: new Flatten(),
      fc1: new Linear({ inFeatures: 16 * side * side, outFeatures: 120 }),
      relu3: new ReLU(),
      fc2: new Linear({ inFeatures: 120, outFeatures: 84 }),
      relu4: new ReLU(),
      fc3: new Linear({ inFeatures: 84, outFeatures: numClasses }),
    });
    this.config = { inChannels, imageSize, numClasses, padding };
  }

  override extraRepr(): string {
    const c = this.config;
    return `inChannels=${c.inChannels}, imageSize=${c.imageSize}, numClasses=${c.numClasses}`;
  }
}
