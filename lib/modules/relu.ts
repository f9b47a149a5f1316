// SPDX-License-Identifier: MIT
// ReLU activation (element-wise max(x, 0)), any shape.
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { Module, requireSaved } from './module';

/** max(x, 0) element-wise, as torch.nn.ReLU. Shape: any -> same. */
export class ReLU extends Module {
  private savedOutput: Tensor | null = null;

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  forward(input: Tensor): Tensor {
    const out = Tensor.zeros(input.shape);
    if (out.size > 0) native.reluForward(out.data, input.data);
    this.savedOutput = this.training ? out : null;
    return out;
  }

  backward(doutput: Tensor): Tensor {
    const out = requireSaved(this.savedOutput, 'ReLU');
    expectShape('ReLU.backward: doutput', doutput.shape, out.shape);
    const dinput = Tensor.zeros(out.shape);
    if (out.size > 0) native.reluBackward(dinput.data, doutput.data, out.data);
    return dinput;
  }
}
