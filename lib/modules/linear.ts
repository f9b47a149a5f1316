// SPDX-License-Identifier: MIT
// Linear: fully connected layer y = x W^T + b over [N, inFeatures] input.
import { checkBool, checkInstance, checkInt, checkOptions } from '../check';
import { native } from '../native';
import { defaultGenerator, Generator } from '../random';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { uniformFanIn } from './init';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { Parameter } from './parameter';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
  generator?: Generator;
}

/**
 * Applies y = x W^T + b, as torch.nn.Linear.
 *
 * Shape: [N, inFeatures] -> [N, outFeatures]. Parameters: `weight` [outFeatures, inFeatures], `bias` [outFeatures].
 *
 * @example
 * const fc = new Linear({ inFeatures: 400, outFeatures: 120 });
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  private savedInput: Tensor | null = null;

  constructor(options: LinearOptions) {
    super();
    const o = checkOptions('Linear', options, ['inFeatures', 'outFeatures', 'bias', 'generator']);
    this.inFeatures = checkInt('Linear: inFeatures', o.inFeatures);
    this.outFeatures = checkInt('Linear: outFeatures', o.outFeatures);
    const bias = checkBool('Linear: bias', o.bias ?? true);
    const rng = checkInstance('Linear: generator', o.generator ?? defaultGenerator, Generator);
    this.weight = this.registerParameter('weight', new Parameter(Tensor.zeros([this.outFeatures, this.inFeatures])));
    this.bias = bias ? this.registerParameter('bias', new Parameter(Tensor.zeros([this.outFeatures]))) : null;
    this.resetParameters(rng);
  }

  resetParameters(rng: Generator = defaultGenerator): void {
    uniformFanIn(this.weight.data, this.inFeatures, rng);
    if (this.bias) uniformFanIn(this.bias.data, this.inFeatures, rng);
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('Linear: input', inputShape, [-1, this.inFeatures]);
    return [inputShape[0], this.outFeatures];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const out = this.scratch('out', this.outputShape(input.shape), ctx.reuse);
    native.linearForward(
      out.data,
      input.data,
      this.weight.data.data,
      this.bias?.data.data ?? null,
      input.shape[0],
      this.inFeatures,
      this.outFeatures,
    );
    if (ctx.keepState !== false) this.savedInput = input;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const input = requireSaved(this.savedInput, 'Linear');
    expectShape('Linear.backward: doutput', doutput.shape, [input.shape[0], this.outFeatures]);
    const dinput = ctx.inputGrad ? this.scratch('dinput', input.shape, ctx.reuse, true) : null;
    native.linearBackward(
      dinput?.data ?? null,
      this.weight.grad.data,
      this.bias?.grad.data ?? null,
      doutput.data,
      input.data,
      this.weight.data.data,
      input.shape[0],
      this.inFeatures,
      this.outFeatures,
    );
    return dinput;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}${this.bias ? '' : ', bias=false'}`;
  }
}
