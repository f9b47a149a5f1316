// SPDX-License-Identifier: MIT
// Parameter initialisation drawn from a seeded Generator: PyTorch's layer defaults and He et al.'s normal.
import { defaultGenerator, Generator } from '../random';
import type { Module } from './module';
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

/**
 * Fills `t` from N(0, 2/fanIn), PyTorch's kaiming_normal_(t) (mode 'fan_in', nonlinearity 'relu'): fanIn is
 * t.shape[1] times the product of the remaining dimensions, as PyTorch computes it for Linear and conv weights.
 */
export function kaimingNormal(t: Tensor, rng: Generator = defaultGenerator): void {
  if (t.shape.length < 2)
    throw new RangeError(`kaimingNormal: needs a tensor of 2 or more dimensions, got ${t.shape.length}`);
  const fanIn = t.data.length / t.shape[0];
  const std = fanIn > 0 ? Math.sqrt(2 / fanIn) : 0;
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal(0, std);
}

/**
 * He et al. 2015's initialisation of a whole model, which the ResNet paper uses: every weight of two or more
 * dimensions (conv and linear weights; not normalisation scales) from kaimingNormal, in parameter order; biases
 * and everything else keep their values.
 *
 * @example
 * heInit(resnet20());
 */
export function heInit(model: Module, rng: Generator = defaultGenerator): void {
  for (const [name, p] of model.namedParameters()) {
    if (/(^|\.)weight$/.test(name) && p.data.shape.length >= 2) kaimingNormal(p.data, rng);
  }
}
