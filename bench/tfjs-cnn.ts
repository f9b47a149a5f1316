// SPDX-License-Identifier: MIT
// ResNet-20 and the VGG-style net in tfjs-core ops (NHWC), inference only, with simdnet's weights: conv weights
// OIHW -> HWIO, BatchNorm with its running statistics (eps 1e-5), PyTorch's padding (explicit, so stride 2 pads both
// sides as PyTorch does, unlike 'same'), and the VGG classifier's rows reordered from the CHW flatten to HWC.
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '../lib/tensor/tensor';
import { transpose } from './tfjs';

/** A layer of a Sequential model file (bench/vgg_cifar.json): only the fields this net uses. */
export interface SpecLayer {
  type: string;
  outChannels?: number;
  kernelSize?: number;
  stride?: number;
  padding?: number;
}

const EPS = 1e-5;

export class TfCnn {
  private readonly vars: tf.Tensor[] = [];
  private readonly forwardFn: (x: tf.Tensor4D) => tf.Tensor2D;

  /** `spec`: the VGG-style net's layers (its weights are named by layer index); undefined for ResNet-20. */
  constructor(
    private readonly w: Record<string, Tensor>,
    spec: SpecLayer[] | undefined,
  ) {
    this.forwardFn = spec ? (x) => this.sequential(x, spec) : (x) => this.resnet(x);
  }

  private keep<T extends tf.Tensor>(t: T): T {
    this.vars.push(t);
    return t;
  }

  private readonly cache = new Map<string, tf.Tensor>();

  private param(name: string, make: () => tf.Tensor): tf.Tensor {
    let t = this.cache.get(name);
    if (!t) {
      t = tf.keep(tf.tidy(make)); // kept: the first call runs inside infer()'s tidy
      this.cache.set(name, this.keep(t));
    }
    return t;
  }

  private conv(x: tf.Tensor4D, name: string, stride: number, pad: number, bias: boolean): tf.Tensor4D {
    const w = this.param(`${name}.weight`, () => {
      const s = this.w[`${name}.weight`].shape as number[];
      return tf.tensor4d(transpose(this.w[`${name}.weight`].data, s, [2, 3, 1, 0]), [s[2], s[3], s[1], s[0]]);
    }) as tf.Tensor4D;
    const y = tf.conv2d(x, w, stride, pad);
    return bias
      ? tf.add(
          y,
          this.param(`${name}.bias`, () => tf.tensor1d(this.w[`${name}.bias`].data)),
        )
      : y;
  }

  private bn(x: tf.Tensor4D, name: string): tf.Tensor4D {
    const p = (k: string) => this.param(`${name}.${k}`, () => tf.tensor1d(this.w[`${name}.${k}`].data)) as tf.Tensor1D;
    return tf.batchNorm(x, p('running_mean'), p('running_var'), p('bias'), p('weight'), EPS);
  }

  private dense(h: tf.Tensor2D, name: string, hwc?: [number, number, number]): tf.Tensor2D {
    const w = this.param(`${name}.weight`, () => {
      const [out, inF] = this.w[`${name}.weight`].shape as number[];
      const data = this.w[`${name}.weight`].data;
      // [out, C, H, W] -> [H, W, C, out] when the input was flattened from NHWC; else [out, in] -> [in, out].
      const t = hwc ? transpose(data, [out, ...hwc], [2, 3, 1, 0]) : transpose(data, [out, inF], [1, 0]);
      return tf.tensor2d(t, [inF, out]);
    }) as tf.Tensor2D;
    return tf.add(
      tf.matMul(h, w),
      this.param(`${name}.bias`, () => tf.tensor1d(this.w[`${name}.bias`].data)),
    );
  }

  /** The Sequential model file's layers, by index. */
  private sequential(x: tf.Tensor4D, spec: SpecLayer[]): tf.Tensor2D {
    let a: tf.Tensor = x;
    let chw: [number, number, number] | undefined;
    spec.forEach((l, i) => {
      const t4 = a as tf.Tensor4D;
      if (l.type === 'conv2d') a = this.conv(t4, String(i), l.stride ?? 1, l.padding ?? 0, true);
      else if (l.type === 'batchnorm2d') a = this.bn(t4, String(i));
      else if (l.type === 'relu') a = tf.relu(a);
      else if (l.type === 'maxpool2d') a = tf.maxPool(t4, l.kernelSize ?? 2, l.stride ?? l.kernelSize ?? 2, 'valid');
      else if (l.type === 'flatten') {
        chw = [t4.shape[3], t4.shape[1], t4.shape[2]];
        a = tf.reshape(a, [t4.shape[0], -1]);
      } else if (l.type === 'linear') a = this.dense(a as tf.Tensor2D, String(i), chw);
      else throw new Error(`tfjs-cnn: layer type ${l.type} is not built here`);
    });
    return a as tf.Tensor2D;
  }

  /** CIFAR ResNet-20 with shortcut A (lib/models/resnet.ts, test/fixtures/graph/resnet_cifar.py). */
  private resnet(x: tf.Tensor4D): tf.Tensor2D {
    let a = tf.relu(this.bn(this.conv(x, 'conv', 1, 1, false), 'bn'));
    let block = 0;
    let cin = 16;
    for (const [stage, cout] of [16, 32, 64].entries()) {
      for (let i = 0; i < 3; i++, block++) {
        const stride = i === 0 && stage > 0 ? 2 : 1;
        const p = `layers.${block}`;
        const y = this.bn(
          this.conv(
            tf.relu(this.bn(this.conv(a, `${p}.conv1`, stride, 1, false), `${p}.bn1`)),
            `${p}.conv2`,
            1,
            1,
            false,
          ),
          `${p}.bn2`,
        );
        let shortcut: tf.Tensor4D = a;
        if (cin !== cout) {
          const [n, h, w, c] = a.shape;
          const half = tf.stridedSlice(a, [0, 0, 0, 0], [n, h, w, c], [1, 2, 2, 1]) as tf.Tensor4D;
          const pad = cout - cin;
          shortcut = tf.pad(half, [
            [0, 0],
            [0, 0],
            [0, 0],
            [pad >> 1, pad - (pad >> 1)],
          ]);
        }
        a = tf.relu(tf.add(y, shortcut)) as tf.Tensor4D;
        cin = cout;
      }
    }
    return this.dense(tf.mean(a, [1, 2]) as tf.Tensor2D, 'fc');
  }

  /** One synchronous inference: logits as a Float32Array. */
  infer(x: tf.Tensor4D): Float32Array {
    const y = tf.tidy(() => this.forwardFn(x));
    const out = y.dataSync() as Float32Array;
    y.dispose();
    return out;
  }

  dispose(): void {
    this.vars.forEach((t) => t.dispose());
    this.cache.clear();
  }
}
