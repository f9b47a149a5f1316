// SPDX-License-Identifier: MIT
// Public exports of simdnet. Nothing else is part of the API.
// The global `Long` onnx-proto's types name (for clients that type-check these declarations).
import './io/long-global';
export { Tensor } from './tensor/tensor';
export { shapeSize, formatShape } from './tensor/shape';
export { ShapeError, FileFormatError, NonFiniteLossError } from './errors';
export { Generator, manualSeed, defaultGenerator } from './random';
export { Module } from './modules/module';
export { setBatching, type BatchingOptions, type BatchReport } from './modules/predict-batcher';
export { Parameter } from './modules/parameter';
export { heInit, kaimingNormal } from './modules/init';
export { Sequential } from './modules/sequential';
export { Graph, GRAPH_INPUT, type GraphNode, type GraphNodeSpec } from './modules/graph';
export { GraphBuilder, GraphValue } from './modules/graph-builder';
export { GraphOp, type OpContext } from './modules/graph-op';
export { Add, Mul, Concat, type ConcatOptions } from './modules/graph-ops';
export {
  Reshape,
  Pad,
  Slice,
  Clamp,
  type ReshapeOptions,
  type PadOptions,
  type SliceOptions,
  type ClampOptions,
} from './modules/graph-ops-shape';
export { ModuleDict } from './modules/graph-container';
export {
  ResNet,
  BasicBlock,
  resnet20,
  resnet32,
  resnet44,
  resnet56,
  type ResNetOptions,
  type ResNetConfig,
  type Shortcut,
} from './models/resnet';
export { registerLayerKind } from './layers/registry';
export { layerKind, opKind, type LayerKind, type OpKind, type SpecType, type ProgramRule } from './layers/kind';
export { Conv2d, type Conv2dOptions } from './modules/conv2d';
export { ConvTranspose2d, type ConvTranspose2dOptions } from './modules/conv-transpose2d';
export { AdaptiveMaxPool2d, type AdaptiveMaxPool2dOptions } from './modules/adaptive-max-pool2d';
export { Upsample, type UpsampleMode, type UpsampleOptions } from './modules/upsample';
export { Conv1d, type Conv1dOptions, type IntOne } from './modules/conv1d';
export { type PaddingMode } from './modules/conv-padding';
export { toMatrix, toSymbolicMatrix, toBiasVector, weightSymbol, matrixShape } from './modules/to-matrix';
export { MaxPool2d, type MaxPool2dOptions } from './modules/max-pool2d';
export { AvgPool2d, type AvgPool2dOptions } from './modules/avg-pool2d';
export { AdaptiveAvgPool2d, type AdaptiveAvgPool2dOptions, type AdaptiveSize } from './modules/adaptive-avg-pool2d';
export { Linear, type LinearOptions } from './modules/linear';
export { ReLU } from './modules/relu';
export { Flatten, type FlattenOptions } from './modules/flatten';
export { LeNet, type LeNetOptions, type LeNetConfig } from './modules/lenet';
export { BatchNorm1d, BatchNorm2d, BatchNormBase, type BatchNormOptions } from './modules/batch-norm';
export { LeNetBN, type LeNetBNOptions, type LeNetBNConfig } from './modules/lenet-bn';
export { CrossEntropyLoss, type CrossEntropyLossOptions } from './loss/cross-entropy';
export { MSELoss, type MSELossOptions } from './loss/mse';
export { NLLLoss, type NLLLossOptions } from './loss/nll';
export { type Reduction } from './loss/reduction';
export { LeakyReLU, type LeakyReLUOptions } from './modules/leaky-relu';
export { Sigmoid } from './modules/sigmoid';
export { Tanh } from './modules/tanh';
export { Softmax, LogSoftmax, type SoftmaxOptions } from './modules/softmax';
export { Dropout, type DropoutOptions } from './modules/dropout';
export { Hardtanh, type HardtanhOptions } from './modules/hardtanh';
export { ReLU6 } from './modules/relu6';
export { GELU, type GELUOptions } from './modules/gelu';
export { SiLU } from './modules/silu';
export { Hardswish } from './modules/hardswish';
export { Hardsigmoid } from './modules/hardsigmoid';
export { ELU, type ELUOptions } from './modules/elu';
export { Identity } from './modules/identity';
export { Dropout2d } from './modules/dropout2d';
export { LayerNorm, type LayerNormOptions } from './modules/layer-norm';
export { GroupNorm, type GroupNormOptions } from './modules/group-norm';
export { Optimizer, type ParamGroup, type ParamGroupInput } from './optim/optimizer';
export { Adam, type AdamOptions, type AdamParamGroup } from './optim/adam';
export { SGD, type SGDOptions, type SGDParamGroup } from './optim/sgd';
export { splitWeightDecay, type WeightDecayGroups } from './optim/split-weight-decay';
export { AdamW, type AdamWOptions } from './optim/adamw';
export {
  LRScheduler,
  StepLR,
  CosineAnnealingLR,
  LinearLR,
  ExponentialLR,
  MultiStepLR,
  type StepLROptions,
  type CosineAnnealingLROptions,
  type LinearLROptions,
  type ExponentialLROptions,
  type MultiStepLROptions,
} from './optim/lr-scheduler';
export { OneCycleLR, type OneCycleLROptions } from './optim/one-cycle-lr';
export { SequentialLR, type SequentialLROptions } from './optim/sequential-lr';
export { clipGradNorm } from './optim/clip-grad';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck';
export { native, type KernelInfo } from './native';
export { type BackwardOptions } from './modules/module';
export * from './data';
export {
  saveSafetensors,
  loadSafetensors,
  readSafetensors,
  encodeSafetensors,
  decodeSafetensors,
  type SafetensorsContents,
} from './io/safetensors';
export * from './train';
export * from './summary';
export { trainingCurvesSvg, readHistory, type TrainingCurvesOptions } from './plot/training-curves';
export {
  readImage,
  decodeImage,
  readPng,
  decodePng,
  decodeJpeg,
  imageFormat,
  preprocessImage,
  resizeBilinear,
  cropWindow,
  MAX_PIXELS,
  RESIZE_MODES,
  type DecodedImage,
  type ImageFormat,
  type Preprocess,
  type ResizeMode,
} from './data/image';
export { FileWriteError, writeFileAtomic } from './io/atomic-file';
export {
  exportOnnx,
  encodeOnnx,
  buildOnnxModel,
  ONNX_OPSET,
  ONNX_IR_VERSION,
  type OnnxExportOptions,
  type OnnxModel,
  type OnnxGraph,
  type OnnxNode,
  type OnnxAttribute,
  type OnnxTensor,
  type OnnxValueInfo,
} from './io/onnx-export';
export { importOnnx, type OnnxImport, type OnnxImportOptions } from './io/onnx-import';
