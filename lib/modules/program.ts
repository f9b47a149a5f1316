// SPDX-License-Identifier: MIT
// Compiles a chain of layers into a native inference program (see native/ops/program.h) when every
// layer is one the native side runs: Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Linear, ReLU,
// Flatten; plus what inference turns into those: a BatchNorm with running statistics folded into the
// Conv2d or Linear before it, and Dropout (the identity in eval mode).
import { AdaptiveAvgPool2d } from './adaptive-avg-pool2d';
import { AvgPool2d } from './avg-pool2d';
import { BatchNorm1d, BatchNorm2d, BatchNormBase } from './batch-norm';
import { Conv2d } from './conv2d';
import { Dropout } from './dropout';
import { Flatten } from './flatten';
import { Linear } from './linear';
import { MaxPool2d } from './max-pool2d';
import { Module } from './module';
import { ReLU } from './relu';

/** Op codes shared with native/ops/program.h. */
const OP_CONV = 1;
const OP_MAXPOOL = 2;
const OP_LINEAR = 3;
const OP_RELU = 4;
const OP_AVGPOOL = 5;
/** The largest size or divisor a program field holds (native/ops/program.cc's kMaxDim). */
const MAX_FIELD = 2 ** 24;

export interface CompiledProgram {
  code: Int32Array;
  /** Parameter arrays: the layers' own (weight updates need no recompilation) or folded copies. */
  params: Float32Array[];
  /**
   * Every live array the params hold or are computed from (weights, biases, folded BatchNorms'
   * statistics and affine parameters): the program's results change exactly when one of these does.
   */
  sources: Float32Array[];
  /** Output shape for one image (without the batch dimension). */
  outShape: number[];
  /** Recomputes the folded copies from the current weights and statistics; call before each run. */
  refresh(): void;
}

/** A weighted layer (Conv2d or Linear) and the eval-mode BatchNorm folded into it, if any. */
interface Weighted {
  layer: Conv2d | Linear;
  norm: BatchNormBase | null;
}

/**
 * Builds the program running `layers` in order on images of shape `imageShape` (without the
 * batch dimension), or returns null when a layer is one the native executor does not know.
 * The program computes eval-mode results (as predict() does).
 */
export function compileProgram(layers: readonly Module[], imageShape: readonly number[]): CompiledProgram | null {
  const code: number[] = [];
  const params: Float32Array[] = [];
  const sources: Float32Array[] = [];
  const folds: (() => void)[] = [];
  const param = (t: Float32Array): number => params.push(t) - 1;
  /** Indices of the weight and bias arrays of a weighted layer, folded copies when a BatchNorm follows. */
  const weightParams = ({ layer, norm }: Weighted): [number, number] => {
    sources.push(...[layer.weight, layer.bias].flatMap((p) => (p ? [p.data.data] : [])));
    if (!norm) return [param(layer.weight.data.data), layer.bias ? param(layer.bias.data.data) : -1];
    for (const t of [norm.runningMean, norm.runningVar, norm.weight?.data, norm.bias?.data])
      if (t) sources.push(t.data);
    const weight = new Float32Array(layer.weight.data.size);
    const bias = new Float32Array(norm.numFeatures);
    folds.push(() => foldBatchNorm(weight, bias, layer, norm));
    return [param(weight), param(bias)];
  };

  let shape = [1, ...imageShape];
  const plan = inferenceChain(layers);
  if (!plan) return null;
  for (let i = 0; i < plan.length; i++) {
    const step = plan[i];
    const weighted = step instanceof Module ? null : step;
    const layer = weighted ? weighted.layer : (step as Module);
    const nextIsRelu = plan[i + 1]?.constructor === ReLU;
    let out = layer.outputShape(shape); // validates the input shape
    if (layer instanceof Conv2d) {
      code.push(
        OP_CONV,
        shape[1],
        shape[2],
        shape[3],
        layer.outChannels,
        ...layer.kernelSize,
        ...layer.stride,
        ...layer.padding,
        ...layer.dilation,
        layer.groups,
        nextIsRelu ? 1 : 0,
        ...weightParams(weighted as Weighted),
      );
    } else if (layer instanceof MaxPool2d) {
      code.push(
        OP_MAXPOOL,
        shape[1],
        shape[2],
        shape[3],
        ...layer.kernelSize,
        ...layer.stride,
        ...layer.padding,
        ...layer.dilation,
        layer.ceilMode ? 1 : 0,
      );
    } else if (layer instanceof Linear) {
      if (shape.length !== 2) return null;
      code.push(
        OP_LINEAR,
        layer.inFeatures,
        layer.outFeatures,
        nextIsRelu ? 1 : 0,
        ...weightParams(weighted as Weighted),
      );
    } else if (layer instanceof AvgPool2d || layer instanceof AdaptiveAvgPool2d) {
      const [rows, cols, divisor] = layer.meanWindows(shape);
      // Divisors go into the program as integers: fall back to the layers for any other.
      if (!divisor.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_FIELD)) return null;
      code.push(
        OP_AVGPOOL,
        shape[1],
        shape[2],
        shape[3],
        out[2],
        out[3],
        ...rows.start,
        ...rows.end,
        ...cols.start,
        ...cols.end,
        ...divisor,
      );
    } else if (layer.constructor === ReLU) {
      code.push(
        OP_RELU,
        out.slice(1).reduce((a, b) => a * b, 1),
      );
    } else if (layer.constructor !== Flatten) {
      return null;
    }
    if (weighted?.norm) out = weighted.norm.outputShape(out); // validates the folded BatchNorm's size
    if ((layer instanceof Conv2d || layer instanceof Linear) && nextIsRelu) i++; // ReLU fused
    shape = out;
  }
  if (code.length === 0) return null;
  return {
    code: Int32Array.from(code),
    params,
    sources,
    outShape: shape.slice(1),
    refresh: () => folds.forEach((fold) => fold()),
  };
}

