// SPDX-License-Identifier: MIT
// The one list of built-in model names the commands accept (summary and bench --model), and the one rule that names a
// model in output ("LeNet", "LeNet-5", "LeNetBN"), shared by train, eval, predict, summary, bench and export.
import type { Module } from '../modules/module';

/** `--model` names, as summary and bench take them. */
export const MODEL_NAMES = [
  'lenet',
  'lenet-bn',
  'lenet5',
  'lenet5-bn',
  'block',
  'resnet20',
  'resnet32',
  'resnet44',
  'resnet56',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** What a built-in model is, for --help and output. */
export interface BuiltinModelInfo {
  /** How output names it (modelTitle of the built model). */
  title: string;
  description: string;
  /** The input it is built for, batch 1. */
  input: readonly number[];
}

export const MODELS: Readonly<Record<ModelName, BuiltinModelInfo>> = Object.freeze({
  lenet: { title: 'LeNet', description: 'LeNet for 3x32x32 images (CIFAR-10)', input: [1, 3, 32, 32] },
  'lenet-bn': { title: 'LeNetBN', description: 'LeNet with batch norm, 3x32x32', input: [1, 3, 32, 32] },
  lenet5: { title: 'LeNet-5', description: 'LeNet-5 for 1x28x28 images (MNIST, Fashion-MNIST)', input: [1, 1, 28, 28] },
  'lenet5-bn': { title: 'LeNet-5BN', description: 'LeNet-5 with batch norm, 1x28x28', input: [1, 1, 28, 28] },
  block: {
    title: 'conv block',
    description: 'two 3x3 convolutions, 128 -> 256 (stride 2) -> 512 channels, on 128x64x64 inputs',
    input: [1, 128, 64, 64],
  },
  resnet20: {
    title: 'ResNet-20',
    description: 'CIFAR ResNet-20 (He et al. 2016, shortcut A), 3x32x32',
    input: [1, 3, 32, 32],
  },
  resnet32: { title: 'ResNet-32', description: 'CIFAR ResNet-32, 3x32x32', input: [1, 3, 32, 32] },
  resnet44: { title: 'ResNet-44', description: 'CIFAR ResNet-44, 3x32x32', input: [1, 3, 32, 32] },
  resnet56: { title: 'ResNet-56', description: 'CIFAR ResNet-56, 3x32x32', input: [1, 3, 32, 32] },
});

/** "lenet (LeNet for 3x32x32 images (CIFAR-10)), lenet-bn (...), ...": the list for --help. */
export function describeModelNames(): string {
  return MODEL_NAMES.map((n) => `${n} (${MODELS[n].description})`).join(', ');
}

/**
 * A factory of fresh copies of a built-in model (weights from the default generator). The modules load here, with the
 * addon, not when the CLI starts.
 *
 * @example
 * const make = await builtinModelFactory('lenet5'); // () => new LeNet({ inChannels: 1, imageSize: 28 })
 */
export async function builtinModelFactory(name: ModelName): Promise<() => Module> {
  if (name === 'block') {
    const [{ Sequential }, { Conv2d }] = await Promise.all([
      import('../modules/sequential'),
      import('../modules/conv2d'),
    ]);
    return () =>
      new Sequential({
        conv1: new Conv2d({ inChannels: 128, outChannels: 256, kernelSize: 3, stride: 2, padding: 1, bias: false }),
        conv2: new Conv2d({ inChannels: 256, outChannels: 512, kernelSize: 3, stride: 1, padding: 1, bias: false }),
      });
  }
  if (name.startsWith('resnet')) {
    const { ResNet } = await import('../models/resnet');
    const depth = Number(name.slice('resnet'.length));
    return () => new ResNet({ depth });
  }
  const [{ LeNet }, { LeNetBN }] = await Promise.all([import('../modules/lenet'), import('../modules/lenet-bn')]);
  const digits = name.startsWith('lenet5') ? { inChannels: 1, imageSize: 28 } : {};
  return name.endsWith('-bn') ? () => new LeNetBN(digits) : () => new LeNet(digits);
}

/** One fresh built-in model (builtinModelFactory). */
export async function buildBuiltinModel(name: ModelName): Promise<Module> {
  return (await builtinModelFactory(name))();
}

/**
 * The name output gives a model: "LeNet" / "LeNetBN" for 32x32 inputs and "LeNet-5" / "LeNet-5BN" for 28x28 ones (conv1
 * padded by 2), "ResNet-20" for a ResNet of that depth, else the class name ("Sequential"). `arch` is the class (or an
 * ONNX graph) name, `imageSize` its input side, `depth` a ResNet's.
 *
 * @example
 * modelTitle('LeNet', 28); // "LeNet-5"
 */
export function modelTitle(arch: string, imageSize: number | undefined, depth?: number): string {
  if (arch === 'ResNet' && depth !== undefined) return `ResNet-${depth}`;
  if (arch !== 'LeNet' && arch !== 'LeNetBN') return arch;
  return `${imageSize === 28 ? 'LeNet-5' : 'LeNet'}${arch === 'LeNetBN' ? 'BN' : ''}`;
}

/** modelTitle of a built model, from its class and config. */
export function titleOfModel(model: Module): string {
  const config = (model as { config?: { imageSize?: number; depth?: number } }).config;
  return modelTitle(model.constructor.name, config?.imageSize, config?.depth);
}
