// SPDX-License-Identifier: MIT
// Public exports of simdnet. Nothing else is part of the API.
export { Tensor } from './tensor/tensor';
export { shapeSize, formatShape } from './tensor/shape';
export { ShapeError, FileFormatError, NonFiniteLossError } from './errors';
export { Generator, manualSeed, defaultGenerator } from './random';
export { Module } from './modules/module';
export { Parameter } from './modules/parameter';
export { Sequential } from './modules/sequential';
export { Conv2d, type Conv2dOptions } from './modules/conv2d';
export { Conv1d, type Conv1dOptions, type IntOne } from './modules/conv1d';
export { toMatrix, toSymbolicMatrix, toBiasVector, weightSymbol, matrixShape } from './modules/to-matrix';
export { MaxPool2d, type MaxPool2dOptions } from './modules/max-pool2d';
export { Linear, type LinearOptions } from './modules/linear';
export { ReLU } from './modules/relu';
export { Flatten, type FlattenOptions } from './modules/flatten';
export { LeNet, type LeNetOptions, type LeNetConfig } from './modules/lenet';
export { BatchNorm1d, BatchNorm2d, BatchNormBase, type BatchNormOptions } from './modules/batch-norm';
export { LeNetBN, type LeNetBNOptions, type LeNetBNConfig } from './modules/lenet-bn';
export { CrossEntropyLoss } from './loss/cross-entropy';
export { Optimizer } from './optim/optimizer';
export { Adam, type AdamOptions } from './optim/adam';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck';
export { native, type KernelInfo } from './native';
export { type BackwardOptions } from './modules/module';
export * from './data';
export { saveSafetensors, loadSafetensors, readSafetensors, encodeSafetensors, decodeSafetensors, type SafetensorsContents } from './io/safetensors';
export * from './train';
export * from './summary';
