// SPDX-License-Identifier: MIT
// Models the ONNX export and import tests share.
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv1d } from '../../lib/modules/conv1d';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { LeakyReLU } from '../../lib/modules/leaky-relu';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Sigmoid } from '../../lib/modules/sigmoid';
import { LogSoftmax, Softmax } from '../../lib/modules/softmax';
import { Tanh } from '../../lib/modules/tanh';

/** Every layer the exporter supports, with non-default options, including a nested Sequential. Input [N, 4, 11, 13]. */
export function everyLayer(): Sequential {
  return new Sequential({
    conv: new Conv2d({
      inChannels: 4,
      outChannels: 8,
      kernelSize: [3, 2],
      stride: [1, 2],
      padding: [2, 1],
      dilation: [2, 1],
      groups: 2,
    }),
    bn: new BatchNorm2d({ numFeatures: 8, eps: 1e-3 }),
    relu: new ReLU(),
    pool: new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
    block: new Sequential(
      new Conv2d({ inChannels: 8, outChannels: 6, kernelSize: 1, bias: false }),
      new BatchNorm2d({ numFeatures: 6, affine: false }),
      new AvgPool2d({ kernelSize: 2, stride: 1, padding: 1, countIncludePad: false }),
      new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: true }),
      new AvgPool2d({ kernelSize: 2, stride: 2, ceilMode: true }),
    ),
    drop: new Dropout({ p: 0.3 }),
    flat: new Flatten(),
    fc1: new Linear({ inFeatures: 6 * 2 * 2, outFeatures: 16 }),
    bn1d: new BatchNorm1d({ numFeatures: 16 }),
    relu2: new ReLU(),
    fc2: new Linear({ inFeatures: 16, outFeatures: 5, bias: false }),
  });
}

/**
 * The activations and adaptive pools of custom models: LeakyReLU, Softmax over the channels of [N, C, H, W], Tanh, Sigmoid,
 * AdaptiveAvgPool2d to a size dividing the input ([4, 5] of 12x10: AveragePool 3x2; [null, 1]: AveragePool 1x5) and to 1x1
 * (GlobalAveragePool), LogSoftmax with a negative dim. Input [N, 3, 12, 10], output [N, 5].
 */
export function activations(): Sequential {
  return new Sequential({
    conv: new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1 }),
    lrelu: new LeakyReLU({ negativeSlope: 0.2 }),
    pool: new AdaptiveAvgPool2d([4, 5]),
    soft: new Softmax({ dim: 1 }),
    tanh: new Tanh(),
    rows: new AdaptiveAvgPool2d({ outputSize: [null, 1] }),
    sig: new Sigmoid(),
    gap: new AdaptiveAvgPool2d(1),
    flat: new Flatten(),
    fc: new Linear({ inFeatures: 6, outFeatures: 5 }),
    logp: new LogSoftmax({ dim: -1 }),
  });
}

/**
 * A 1-d model: Conv1d with stride, padding, dilation and groups, BatchNorm1d over [N, C, L] and over [N, C], a bias-free
 * kernel-1 Conv1d, LeakyReLU (default slope), Softmax over the channels (dim -2), Softmax of the logits. Input [N, 4, 20],
 * output [N, 4].
 */
export function conv1dModel(): Sequential {
  return new Sequential({
    conv1: new Conv1d({ inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 2, dilation: 2, groups: 2 }),
    bn1: new BatchNorm1d({ numFeatures: 6 }),
    act: new LeakyReLU(),
    conv2: new Conv1d({ inChannels: 6, outChannels: 3, kernelSize: 1, bias: false }),
    soft: new Softmax({ dim: -2 }),
    tanh: new Tanh(),
    flat: new Flatten(),
    fc: new Linear({ inFeatures: 30, outFeatures: 4 }),
    bn2: new BatchNorm1d({ numFeatures: 4, eps: 1e-3 }),
    probs: new Softmax({ dim: 1 }),
  });
}
