// SPDX-License-Identifier: MIT
// When a container runs a BatchNorm and the ReLU after it as one native pass (forward and backward): the rule
// Sequential and Graph share; Graph also runs a BatchNorm, a residual add and a ReLU as one. Conv2d + ReLU (forward only) and ReLU + MaxPool2d (backward only) are Sequential's own.
import { BatchNormBase } from './batch-norm';
import { MaxPool2d } from './max-pool2d';
import { hasFastBackward, hasFastForward, type Module } from './module';
import { ReLU } from './relu';

/** True when `layer` is a built-in BatchNorm normalising with batch statistics and `next` a built-in ReLU. */
export function fusesBatchNormRelu(layer: Module, next: Module | undefined): layer is BatchNormBase {
  return (
    layer instanceof BatchNormBase &&
    next?.constructor === ReLU &&
    hasFastForward(layer) &&
    hasFastBackward(layer) &&
    layer.fusesRelu()
  );
}

/**
 * True when `layer` is a built-in BatchNorm normalising with batch statistics and `relu` a built-in ReLU that alone reads
 * the residual add of layer's output (Graph checks the add): the three run their forward as one pass
 * (forwardWithAddRelu), their backward as unfused.
 */
export function fusesBatchNormAddRelu(layer: Module, relu: Module): layer is BatchNormBase {
  return (
    layer instanceof BatchNormBase &&
    relu.constructor === ReLU &&
    hasFastForward(layer) &&
    hasFastBackward(layer) &&
    layer.fusesRelu()
  );
}

/** True when `pool`, a built-in MaxPool2d, follows the built-in ReLU `relu`: the pool's backward can run the ReLU's. */
export function fusesReluMaxPool(relu: Module | undefined, pool: Module): pool is MaxPool2d {
  return relu?.constructor === ReLU && pool.constructor === MaxPool2d && hasFastBackward(pool);
}

/** True when `relu`'s last forward ran inside `bn`'s (forwardWithRelu): skip its backward, bn's runs it. */
export function reluFusedInto(bn: Module | undefined, relu: Module): boolean {
  return relu.constructor === ReLU && bn instanceof BatchNormBase && bn.fusedRelu();
}
