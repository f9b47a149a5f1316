// SPDX-License-Identifier: MIT
// Saving a model as a self-describing safetensors weights file and rebuilding it from one; the format itself is lib/io.
import { describe, FileFormatError } from '../errors';
import { readSafetensors, saveSafetensors } from '../io/safetensors';
import { LeNet, type LeNetOptions } from '../modules/lenet';
import { LeNetBN, type LeNetBNOptions } from '../modules/lenet-bn';
import { Module } from '../modules/module';

/** Metadata key naming the architecture ("LeNet"). */
export const ARCH_KEY = 'simdnet.arch';
/** Metadata key holding the architecture's constructor options as JSON. */
export const CONFIG_KEY = 'simdnet.config';

/** Architectures a weights file can name, with how to build each from its JSON config. */
const ARCHITECTURES: Readonly<Record<string, (config: Record<string, unknown>) => Module & { config: object }>> = {
  LeNet: (config) => new LeNet(config as LeNetOptions),
  LeNetBN: (config) => new LeNetBN(config as LeNetBNOptions),
};

/** A model whose weights file can rebuild it: an architecture listed above, with its `config`. */
export type SavableModel = Module & { readonly config: object };

/**
 * The `__metadata__` of a weights file: {"format": "pt", "simdnet.arch": ..., "simdnet.config": JSON}.
 * @throws TypeError for a model of an architecture that cannot be rebuilt from a file.
 */
export function modelMetadata(model: SavableModel): Record<string, string> {
  const arch = model?.constructor?.name;
  if (!(model instanceof Module) || !(arch in ARCHITECTURES) || typeof model.config !== 'object') {
    throw new TypeError(`saveModel: model must be one of ${Object.keys(ARCHITECTURES).join(', ')}, got ${describe(model)}`);
  }
  return { format: 'pt', [ARCH_KEY]: arch, [CONFIG_KEY]: JSON.stringify(model.config) };
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
 * weights, loaded strictly (every name and shape must match).
 * @throws FileFormatError naming the file when the metadata is missing or unknown or the weights do not fit.
 */
export function loadModel(file: string): SavableModel {
  const { tensors, metadata } = readSafetensors(file);
  const arch = metadata[ARCH_KEY];
  if (arch === undefined) {
    throw new FileFormatError(file, `no "${ARCH_KEY}" in the metadata, so the model cannot be rebuilt (was it saved by simdnet?)`);
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
  try {
    model = build(config as Record<string, unknown>);
  } catch (err) {
    throw new FileFormatError(file, `bad ${arch} config ${metadata[CONFIG_KEY]}: ${(err as Error).message}`);
  }
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    throw new FileFormatError(file, `weights do not fit ${arch}(${metadata[CONFIG_KEY] ?? ''}): ${(err as Error).message}`);
  }
  return model;
}
