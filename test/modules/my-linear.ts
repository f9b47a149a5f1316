// SPDX-License-Identifier: MIT
// The custom layer of docs/custom-layers.md, verbatim (test/modules/custom-layer.test.ts checks they match).
import { defaultGenerator, Module, Parameter, Tensor } from '../../lib';

/** y = x W^T + b over [N, inFeatures] input: torch.nn.Linear written as a user layer. */
export class MyLinear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  private input: Tensor | null = null; // what backward() needs from forward()

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super();
    this.weight = this.registerParameter('weight', new Parameter(Tensor.zeros([outFeatures, inFeatures])));
    this.bias = this.registerParameter('bias', new Parameter(Tensor.zeros([outFeatures])));
    // PyTorch's default initialisation: U(-1/sqrt(inFeatures), 1/sqrt(inFeatures)).
    const bound = 1 / Math.sqrt(inFeatures);
    for (const p of [this.weight, this.bias]) {
      for (let i = 0; i < p.data.size; i++) p.data.data[i] = defaultGenerator.uniform(-bound, bound);
    }
  }

  override outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 2 || inputShape[1] !== this.inFeatures) {
      throw new RangeError(`MyLinear: expected input [N, ${this.inFeatures}], got [${inputShape.join(', ')}]`);
    }
    return [inputShape[0], this.outFeatures];
  }

  override forward(x: Tensor): Tensor {
    const [n, out] = this.outputShape(x.shape);
    const k = this.inFeatures;
    const [w, b] = [this.weight.data.data, this.bias.data.data];
    const y = Tensor.zeros([n, out]);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < out; o++) {
        let sum = b[o];
        for (let j = 0; j < k; j++) sum += x.data[i * k + j] * w[o * k + j];
        y.data[i * out + o] = sum;
      }
    }
    if (this.training) this.input = x; // keep x for backward (predict() runs in eval mode)
    return y;
  }

  override backward(dy: Tensor): Tensor {
    const x = this.input;
    if (x === null) throw new Error('MyLinear.backward: call forward() in training mode first');
    const [n, k, out] = [x.shape[0], this.inFeatures, this.outFeatures];
    const [w, dw, db] = [this.weight.data.data, this.weight.grad.data, this.bias.grad.data];
    const dx = Tensor.zeros(x.shape);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < out; o++) {
        const g = dy.data[i * out + o];
        db[o] += g; // parameter gradients accumulate (+=) until zeroGrad()
        for (let j = 0; j < k; j++) {
          dw[o * k + j] += g * x.data[i * k + j];
          dx.data[i * k + j] += g * w[o * k + j];
        }
      }
    }
    return dx;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}`;
  }
}
