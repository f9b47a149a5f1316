// SPDX-License-Identifier: MIT
// PyTorch's default parameter initialisation, drawn from a seeded Generator.
import { defaultGenerator, Generator } from '../random';
import { Tensor } from '../tensor/tensor';

/**
 * Fills `t` from U(-1/sqrt(fanIn), 1/sqrt(fanIn)). This is both PyTorch's
 * kaiming_uniform_(a=sqrt(5)) for Conv/Linear weights (gain sqrt(1/3), bound gain*sqrt(3/fanIn))
 * and its bias initialisation.
 */
export function uniformFanIn(t: Tensor, fanIn: number, rng: Generator = defaultGenerator): void {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.uniform(-bound, bound);
}
