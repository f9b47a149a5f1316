// SPDX-License-Identifier: MIT
// Reading the model a command names with --model-file (a JSON model description) or --weights (a saved model), shared by summary and bench.
import * as fs from 'fs';
import type { Module } from '../modules/module';
import type { SavableModel } from '../train/saved-model';
import { checkFileExists } from './data-path';
import { UsageError } from './io';

/** A model read from a file, with the input shape it takes (batch first) and a one-line description. */
export interface FileModel {
  model: Module;
  input: number[];
  label: string;
  /** Builds another copy with the same initial weights. */
  rebuild: () => Module;
}

/**
 * Reads and builds a --model-file with buildModelFromSpec(); `input` overrides the file's input shape.
 * Every problem with the file is a usage error naming it.
 *
 * @example
 * const { model, input } = await readModelFile('net.json', undefined);
 */
export async function readModelFile(value: string, input: number[] | undefined): Promise<FileModel> {
  const file = checkFileExists('--model-file', value);
  let spec: unknown;
  try {
    spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--model-file ${value}: not valid JSON: ${(err as Error).message}`);
  }
  const { buildModelFromSpec } = await import('../summary/model-spec');
  try {
    // The spec builds from a fixed seed, so every copy starts from the same weights.
    const built = buildModelFromSpec(spec, input);
    return { ...built, label: value, rebuild: () => buildModelFromSpec(spec, input).model };
  } catch (err) {
    throw new UsageError(`--model-file ${value}: ${(err as Error).message}`);
  }
}

/**
 * Rebuilds a saved model from --weights, with its own input shape ([1, C, H, W]) when its config
 * records one. A damaged file is a FileFormatError naming it (a runtime error, not a usage error).
 *
 * @example
 * const { model, input } = await readWeightsModel('lenet.safetensors');
 */
export async function readWeightsModel(value: string): Promise<{ model: SavableModel; input: number[] | undefined; label: string; file: string }> {
  const file = checkFileExists('--weights', value);
  const { loadModel } = await import('../train/saved-model');
  const model = loadModel(file);
  const config = model.config as { inChannels?: number; imageSize?: number };
  const input = config.inChannels && config.imageSize ? [1, config.inChannels, config.imageSize, config.imageSize] : undefined;
  return { model, input, label: `${value} (${describeModule(model)})`, file };
}

/** "LeNet(inChannels=3, imageSize=32, numClasses=10)". */
export function describeModule(model: Module): string {
  return `${model.constructor.name}(${model.extraRepr()})`;
}
