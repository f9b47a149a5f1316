// SPDX-License-Identifier: MIT
// The browser entry (ESM bundle built by scripts/build-browser.js): the model, loss, optimizer and data
// classes over the WebAssembly backend, datasets from bytes instead of files. Call `await init()` first.
// Nothing here may import Node built-ins (the bundle build fails if something does).
export { init, type InitOptions } from './backend/native-browser';
export { native, type KernelInfo } from './native';
export { Tensor } from './tensor/tensor';
export { shapeSize, formatShape } from './tensor/shape';
export { ShapeError, FileFormatError, NonFiniteLossError } from './errors';
export { Generator, manualSeed, defaultGenerator } from './random';
export { Module } from './modules/module';
export { Parameter } from './modules/parameter';
export { Sequential } from './modules/sequential';
export { Conv2d } from './modules/conv2d';
export { MaxPool2d } from './modules/max-pool2d';
export { AvgPool2d } from './modules/avg-pool2d';
export { AdaptiveAvgPool2d } from './modules/adaptive-avg-pool2d';
export { Linear } from './modules/linear';
export { ReLU } from './modules/relu';
export { Flatten } from './modules/flatten';
export { Dropout } from './modules/dropout';
export { BatchNorm1d, BatchNorm2d } from './modules/batch-norm';
export { LeNet, type LeNetOptions } from './modules/lenet';
export { LeNetBN } from './modules/lenet-bn';
export { CrossEntropyLoss } from './loss/cross-entropy';
export { MSELoss } from './loss/mse';
export { Adam } from './optim/adam';
export { AdamW } from './optim/adamw';
export { SGD } from './optim/sgd';
export { TensorDataset, type Dataset, type Sample, type Batch } from './data/dataset';
export { DataLoader, type DataLoaderOptions } from './data/loader';
export { randomCrop, randomHorizontalFlip, compose, type Transform } from './data/transforms';
export { CIFAR10Bytes, CIFAR10_CLASSES, type CIFAR10BytesOptions } from './data/cifar10-records';
export { evaluate, type EvaluateResult } from './train/evaluate';
export { argmaxRows, RunningMean, ConfusionMatrix } from './train/metrics';
