// SPDX-License-Identifier: MIT
// What Conv1d, Conv2d and ConvTranspose2d share: PyTorch's groups rule, a weight and optional bias, and their
// default initialisation (each layer says only its weight shape and fan-in).
import { defaultGenerator, Generator } from '../random';
import { Tensor } from '../tensor/tensor';
import { uniformFanIn } from './init';
import { Module } from './module';
import { Parameter } from './parameter';

/** Throws a RangeError unless `groups` divides both channel counts, as PyTorch requires of every convolution. */
export function checkGroups(layer: string, inChannels: number, outChannels: number, groups: number): void {
  if (inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new RangeError(
      `${layer}: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`,
    );
  }
}

export abstract class ConvBase extends Module {
  abstract readonly weight: Parameter;
  abstract readonly bias: Parameter | null;

  /** The fan-in of PyTorch's default initialisation (the weight's size per output channel). */
  protected abstract fanIn(): number;

  /** PyTorch's default initialisation: weight and bias from U(+-1/sqrt(fanIn)). */
  resetParameters(rng: Generator = defaultGenerator): void {
    const fanIn = this.fanIn();
    uniformFanIn(this.weight.data, fanIn, rng);
    if (this.bias) uniformFanIn(this.bias.data, fanIn, rng);
  }

  /** Registers `weight` (zeros of `shape`) and, when `bias`, `bias` [outChannels]; resetParameters fills them. */
  protected registerConvParameters(
    shape: readonly number[],
    outChannels: number,
    bias: boolean,
  ): [Parameter, Parameter | null] {
    const weight = this.registerParameter('weight', new Parameter(Tensor.zeros(shape)));
    return [weight, bias ? this.registerParameter('bias', new Parameter(Tensor.zeros([outChannels]))) : null];
  }
}
