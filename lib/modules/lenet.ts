// SPDX-License-Identifier: MIT
// LeNet: the course's LeNet for CIFAR-10 (and LeNet-5 for 28x28 digits), with PyTorch's parameter names.
import { checkInt } from '../errors';
import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool2d';
import { rejectUnknownOptions } from './options';
import { ReLU } from './relu';
import { Sequential } from './sequential';

export interface LeNetOptions {
  /** Default 3. */
  inChannels?: number;
  /** Square input side. Default 32. */
  imageSize?: number;
  /** Default 10. */
  numClasses?: number;
  /** Zero padding of conv1. Default 2 for 28x28 input (the LeNet-5 form), otherwise 0. */
  padding?: number;
}

export type LeNetConfig = Required<LeNetOptions>;

/**
 * conv1(6, 5x5) -> ReLU -> MaxPool(2) -> conv2(16, 5x5) -> ReLU -> MaxPool(2) -> flatten ->
 * fc1(120) -> ReLU -> fc2(84) -> ReLU -> fc3(numClasses). 62,006 parameters for the defaults.
 *
 * Shape: [N, inChannels, imageSize, imageSize] -> [N, numClasses] (logits).
 *
 * @example
 * manualSeed(0);
 * const net = new LeNet();                                        // CIFAR-10
 * const digits = new LeNet({ inChannels: 1, imageSize: 28 });     // LeNet-5, conv1 padded by 2
 */
export class LeNet extends Sequential {
  readonly config: LeNetConfig;

  constructor(options: LeNetOptions = {}) {
    rejectUnknownOptions('LeNet', options, ['inChannels', 'imageSize', 'numClasses', 'padding']);
    const inChannels = checkInt('LeNet: inChannels', options.inChannels ?? 3);
    const imageSize = checkInt('LeNet: imageSize', options.imageSize ?? 32);
    const numClasses = checkInt('LeNet: numClasses', options.numClasses ?? 10);
    const padding = checkInt('LeNet: padding', options.padding ?? (imageSize === 28 ? 2 : 0), 0);
    // Side after conv1 (5x5), pool, conv2 (5x5), pool.
    const side = Math.floor((Math.floor((imageSize + 2 * padding - 4) / 2) - 4) / 2);
    if (side < 1) throw new RangeError(`LeNet: imageSize ${imageSize} is too small (needs at least ${16 - 2 * padding})`);
    super({
      conv1: new Conv2d({ inChannels, outChannels: 6, kernelSize: 5, padding }),
      relu1: new ReLU(),
      pool1: new MaxPool2d(2),
      conv2: new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }),
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
