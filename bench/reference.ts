// SPDX-License-Identifier: MIT
// The float64 LeNet every bench result is checked against, composed from the test reference loops
// (test/native/reference.ts: conv, max-pool, linear, ReLU, cross-entropy); no loops of its own.
import type { Tensor } from '../lib/tensor/tensor';
import {
  conv2dForward,
  crossEntropy,
  linearForward,
  maxPool2dForward,
  reluForward,
  type ConvShape,
} from '../test/native/reference';

type Arr = ArrayLike<number>;

/** The reference's shape of a valid (no padding), stride-1 k x k convolution of [n, c, h, h] to oc channels. */
export function validConv(n: number, c: number, h: number, oc: number, k: number): ConvShape {
  return { n, c, h, w: h, oc, kh: k, kw: k, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, groups: 1 };
}

function convRelu(x: Arr, n: number, c: number, h: number, w: Arr, b: Arr, oc: number, k: number): Float64Array {
  return reluForward(conv2dForward(x, w, b, validConv(n, c, h, oc, k)));
}

/** 2x2 stride-2 max-pool of [n, c, h, h] (floor). */
function pool2(x: Arr, n: number, c: number, h: number): Float64Array {
  return maxPool2dForward(x, { n, c, h, w: h, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: false }).out;
}

/** Logits [n, 10] of the CIFAR-10 LeNet for images [n, 3, 32, 32], weights by PyTorch name. */
export function lenetRef(wt: Record<string, Tensor>, images: Arr, n: number): Float64Array {
  const d = (name: string) => wt[name].data;
  let a = convRelu(images, n, 3, 32, d('conv1.weight'), d('conv1.bias'), 6, 5);
  a = pool2(a, n, 6, 28);
  a = convRelu(a, n, 6, 14, d('conv2.weight'), d('conv2.bias'), 16, 5);
  a = pool2(a, n, 16, 10);
  a = reluForward(linearForward(a, d('fc1.weight'), d('fc1.bias'), n, 400, 120));
  a = reluForward(linearForward(a, d('fc2.weight'), d('fc2.bias'), n, 120, 84));
  return linearForward(a, d('fc3.weight'), d('fc3.bias'), n, 84, 10);
}

/** Mean cross-entropy of the first n rows of logits [*, k] against class targets, in float64. */
export function crossEntropyRef(logits: Arr, targets: Arr, n: number, k: number): number {
  return crossEntropy(logits, targets, n, k).loss;
}

/** Largest |a[i] - b[i]| over the first n values (Infinity when a value is not finite). */
export function maxAbsDiff(a: Arr, b: Arr, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= m)) m = Number.isNaN(diff) ? Infinity : diff;
  }
  return m;
}