/**
 * The layers as predict() runs them: Dropout left out, each Conv2d / Linear paired with the
 * BatchNorm2d / BatchNorm1d right after it. Null when a BatchNorm cannot be folded (no running
 * statistics, or nothing weighted before it): those run in JavaScript.
 */
function inferenceChain(layers: readonly Module[]): (Module | Weighted)[] | null {
  const chain: (Module | Weighted)[] = [];
  const kept = layers.filter((m) => !(m instanceof Dropout));
  for (let i = 0; i < kept.length; i++) {
    const layer = kept[i];
    if (layer instanceof BatchNormBase) return null; // not directly after a Conv2d or Linear
    if (!(layer instanceof Conv2d || layer instanceof Linear)) {
      chain.push(layer);
      continue;
    }
    const next = kept[i + 1];
    const foldable = layer instanceof Conv2d ? next instanceof BatchNorm2d : next instanceof BatchNorm1d;
    if (foldable && (next as BatchNormBase).runningMean === null) return null; // batch statistics even in eval mode
    chain.push({ layer, norm: foldable ? (next as BatchNormBase) : null });
    if (foldable) i++;
  }
  return chain;
}

/**
 * weight' = weight * alpha and bias' = (bias - mean) * alpha + beta per output channel, with
 * alpha = gamma / sqrt(var + eps): the eval-mode BatchNorm applied to the layer's output, computed
 * in float64 and rounded once.
 */
function foldBatchNorm(weight: Float32Array, bias: Float32Array, layer: Conv2d | Linear, norm: BatchNormBase): void {
  const w = layer.weight.data.data;
  const b = layer.bias?.data.data;
  const mean = (norm.runningMean as NonNullable<BatchNormBase['runningMean']>).data;
  const variance = (norm.runningVar as NonNullable<BatchNormBase['runningVar']>).data;
  const gamma = norm.weight?.data.data;
  const beta = norm.bias?.data.data;
  const perChannel = w.length / bias.length;
  for (let c = 0; c < bias.length; c++) {
    const alpha = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + norm.eps);
    bias[c] = ((b ? b[c] : 0) - mean[c]) * alpha + (beta ? beta[c] : 0);
    for (let k = c * perChannel; k < (c + 1) * perChannel; k++) weight[k] = w[k] * alpha;
  }
}
