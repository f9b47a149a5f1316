// SPDX-License-Identifier: MIT
// Compiles a chain of layers into a native inference program (see native/ops/program.h) when every
// layer is one the native side runs: Conv2d, MaxPool2d, Linear, ReLU, Flatten.
import { Conv2d } from './conv2d';
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

export interface CompiledProgram {
  code: Int32Array;
  /** The parameters' own arrays (not copies): weight updates need no recompilation. */
  params: Float32Array[];
  /** Output shape for one image (without the batch dimension). */
  outShape: number[];
}

/**
 * Builds the program running `layers` in order on images of shape `imageShape` (without the
 * batch dimension), or returns null when a layer is one the native executor does not know.
 */
export function compileProgram(layers: readonly Module[], imageShape: readonly number[]): CompiledProgram | null {
  const code: number[] = [];
  const params: Float32Array[] = [];
  const param = (t: Float32Array): number => params.push(t) - 1;
  let shape = [1, ...imageShape];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const nextIsRelu = layers[i + 1]?.constructor === ReLU;
    const out = layer.outputShape(shape); // validates the input shape
    if (layer instanceof Conv2d) {
      code.push(OP_CONV, shape[1], shape[2], shape[3], layer.outChannels, ...layer.kernelSize, ...layer.stride,
        ...layer.padding, ...layer.dilation, layer.groups, nextIsRelu ? 1 : 0, param(layer.weight.data.data),
        layer.bias ? param(layer.bias.data.data) : -1);
    } else if (layer instanceof MaxPool2d) {
      code.push(OP_MAXPOOL, shape[1], shape[2], shape[3], ...layer.kernelSize, ...layer.stride, ...layer.padding, ...layer.dilation,
        layer.ceilMode ? 1 : 0);
    } else if (layer instanceof Linear) {
      if (shape.length !== 2) return null;
      code.push(OP_LINEAR, layer.inFeatures, layer.outFeatures, nextIsRelu ? 1 : 0, param(layer.weight.data.data),
        layer.bias ? param(layer.bias.data.data) : -1);
    } else if (layer.constructor === ReLU) {
      code.push(OP_RELU, out.slice(1).reduce((a, b) => a * b, 1));
    } else if (!(layer.constructor === Flatten)) {
      return null;
    }
    if ((layer instanceof Conv2d || layer instanceof Linear) && nextIsRelu) i++; // ReLU fused
    shape = out;
  }
  if (code.length === 0) return null;
  return { code: Int32Array.from(code), params, outShape: shape.slice(1) };
}
