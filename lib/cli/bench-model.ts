// SPDX-License-Identifier: MIT
// The model `simdnet bench` times: a built-in one, a JSON model file (as `simdnet summary` reads it) or a weights file; no timing here.
import type { Module } from '../modules/module';
import { UsageError } from './io';
import { describeModule, readModelFile, readWeightsModel } from './model-source';

/** The models `simdnet bench --model` names: LeNet for CIFAR-10, LeNetBN (LeNet with batch norm), LeNet-5 for 28 x 28 digits. */
export const BENCH_MODELS = ['lenet', 'lenet-bn', 'lenet5', 'resnet20'] as const;
export type BenchModelName = (typeof BENCH_MODELS)[number];

/** Where the model comes from: at most one of the three (commander enforces it). */
export interface BenchModelOptions {
  model?: BenchModelName;
  modelFile?: string;
  weights?: string;
}

/** A model to benchmark: a factory of identical fresh copies, the shape of one sample ([C, H, W]) and a description. */
export interface BenchModel {
  make: () => Module;
  sampleShape: number[];
  label: string;
}

/**
 * Resolves `--model`, `--model-file` or `--weights` (default: `--model lenet`). The model is built
 * once here, so a bad file fails before any timing.
 * @throws UsageError (exit code 2) for a missing file or a bad model file; FileFormatError for a bad weights file.
 *
 * @example
 * const { make, sampleShape } = await resolveBenchModel({ model: 'lenet-bn' }); // sampleShape [3, 32, 32]
 */
export async function resolveBenchModel(opts: BenchModelOptions): Promise<BenchModel> {
  if (opts.modelFile !== undefined) {
    const { rebuild, input, label } = await readModelFile(opts.modelFile, undefined);
    return { make: rebuild, sampleShape: input.slice(1), label }; // the file's batch size does not matter here
  }
  if (opts.weights !== undefined) {
    const { input, label, file } = await readWeightsModel(opts.weights);
    if (!input) throw new UsageError(`--weights ${opts.weights}: the file does not say the input size`);
    const { loadModel } = await import('../train/saved-model');
    return { make: () => loadModel(file), sampleShape: input.slice(1), label };
  }
  const [{ LeNet }, { LeNetBN }, { resnet20 }] = await Promise.all([
    import('../modules/lenet'),
    import('../modules/lenet-bn'),
    import('../models/resnet'),
  ]);
  const name = opts.model ?? 'lenet';
  const make = (): Module & { config: { inChannels: number; imageSize: number } } =>
    name === 'resnet20'
      ? resnet20()
      : name === 'lenet-bn'
        ? new LeNetBN()
        : name === 'lenet5'
          ? new LeNet({ inChannels: 1, imageSize: 28 })
          : new LeNet();
  const model = make();
  const { inChannels, imageSize } = model.config;
  return { make, sampleShape: [inChannels, imageSize, imageSize], label: `${name} (${describeModule(model)})` };
}
