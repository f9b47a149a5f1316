// SPDX-License-Identifier: MIT
// Float64 JavaScript LeNet forward (conv, max-pool, linear): the independent reference every result is checked against.
import type { Tensor } from '../lib/tensor/tensor';

type Arr = ArrayLike<number>;

/** Valid (no padding), stride-1 convolution. x [n, c, h, w], w [oc, c, k, k], b [oc] -> [n, oc, h-k+1, w-k+1]. */
export function conv2dRef(
  x: Arr,
  n: number,
  c: number,
  h: number,
  wd: number,
  w: Arr,
  b: Arr,
  oc: number,
  k: number,
): Float64Array {
  const oh = h - k + 1;
  const ow = wd - k + 1;
  const out = new Float64Array(n * oc * oh * ow);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < oc; o++) {
      const plane = (i * oc + o) * oh * ow;
      out.fill(b[o], plane, plane + oh * ow);
      for (let ci = 0; ci < c; ci++) {
        const xin = (i * c + ci) * h * wd;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const wv = w[((o * c + ci) * k + ky) * k + kx];
            for (let y = 0; y < oh; y++) {
              const src = xin + (y + ky) * wd + kx;
              const dst = plane + y * ow;
              for (let xx = 0; xx < ow; xx++) out[dst + xx] += wv * x[src + xx];
            }
          }
        }
      }
    }
  }
  return out;
}

/** y = x W^T + b. x [n, inF], w [outF, inF] -> [n, outF]. */
export function linearRef(x: Arr, n: number, inF: number, w: Arr, b: Arr, outF: number): Float64Array {
  const out = new Float64Array(n * outF);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let j = 0; j < inF; j++) s += x[i * inF + j] * w[o * inF + j];
      out[i * outF + o] = s;
    }
  }
  return out;
}

function reluInPlace(a: Float64Array): Float64Array {
  for (let i = 0; i < a.length; i++) if (a[i] < 0) a[i] = 0;
  return a;
}

/** 2x2 stride-2 max-pool. x [planes, h, w] -> [planes, h/2, w/2] (floor). */
function maxPool2Ref(x: Float64Array, planes: number, h: number, w: number): Float64Array {
  const oh = h >> 1;
  const ow = w >> 1;
  const out = new Float64Array(planes * oh * ow);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        const s = p * h * w + 2 * y * w + 2 * xx;
        out[(p * oh + y) * ow + xx] = Math.max(x[s], x[s + 1], x[s + w], x[s + w + 1]);
      }
    }
  }
  return out;
}

/** Logits [n, 10] of the CIFAR-10 LeNet for images [n, 3, 32, 32], weights by PyTorch name. */
export function lenetRef(wt: Record<string, Tensor>, images: Arr, n: number): Float64Array {
  const d = (name: string) => wt[name].data;
  let a = reluInPlace(conv2dRef(images, n, 3, 32, 32, d('conv1.weight'), d('conv1.bias'), 6, 5));
  a = maxPool2Ref(a, n * 6, 28, 28);
  a = reluInPlace(conv2dRef(a, n, 6, 14, 14, d('conv2.weight'), d('conv2.bias'), 16, 5));
  a = maxPool2Ref(a, n * 16, 10, 10);
  a = reluInPlace(linearRef(a, n, 400, d('fc1.weight'), d('fc1.bias'), 120));
  a = reluInPlace(linearRef(a, n, 120, d('fc2.weight'), d('fc2.bias'), 84));
  return linearRef(a, n, 84, d('fc3.weight'), d('fc3.bias'), 10);
}

/** Mean cross-entropy of logits [n, k] (first n rows) against class targets, in float64. */
export function crossEntropyRef(logits: Arr, targets: Arr, n: number, k: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[i * k + j]);
    let z = 0;
    for (let j = 0; j < k; j++) z += Math.exp(logits[i * k + j] - max);
    sum += Math.log(z) + max - logits[i * k + targets[i]];
  }
  return sum / n;
}

/** Largest |a[i] - b[i]| over the first n values (Infinity when a value is not finite). */
export function maxAbsDiff(a: Arr, b: Arr, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
