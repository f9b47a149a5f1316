// SPDX-License-Identifier: MIT
// Saving a model as a self-describing safetensors weights file and rebuilding it from one (LeNet, LeNetBN, ResNet, or a
// Sequential or Graph built from a JSON model spec); the format itself is lib/io.
import { describe, FileFormatError } from '../errors';
import { readSafetensors, saveSafetensors } from '../io/safetensors';
import { LeNet, type LeNetOptions } from '../modules/lenet';
import { LeNetBN, type LeNetBNOptions } from '../modules/lenet-bn';
import { ResNet, type ResNetOptions } from '../models/resnet';
import { Module } from '../modules/module';
import { buildModelFromSpec, isSpecModel } from '../summary/model-spec';
import { formatShape } from '../tensor/shape';

/** Metadata key naming the architecture ("LeNet", "LeNetBN", "ResNet", or "Sequential" / "Graph" for a model built from a spec). */
export const ARCH_KEY = 'simdnet.arch';
/** Metadata key holding the architecture's constructor options as JSON (for "Sequential" and "Graph": the normalised model spec). */
export const CONFIG_KEY = 'simdnet.config';

/** Architectures a weights file can name, with how to build each from its JSON config. */
const ARCHITECTURES: Readonly<Record<string, (config: Record<string, unknown>) => Module & { config: object }>> = {
  LeNet: (config) => new LeNet(config as LeNetOptions),
  LeNetBN: (config) => new LeNetBN(config as LeNetBNOptions),
  ResNet: (config) => new ResNet(config as ResNetOptions),
  Sequential: (config) => buildModelFromSpec(config).model,
  Graph: (config) => buildModelFromSpec(config).model,
};

/** What modelMetadata() says it accepts. */
const SAVABLE = 'LeNet, LeNetBN, ResNet, or a Sequential or Graph built by buildModelFromSpec';

/** A model whose weights file can rebuild it: an architecture listed above, with its `config` (a spec model's is its spec). */
export type SavableModel = Module & { readonly config: object };

/**
 * The `__metadata__` of a weights file: {"format": "pt", "simdnet.arch": ..., "simdnet.config": JSON}.
 * @throws TypeError for a model of an architecture that cannot be rebuilt from a file.
 */
export function modelMetadata(model: SavableModel): Record<string, string> {
  const arch = model?.constructor?.name;
  const spec = arch === 'Sequential' || arch === 'Graph';
  const known = spec ? isSpecModel(model) : Object.prototype.hasOwnProperty.call(ARCHITECTURES, arch);
  if (!(model instanceof Module) || !known || model.config === null || typeof model.config !== 'object') {
    const hint = spec ? ` (a ${arch} built by hand records no architecture: describe it as a model spec)` : '';
    throw new TypeError(`saveModel: model must be one of ${SAVABLE}, got ${describe(model)}${hint}`);
  }
  return { format: 'pt', [ARCH_KEY]: arch, [CONFIG_KEY]: JSON.stringify(model.config) };
}

/**
 * The input shape a saved model takes ([1, C, H, W]: batch 1) and the output shape it gives for it, as
 * its config says: LeNet's inChannels and imageSize, a spec's input. Undefined when the config does not
 * say (the output then cannot be known either).
 *
 * @example
 * modelShapes(new LeNet()); // { input: [1, 3, 32, 32], output: [1, 10] }
 */
export function modelShapes(model: SavableModel): { input: number[]; output: number[] } | undefined {
  const config = model.config as { input?: unknown; inChannels?: unknown; imageSize?: unknown };
  let input: number[];
  if (isSpecModel(model)) {
    input = [1, ...model.config.input.slice(1)];
  } else if (Number.isSafeInteger(config.inChannels) && Number.isSafeInteger(config.imageSize)) {
    input = [1, config.inChannels as number, config.imageSize as number, config.imageSize as number];
  } else {
    return undefined;
  }
  return { input, output: model.outputShape(input) };
}

/**
 * Writes the model's state dict (PyTorch names and layouts) and the metadata that rebuilds it, atomically.
 *
 * @example
 * saveModel('lenet.safetensors', model);
 * const same = loadModel('lenet.safetensors');
 */
export function saveModel(file: string, model: SavableModel): void {
  saveSafetensors(file, model.stateDict(), modelMetadata(model));
}

/**
 * Rebuilds a model from a weights file alone: the architecture and config from its metadata, then the
 * weights, loaded strictly (every name and shape must match). A "Sequential" file rebuilds a spec model.
 * @throws FileFormatError naming the file when the metadata is missing or unknown or the weights do not fit.
 */
export function loadModel(file: string): SavableModel {
  const { tensors, metadata } = readSafetensors(file);
  const arch = metadata[ARCH_KEY];
  if (arch === undefined) {
    throw new FileFormatError(
      file,
      `no "${ARCH_KEY}" in the metadata, so the model cannot be rebuilt (was it saved by simdnet?)`,
    );
  }
  const build = Object.prototype.hasOwnProperty.call(ARCHITECTURES, arch) ? ARCHITECTURES[arch] : undefined;
  if (build === undefined) {
    throw new FileFormatError(file, `unknown architecture "${arch}" (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  }
  let config: unknown = {};
  if (metadata[CONFIG_KEY] !== undefined) {
    try {
      config = JSON.parse(metadata[CONFIG_KEY]);
    } catch {
      throw new FileFormatError(file, `"${CONFIG_KEY}" is not valid JSON: ${metadata[CONFIG_KEY].slice(0, 80)}`);
    }
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new FileFormatError(file, `"${CONFIG_KEY}" must be a JSON object, got ${metadata[CONFIG_KEY]}`);
  }
  let model: SavableModel;
  // A spec can be long: messages show its start.
  const shown = clip(metadata[CONFIG_KEY] ?? '');
  try {
    model = build(config as Record<string, unknown>);
  } catch (err) {
    throw new FileFormatError(file, `bad ${arch} config ${shown}: ${(err as Error).message}`);
  }
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    const what = isSpecModel(model) ? `${arch}(input ${formatShape(model.config.input)})` : `${arch}(${shown})`;
    throw new FileFormatError(file, `weights do not fit ${what}: ${(err as Error).message}`);
  }
  return model;
}

function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}
