// SPDX-License-Identifier: MIT
// The per-type layer builders behind buildModelFromSpec(): each type's options, the sizes it infers from the running shape, the
// weights it allocates (counted before building) and its constructor call. The list walking, names and nesting are in model-spec.ts.
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
   * The options as a normalised spec records them: the given ones plus the sizes inferred from input `shape`
   * (inChannels, inFeatures, numFeatures), after checking the input rank. `where` starts every error message.
   */
  normalise(options: Options, shape: readonly number[], where: string): Options;
  /**
   * Parameter and buffer values the layer allocates for these (normalised) options, counted without building it
   * (so a hostile spec is refused before anything is allocated); NaN when an option is not a number (the
   * constructor then says what is wrong).
   */
  stateValues(options: Options): number;
  /** Builds the layer from normalised options. */
  build(options: Options, rng: Generator): Module;
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

/** An option as a count: the number, `fallback` when absent, NaN for anything else. */
function num(value: unknown, fallback: number): number {
  return value === undefined ? fallback : typeof value === 'number' ? value : NaN;
}

/** A layer without weights whose options are recorded as given. */
function stateless(options: readonly string[], make: (options: Options, rng: Generator) => Module): LayerType {
  return { options, normalise: (o) => o, stateValues: () => 0, build: make };
}

/** A layer without options. */
function plain(make: () => Module): LayerType {
  return stateless([], () => make());
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
    normalise(o, shape, where) {
      needRank(where, type, shape, [rank], shapeName);
      return infer(o, 'inChannels', shape[1]);
    },
    stateValues(o) {
      const k = o.kernelSize;
      const kernel = Array.isArray(k) ? k.reduce((a: number, b) => a * num(b, NaN), 1) : num(k, NaN) ** (rank - 2);
      const out = num(o.outChannels, NaN);
      return out * (num(o.inChannels, NaN) / num(o.groups, 1)) * kernel + (o.bias === false ? 0 : out);
    },
    build: (o, rng) => make({ ...o, generator: rng }),
  };
}

/** BatchNorm1d/2d: numFeatures defaults to the running shape's channels. */
function batchNorm(type: string, dims: number[], layout: string, make: (o: BatchNormOptions) => Module): LayerType {
  return {
    options: NORM,
    normalise(o, shape, where) {
      needRank(where, type, shape, dims, layout);
      return infer(o, 'numFeatures', shape[1]);
    },
    stateValues(o) {
      const n = num(o.numFeatures, NaN);
      return (o.affine === false ? 0 : 2 * n) + (o.trackRunningStats === false ? 0 : 2 * n + 1);
    },
    build: (o) => make(o as unknown as BatchNormOptions),
  };
}

/**
 * Every layer type a spec can use, by its lower-case name. A new one needs an entry here and a
 * line in docs/models.md.
 */
export const LAYER_TYPES: Readonly<Record<string, LayerType>> = Object.freeze({
  conv1d: conv('conv1d', 3, '3-D [N, C, L]', (o) => new Conv1d(o as unknown as Conv1dOptions)),
  conv2d: conv('conv2d', 4, '4-D [N, C, H, W]', (o) => new Conv2d(o as unknown as Conv2dOptions)),
  maxpool2d: stateless(
    ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'],
    (o) => new MaxPool2d(o as unknown as MaxPool2dOptions),
  ),
  avgpool2d: stateless(
    ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'],
    (o) => new AvgPool2d(o as unknown as AvgPool2dOptions),
  ),
  adaptiveavgpool2d: stateless(['outputSize'], (o) => new AdaptiveAvgPool2d(o as unknown as AdaptiveAvgPool2dOptions)),
  batchnorm1d: batchNorm('batchnorm1d', [2, 3], '2-D [N, C] or 3-D [N, C, L]', (o) => new BatchNorm1d(o)),
  batchnorm2d: batchNorm('batchnorm2d', [4], '4-D [N, C, H, W]', (o) => new BatchNorm2d(o)),
  relu: plain(() => new ReLU()),
  leakyrelu: stateless(['negativeSlope'], (o) => new LeakyReLU(o as LeakyReLUOptions)),
  sigmoid: plain(() => new Sigmoid()),
  tanh: plain(() => new Tanh()),
  softmax: stateless(['dim'], (o) => new Softmax(o as unknown as SoftmaxOptions)),
  logsoftmax: stateless(['dim'], (o) => new LogSoftmax(o as unknown as SoftmaxOptions)),
  // Its masks get their own stream from the spec's generator, so building never touches the global one.
  dropout: stateless(
    ['p'],
    (o, rng) => new Dropout({ ...(o as DropoutOptions), generator: new Generator(Math.floor(rng.random() * 2 ** 53)) }),
  ),
  flatten: stateless(['startDim', 'endDim'], (o) => new Flatten(o as FlattenOptions)),
  linear: {
    options: ['inFeatures', 'outFeatures', 'bias'],
    normalise(o, shape, where) {
      needRank(where, 'linear', shape, [2], '2-D [N, features] (put a flatten before it)');
      return infer(o, 'inFeatures', shape[1]);
    },
    stateValues(o) {
      const out = num(o.outFeatures, NaN);
      return num(o.inFeatures, NaN) * out + (o.bias === false ? 0 : out);
    },
    build: (o, rng) => new Linear({ ...o, generator: rng } as unknown as LinearOptions),
  },
});
