// SPDX-License-Identifier: MIT
// LeNetBN: LeNet with a BatchNorm2d after each convolution, with PyTorch's parameter and buffer names.
import { lenetLayers, type LeNetConfig, type LeNetOptions } from './lenet';
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
    const { config, layers } = lenetLayers('LeNetBN', options, true);
    super(layers);
    this.config = config;
  }

  override extraRepr(): string {
    const c = this.config;
    return `inChannels=${c.inChannels}, imageSize=${c.imageSize}, numClasses=${c.numClasses}`;
  }
}
