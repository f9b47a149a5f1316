// SPDX-License-Identifier: MIT
// Saving a model as a self-describing safetensors weights file and rebuilding it from one (LeNet, LeNetBN, ResNet, or a
// Sequential or Graph built from a JSON model spec); the format itself is lib/io.
import { describe } from '../check';
import { FileFormatError } from '../errors';
import { readSafetensors, saveSafetensors } from '../io/safetensors';
import { LeNet, type LeNetOptions } from '../modules/lenet';
import { LeNetBN, type LeNetBNOptions } from '../modules/lenet-bn';
import { ResNet, resnetStateValues, type ResNetOptions } from '../models/resnet';
import { Module } from '../modules/module';
import { buildModelFromSpec, isSpecModel, SpecTooLargeError } from '../summary/model-spec';
import { formatShape } from '../tensor/shape';

/** Metadata key naming the architecture ("LeNet", "LeNetBN", "ResNet", or "Sequential" / "Graph" for a model built from a spec). */
export const ARCH_KEY = 'simdnet.arch';
/** Metadata key holding the architecture's constructor options as JSON (for "Sequential" and "Graph": the normalised model spec). */
export const CONFIG_KEY = 'simdnet.config';

/**
 * Parameter and buffer values of the LeNet (or LeNetBN) a config describes, computed from the config alone (NaN when a
 * size is not a number: the constructor then reports it). Its layer sizes are LeNet's (lenet.ts), which a test checks.
 *
 * @example
 * lenetStateValues({}, false); // 62006
 */
export function lenetStateValues(config: LeNetOptions, batchNorm: boolean): number {
  const num = (v: unknown, d: number) => (v === undefined ? d : typeof v === 'number' ? v : NaN);
  const inChannels = num(config.inChannels, 3);
  const imageSize = num(config.imageSize, 32);
  const numClasses = num(config.numClasses, 10);
  const padding = num(config.padding, imageSize === 28 ? 2 : 0);
  // conv1 (5x5) + pool 2, conv2 (5x5) + pool 2: the side fc1 sees, as in lenetLayers.
  const side = Math.max(0, Math.floor((Math.floor((imageSize + 2 * padding - 4) / 2) - 4) / 2));
  const layers = [
    [6, inChannels * 25], // conv1: weight [6, C, 5, 5], bias [6]
    [16, 6 * 25], // conv2
    [120, 16 * side * side], // fc1
    [84, 120], // fc2
    [numClasses, 84], // fc3
  ];
  const norm = batchNorm ? 4 * 6 + 1 + (4 * 16 + 1) : 0; // bn1 (6) and bn2 (16): weight, bias, 2 running stats, count
  return layers.reduce((sum, [out, fanIn]) => sum + out * fanIn + out, 0) + norm;
}

/** Architectures a weights file can name: how to build each from its JSON config within a bound on its size. */
interface Architecture {
  /** Parameter and buffer values the config describes, known before building (undefined: checked while building). */
  stateValues?(config: Record<string, unknown>): number;
  build(config: Record<string, unknown>, maxStateValues: number): Module & { config: object };
}
const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  LeNet: { stateValues: (c) => lenetStateValues(c, false), build: (c) => new LeNet(c as LeNetOptions) },
  LeNetBN: { stateValues: (c) => lenetStateValues(c, true), build: (c) => new LeNetBN(c as LeNetBNOptions) },
  ResNet: { stateValues: (c) => resnetStateValues(c), build: (c) => new ResNet(c as ResNetOptions) },
  Sequential: { build: (c, max) => buildModelFromSpec(c, undefined, { maxStateValues: max }).model },
  Graph: { build: (c, max) => buildModelFromSpec(c, undefined, { maxStateValues: max }).model },
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
 * A model needing far more parameter and buffer values than the file's tensors hold (over twice as many, plus 2^20)
 * is refused before anything of it is allocated (its size is computed from the config, or checked layer by layer
 * while a spec is built), so a small file cannot make loadModel allocate gigabytes.
 * @throws FileFormatError naming the file when the metadata is missing or unknown or the weights do not fit.
 */
export function loadModel(file: string): SavableModel {
  const { tensors, metadata } = readSafetensors(file);
  const fileValues = Object.values(tensors).reduce((n, t) => n + t.size, 0);
  const arch = metadata[ARCH_KEY];
  if (arch === undefined) {
    throw new FileFormatError(
      file,
      `no "${ARCH_KEY}" in the metadata, so the model cannot be rebuilt (was it saved by simdnet?)`,
    );
  }
  const architecture = Object.prototype.hasOwnProperty.call(ARCHITECTURES, arch) ? ARCHITECTURES[arch] : undefined;
  if (architecture === undefined) {
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
  // A model that cannot fit is refused before it is built. The slack (twice the file, plus 2^20) is still bounded by
  // the file's size, and lets a near miss (one missing tensor) reach loadStateDict's message naming the tensor.
  const maxValues = 2 * fileValues + 2 ** 20;
  const needed = architecture.stateValues?.(config as Record<string, unknown>);
  if (needed !== undefined && needed > maxValues) {
    throw new FileFormatError(
      file,
      `weights do not fit ${arch}(${shown}): it has ${needed} parameter and buffer values, the file holds ${fileValues} (nothing was built)`,
    );
  }
  try {
    model = architecture.build(config as Record<string, unknown>, maxValues);
  } catch (err) {
    if (err instanceof SpecTooLargeError)
      throw new FileFormatError(
        file,
        `weights do not fit the model spec ${shown} (nothing more was built): ${err.message}`,
      );
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
