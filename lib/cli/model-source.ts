// SPDX-License-Identifier: MIT
// Reading the model a command names with --model-file (a JSON model description) or --weights (a saved model), shared by summary,
// bench and train (which also checks that a model file fits the dataset).
import * as fs from 'fs';
import type { Module } from '../modules/module';
import type { BuiltSpec, ModelSpec } from '../summary/model-spec';
import type { SavableModel } from '../train/saved-model';
import { formatShape } from '../tensor/shape';
import { checkFileExists } from './data-path';
import { UsageError } from './io';
import { titleOfModel } from './models';

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
  const spec = readSpecJson(value);
  const { buildModelFromSpec } = await import('../summary/model-spec');
  try {
    // The spec builds from a fixed seed, so every copy starts from the same weights.
    const built = buildModelFromSpec(spec, input);
    return {
      model: built.model,
      input: built.input,
      label: value,
      rebuild: () => buildModelFromSpec(spec, input).model,
    };
  } catch (err) {
    throw new UsageError(`--model-file ${value}: ${(err as Error).message}`);
  }
}

/** A model to train, read from a --model-file and checked against the dataset. */
export interface TrainingModel extends BuiltSpec {
  /** "net.json (Sequential, input [1, 3, 32, 32])". */
  label: string;
}

/**
 * Reads a --model-file for `simdnet train`: a spec without "input" takes the dataset's images
 * ([1, C, H, W]); one with it must take the dataset's channels and size, and the model must map them
 * to [N, numClasses] logits. Weights start from `seed`.
 * @throws UsageError naming --model-file and both shapes when the file is bad or does not fit the dataset.
 *
 * @example
 * const { model, spec } = await readTrainingModelFile('net.json', { title: 'CIFAR-10', sampleShape: [3, 32, 32], numClasses: 10 }, 0);
 */
export async function readTrainingModelFile(
  value: string,
  data: { title: string; sampleShape: readonly number[]; numClasses: number },
  seed: number,
): Promise<TrainingModel> {
  const spec = readSpecJson(value);
  const { buildModelFromSpec } = await import('../summary/model-spec');
  const given =
    spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? (spec as { input?: unknown }).input : undefined;
  const images = data.sampleShape.join('x');
  if (
    Array.isArray(given) &&
    (given.length !== data.sampleShape.length + 1 || data.sampleShape.some((d, i) => given[i + 1] !== d))
  ) {
    const takes = given.length === 4 ? `${given.slice(1).join('x')} images` : `input ${formatShape(given as number[])}`;
    throw new UsageError(
      `--model-file ${value}: the model takes ${takes} ("input": ${JSON.stringify(given)}); ${data.title} has ${images} images (use "input": [1, ${data.sampleShape.join(', ')}], or leave it out)`,
    );
  }
  let built: BuiltSpec;
  try {
    built = buildModelFromSpec(spec, given === undefined ? [1, ...data.sampleShape] : undefined, { seed });
  } catch (err) {
    throw new UsageError(`--model-file ${value}: ${(err as Error).message}`);
  }
  const { output } = built;
  if (output.length !== 2 || output[1] !== data.numClasses) {
    throw new UsageError(
      `--model-file ${value}: the model maps ${images} images to ${formatShape(output)}; ${data.title} needs [N, ${data.numClasses}] (one logit per class: end with a linear layer of outFeatures ${data.numClasses})`,
    );
  }
  return { ...built, label: `${value} (${describeModule(built.model)})` };
}

/** Reads and parses a --model-file; a missing file or bad JSON is a usage error naming it. */
function readSpecJson(value: string): unknown {
  const file = checkFileExists('--model-file', value);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--model-file ${value}: not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Rebuilds a saved model from --weights, with its own input shape ([1, C, H, W]) when its config
 * records one. A damaged file is a FileFormatError naming it (a runtime error, not a usage error).
 *
 * @example
 * const { model, input } = await readWeightsModel('lenet.safetensors');
 */
export async function readWeightsModel(
  value: string,
): Promise<{ model: SavableModel; input: number[] | undefined; label: string; file: string }> {
  const file = checkFileExists('--weights', value);
  const { loadModel, modelShapes } = await import('../train/saved-model');
  const model = loadModel(file);
  return { model, input: modelShapes(model)?.input, label: `${value} (${describeModule(model)})`, file };
}

/**
 * "LeNet(inChannels=3, imageSize=32, numClasses=10)", with the model's name first when it differs from its class
 * ("LeNet-5: LeNet(inChannels=1, imageSize=28, numClasses=10)"); for a model built from a spec
 * "Sequential(input [1, 3, 32, 32], 9 layers)".
 */
export function describeModule(model: Module): string {
  const spec = (model as { config?: Partial<ModelSpec> }).config;
  if (model.constructor.name === 'Sequential' && spec && Array.isArray(spec.input) && Array.isArray(spec.layers)) {
    return `Sequential(input ${formatShape(spec.input)}, ${spec.layers.length} layers)`;
  }
  const title = titleOfModel(model);
  return `${title === model.constructor.name ? '' : `${title}: `}${model.constructor.name}(${model.extraRepr()})`;
}
