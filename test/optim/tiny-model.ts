// SPDX-License-Identifier: MIT
// Test helper: the Linear(4, 3) + MSELoss problem of layers2.safetensors' optimizer cases, run for a few steps.
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { MSELoss } from '../../lib/loss/mse';
import { Linear } from '../../lib/modules/linear';
import { Optimizer } from '../../lib/optim/optimizer';

export const layers2 = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

/** The fixture's Linear(4, 3) at its initial weights. */
export function tinyModel(): Linear {
  const fx = layers2.tensors;
  const model = new Linear({ inFeatures: 4, outFeatures: 3 });
  model.loadStateDict({ weight: fx['optim.init.weight'], bias: fx['optim.init.bias'] });
  return model;
}

/** Runs `steps` of zeroGrad, forward, MSE (mean), backward, step on the fixture batch; returns the loss before each step. */
export function train(model: Linear, opt: Optimizer, steps: number): number[] {
  const fx = layers2.tensors;
  const lossFn = new MSELoss();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    losses.push(lossFn.forward(model.forward(fx['optim.x']), fx['optim.y']));
    model.backward(lossFn.backward());
    opt.step();
  }
  return losses;
}
