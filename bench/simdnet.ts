// SPDX-License-Identifier: MIT
// simdnet's side of the LeNet cases: a model with the shared weights, its inference call and its training step.
import { Adam, CrossEntropyLoss, LeNet, Tensor } from '../lib';
import type { Prepared } from './cases';

export function simdnetLeNet(weights: Record<string, Tensor>): LeNet {
  const model = new LeNet();
  model.loadStateDict(weights);
  return model;
}

type Predictor = { predict?: (x: Tensor) => Tensor };

/** How inference is called: model.predict when the library has it, else forward in eval mode. */
export function inferenceApi(model: LeNet): string {
  return typeof (model as unknown as Predictor).predict === 'function' ? 'model.predict' : 'model.eval().forward';
}

export function simdnetInfer(model: LeNet, x: Tensor): Prepared<Float32Array> {
  model.eval();
  const predict = (model as unknown as Predictor).predict;
  if (typeof predict === 'function') return { fn: () => predict.call(model, x).data };
  return { fn: () => model.forward(x).data };
}

/**
 * zeroGrad, forward, cross-entropy, backward, Adam(lr 1e-3) step; returns the loss before the step.
 * Like fit() (and PyTorch, whose input tensor needs no gradient) it skips the input gradient.
 */
export function simdnetTrainer(weights: Record<string, Tensor>, x: Tensor, targets: Int32Array): Prepared<number> {
  const model = simdnetLeNet(weights).train();
  const lossFn = new CrossEntropyLoss();
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  return {
    fn: () => {
      opt.zeroGrad();
      const loss = lossFn.forward(model.forward(x), targets);
      model.backward(lossFn.backward(), { inputGrad: false });
      opt.step();
      return loss;
    },
  };
}
