// SPDX-License-Identifier: MIT
// LeNet in tfjs-core ops (NHWC, the layout tfjs's cpu and wasm kernels use), loaded with simdnet's PyTorch weights.
// The union package, not tfjs-core alone: only its bundle registers the gradient functions training needs.
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { Tensor } from '../lib/tensor/tensor';

export type TfBackend = 'cpu' | 'wasm';

/** Switches backend; wasm runs on one thread (the reference setup). Returns a description. */
export async function useBackend(name: TfBackend): Promise<string> {
  tf.enableProdMode(); // no debug checks, and no "install tfjs-node" banner
  if (name === 'wasm') setThreadsCount(1);
  if (!(await tf.setBackend(name))) throw new Error(`tfjs: backend ${name} failed to initialise`);
  await tf.ready();
  if (name === 'cpu') return `tfjs ${tf.version_core} cpu (pure JS)`;
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  return `tfjs ${tf.version_core} wasm (${simd}, 1 thread)`;
}

/** Reorders `src` of shape `shape` by axis permutation `perm` (like numpy.transpose). */
export function transpose(src: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(src.length);
  const outShape = perm.map((p) => shape[p]);
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let s = 0;
    for (let d = 0; d < perm.length; d++) s += idx[d] * stride[perm[d]];
    out[o] = src[s];
    for (let d = perm.length - 1; d >= 0 && ++idx[d] === outShape[d]; d--) idx[d] = 0;
  }
  return out;
}

/** NCHW images -> NHWC tensor. */
export function toNhwc(images: Float32Array, n: number): tf.Tensor4D {
  return tf.tensor4d(transpose(images.subarray(0, n * 3072), [n, 3, 32, 32], [0, 2, 3, 1]), [n, 32, 32, 3]);
}

/**
 * The CIFAR-10 LeNet with the same weights as simdnet's: conv weights go OIHW -> HWIO, linear weights
 * [out, in] -> [in, out], and fc1's rows are reordered from PyTorch's CHW flatten to NHWC's HWC flatten.
 */
export class TfLeNet {
  readonly vars: tf.Variable[];
  private readonly v: Record<string, tf.Variable>;

  constructor(w: Record<string, Tensor>) {
    const conv = (name: string) => {
      const s = w[name].shape as number[];
      return tf.tensor4d(transpose(w[name].data, s, [2, 3, 1, 0]), [s[2], s[3], s[1], s[0]]);
    };
    const dense = (name: string, shape: number[], perm: number[]) =>
      tf.tensor2d(transpose(w[name].data, shape, perm), [shape.slice(1).reduce((a, b) => a * b, 1), shape[0]]);
    const init: Record<string, tf.Tensor> = {
      c1w: conv('conv1.weight'),
      c1b: tf.tensor1d(w['conv1.bias'].data),
      c2w: conv('conv2.weight'),
      c2b: tf.tensor1d(w['conv2.bias'].data),
      f1w: dense('fc1.weight', [120, 16, 5, 5], [2, 3, 1, 0]),
      f1b: tf.tensor1d(w['fc1.bias'].data), // [o,c,h,w] -> [h,w,c,o]
      f2w: dense('fc2.weight', [84, 120], [1, 0]),
      f2b: tf.tensor1d(w['fc2.bias'].data),
      f3w: dense('fc3.weight', [10, 84], [1, 0]),
      f3b: tf.tensor1d(w['fc3.bias'].data),
    };
    this.v = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, tf.variable(t, true, k)]));
    Object.values(init).forEach((t) => t.dispose());
    this.vars = Object.values(this.v);
  }

  /** Logits [n, 10] for NHWC input [n, 32, 32, 3]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const v = this.v;
    const block = (a: tf.Tensor4D, w: tf.Variable, b: tf.Variable): tf.Tensor4D =>
      tf.maxPool(
        tf.relu(tf.add(tf.conv2d(a, w as tf.Tensor4D, 1, 'valid'), b) as tf.Tensor4D),
        2,
        2,
        'valid',
      ) as tf.Tensor4D;
    const fc = (h: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D =>
      tf.add(tf.matMul(h, w as tf.Tensor2D), b);
    const a = block(block(x, v.c1w, v.c1b), v.c2w, v.c2b);
    const h = tf.relu(fc(tf.relu(fc(tf.reshape(a, [a.shape[0], 400]), v.f1w, v.f1b)), v.f2w, v.f2b));
    return fc(h, v.f3w, v.f3b);
  }

  /** One synchronous inference: logits as a Float32Array. */
  infer(x: tf.Tensor4D): Float32Array {
    const y = tf.tidy(() => this.forward(x));
    const out = y.dataSync() as Float32Array;
    y.dispose();
    return out;
  }

  /** A training step function: Adam(lr 1e-3, eps 1e-8), softmax cross-entropy (mean); returns the loss before the step. */
  trainer(x: tf.Tensor4D, targets: Int32Array): { step: () => number; dispose: () => void } {
    const labels = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), 10), 'float32'));
    const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    const step = () => {
      const loss = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, this.forward(x)) as tf.Scalar,
        true,
        this.vars,
      );
      const value = loss!.dataSync()[0];
      loss!.dispose();
      return value;
    };
    return {
      step,
      dispose: () => {
        labels.dispose();
        opt.dispose();
      },
    };
  }

  dispose(): void {
    this.vars.forEach((t) => t.dispose());
  }
}
