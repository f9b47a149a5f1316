// SPDX-License-Identifier: MIT
// LeNet: the small CNN of PyTorch's CIFAR-10 tutorial (and LeNet-5 for 28x28 digits), with PyTorch's parameter names.
import { checkInt, checkOptions } from '../check';
import { BatchNorm2d } from './batch-norm';
import { Conv2d } from './conv2d';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool2d';
import type { Module } from './module';
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
    const { config, layers } = lenetLayers('LeNet', options, false);
    super(layers);
    this.config = config;
  }

  override extraRepr(): string {
    const c = this.config;
    return `inChannels=${c.inChannels}, imageSize=${c.imageSize}, numClasses=${c.numClasses}`;
  }
}

/**
 * Validates LeNet options and builds the layers in order, with a BatchNorm2d after each
 * convolution when `batchNorm` (LeNetBN). Shared by LeNet and LeNetBN; `name` prefixes errors.
 */
export function lenetLayers(
  name: string,
  options: LeNetOptions,
  batchNorm: boolean,
): { config: LeNetConfig; layers: Record<string, Module> } {
  const o = checkOptions(name, options, ['inChannels', 'imageSize', 'numClasses', 'padding']);
  const inChannels = checkInt(`${name}: inChannels`, o.inChannels ?? 3);
  const imageSize = checkInt(`${name}: imageSize`, o.imageSize ?? 32);
  const numClasses = checkInt(`${name}: numClasses`, o.numClasses ?? 10);
  const padding = checkInt(`${name}: padding`, o.padding ?? (imageSize === 28 ? 2 : 0), 0);
  // Side after conv1 (5x5), pool, conv2 (5x5), pool.
  const side = Math.floor((Math.floor((imageSize + 2 * padding - 4) / 2) - 4) / 2);
  if (side < 1)
    throw new RangeError(`${name}: imageSize ${imageSize} is too small (needs at least ${16 - 2 * padding})`);
  const norm = (key: string, numFeatures: number): Record<string, Module> =>
    batchNorm ? { [key]: new BatchNorm2d({ numFeatures }) } : {};
  const layers: Record<string, Module> = {
    conv1: new Conv2d({ inChannels, outChannels: 6, kernelSize: 5, padding }),
    ...norm('bn1', 6),
    relu1: new ReLU(),
    pool1: new MaxPool2d(2),
    conv2: new Conv2d({ inChannels: 6, outChannels: 16, kernelSize: 5 }),
    ...norm('bn2', 16),
    relu2: new ReLU(),
    pool2: new MaxPool2d(2),
    flatten: new Flatten(),
    fc1: new Linear({ inFeatures: 16 * side * side, outFeatures: 120 }),
    relu3: new ReLU(),
    fc2: new Linear({ inFeatures: 120, outFeatures: 84 }),
    relu4: new ReLU(),
    fc3: new Linear({ inFeatures: 84, outFeatures: numClasses }),
  };
  return { config: { inChannels, imageSize, numClasses, padding }, layers };
}
