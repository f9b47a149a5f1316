// SPDX-License-Identifier: MIT
// Models the ONNX export and import tests share.
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';

/** Every layer the exporter supports, with non-default options, including a nested Sequential. Input [N, 4, 11, 13]. */
export function everyLayer(): Sequential {
  return new Sequential({
    conv: new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: [3, 2], stride: [1, 2], padding: [2, 1], dilation: [2, 1], groups: 2 }),
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
