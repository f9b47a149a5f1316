// SPDX-License-Identifier: MIT
// The per-type layer builders behind buildModelFromSpec(): each type's options, the sizes it infers from the running shape, and its
// constructor call. The list walking, names and nesting are in model-spec.ts.
import { AdaptiveAvgPool2d, type AdaptiveAvgPool2dOptions } from '../modules/adaptive-avg-pool2d';
import { AvgPool2d, type AvgPool2dOptions } from '../modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d, type BatchNormOptions } from '../modules/batch-norm';
import { Conv1d, type Conv1dOptions } from '../modules/conv1d';
import { Conv2d, type Conv2dOptions } from '../modules/conv2d';
import { Dropout, type DropoutOptions } from '../modules/dropout';
import { Flatten, type FlattenOptions } from '../modules/flatten';
import { LeakyReLU, type LeakyReLUOptions } from '../modules/leaky-relu';
import { Linear, type LinearOptions } from '../modules/linear';
import { MaxPool2d, type MaxPool2dOptions } from '../modules/max-pool2d';
import type { Module } from '../modules/module';
import { ReLU } from '../modules/relu';
import { Sigmoid } from '../modules/sigmoid';
import { LogSoftmax, Softmax, type SoftmaxOptions } from '../modules/softmax';
import { Tanh } from '../modules/tanh';
import { Generator } from '../random';
import { formatShape } from '../tensor/shape';

/** Options as the spec gives them (camelCase, checked against LayerType.options before build). */
type Options = Record<string, unknown>;

/** One layer type a spec can name. */
export interface LayerType {
  /** The options the spec may give, in the constructor's order. */
  readonly options: readonly string[];
  /**
   * Builds the layer for input `shape`. Returns it with the options as they are recorded in a normalised
   * spec: the given ones plus the sizes inferred from the shape (inChannels, inFeatures, numFeatures).
   * `where` starts every error message.
   */
  build(
    options: Options,
    shape: readonly number[],
    rng: Generator,
    where: string,
  ): { module: Module; options: Options };
}

const CONV = ['inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'bias'];
const NORM = ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats'];

/** Checks the input rank a layer needs (so an inferred size is read from the right axis); `layout` names the ranks for the message. */
function needRank(
  where: string,
  kind: string,
  shape: readonly number[],
  dims: readonly number[],
  layout: string,
): void {
  if (!dims.includes(shape.length))
    throw new RangeError(`${where}: ${kind} needs a ${layout} input, the shape here is ${formatShape(shape)}`);
}

/** `size` (the inferred value) under `key` first, unless the spec gives it. */
function infer(options: Options, key: string, size: number): Options {
  return key in options ? options : { [key]: size, ...options };
}

/** A layer without options. */
function plain(make: () => Module): LayerType {
  return { options: [], build: (o) => ({ module: make(), options: o }) };
}

/** A convolution of input rank `rank`; inChannels defaults to the running shape's channels. */
function conv(
  type: string,
  rank: number,
  shapeName: string,
  make: (options: Record<string, unknown>) => Module,
): LayerType {
  return {
    options: CONV,
    build(o, shape, rng, where) {
      needRank(where, type, shape, [rank], shapeName);
      const options = infer(o, 'inChannels', shape[1]);
      return { module: make({ ...options, generator: rng }), options };
    },
  };
}

/**
 * Every layer type a spec can use, by its lower-case name. A new one needs a builder here and a
 * line in docs/models.md.
 */
export const LAYER_TYPES: Readonly<Record<string, LayerType>> = Object.freeze({
  conv1d: conv('conv1d', 3, '3-D [N, C, L]', (o) => new Conv1d(o as unknown as Conv1dOptions)),
  conv2d: conv('conv2d', 4, '4-D [N, C, H, W]', (o) => new Conv2d(o as unknown as Conv2dOptions)),
  maxpool2d: {
    options: ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'],
    build: (o) => ({ module: new MaxPool2d(o as unknown as MaxPool2dOptions), options: o }),
  },
  avgpool2d: {
    options: ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'],
    build: (o) => ({ module: new AvgPool2d(o as unknown as AvgPool2dOptions), options: o }),
  },
  adaptiveavgpool2d: {
    options: ['outputSize'],
    build: (o) => ({ module: new AdaptiveAvgPool2d(o as unknown as AdaptiveAvgPool2dOptions), options: o }),
  },
  batchnorm1d: {
    options: NORM,
    build(o, shape, _rng, where) {
      needRank(where, 'batchnorm1d', shape, [2, 3], '2-D [N, C] or 3-D [N, C, L]');
      const options = infer(o, 'numFeatures', shape[1]);
      return { module: new BatchNorm1d(options as unknown as BatchNormOptions), options };
    },
  },
  batchnorm2d: {
    options: NORM,
    build(o, shape, _rng, where) {
      needRank(where, 'batchnorm2d', shape, [4], '4-D [N, C, H, W]');
      const options = infer(o, 'numFeatures', shape[1]);
      return { module: new BatchNorm2d(options as unknown as BatchNormOptions), options };
    },
  },
  relu: plain(() => new ReLU()),
  leakyrelu: {
    options: ['negativeSlope'],
    build: (o) => ({ module: new LeakyReLU(o as LeakyReLUOptions), options: o }),
  },
  sigmoid: plain(() => new Sigmoid()),
  tanh: plain(() => new Tanh()),
  softmax: {
    options: ['dim'],
    build: (o) => ({ module: new Softmax(o as unknown as SoftmaxOptions), options: o }),
  },
  logsoftmax: {
    options: ['dim'],
    build: (o) => ({ module: new LogSoftmax(o as unknown as SoftmaxOptions), options: o }),
  },
  dropout: {
    options: ['p'],
    // Its masks get their own stream from the spec's generator, so building never touches the global one.
    build: (o, _shape, rng) => ({
      module: new Dropout({ ...(o as DropoutOptions), generator: new Generator(Math.floor(rng.random() * 2 ** 53)) }),
      options: o,
    }),
  },
  flatten: {
    options: ['startDim', 'endDim'],
    build: (o) => ({ module: new Flatten(o as FlattenOptions), options: o }),
  },
  linear: {
    options: ['inFeatures', 'outFeatures', 'bias'],
    build(o, shape, rng, where) {
      needRank(where, 'linear', shape, [2], '2-D [N, features] (put a flatten before it)');
      const options = infer(o, 'inFeatures', shape[1]);
      return { module: new Linear({ ...options, generator: rng } as unknown as LinearOptions), options };
    },
  },
});
