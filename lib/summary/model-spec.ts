// SPDX-License-Identifier: MIT
// buildModelFromSpec(): a Sequential from a small JSON model description, inferring input sizes from the running shape (no file I/O here).
import { describe } from '../errors';
import { Conv2d, type Conv2dOptions } from '../modules/conv2d';
import { Flatten } from '../modules/flatten';
import { Linear, type LinearOptions } from '../modules/linear';
import { MaxPool2d, type MaxPool2dOptions } from '../modules/max-pool2d';
import { Module } from '../modules/module';
import { ReLU } from '../modules/relu';
import { Sequential } from '../modules/sequential';
import { Generator } from '../random';
import { checkShape, formatShape } from '../tensor/shape';

/** One layer: its type, an optional name, and the layer's options (camelCase, as its constructor takes them). */
export interface LayerSpec {
  type: string;
  name?: string;
  /** Only for type "sequential": its layers. */
  layers?: LayerSpec[];
  [option: string]: unknown;
}

/** A model description: the input shape (batch first) and the layers in order. */
export interface ModelSpec {
  input?: number[];
  layers: LayerSpec[];
}

/** The layer types a spec can use (lower case; matching ignores case). */
export const SPEC_LAYER_TYPES = ['conv2d', 'maxpool2d', 'relu', 'flatten', 'linear', 'sequential'] as const;

type Builder = (options: Record<string, unknown>, shape: readonly number[], rng: Generator, where: string) => Module;

const BUILDERS: Record<string, Builder> = {
  // inChannels and inFeatures come from the running shape unless given (a mismatch is then a shape error).
  conv2d: (o, shape, rng, where) => {
    if (shape.length !== 4) throw new RangeError(`${where}: conv2d needs a 4-D input [N, C, H, W], the shape here is ${formatShape(shape)}`);
    return new Conv2d({ inChannels: shape[1], ...o, generator: rng } as unknown as Conv2dOptions);
  },
  linear: (o, shape, rng) => new Linear({ inFeatures: shape[shape.length - 1], ...o, generator: rng } as unknown as LinearOptions),
  maxpool2d: (o) => new MaxPool2d(o as unknown as MaxPool2dOptions),
  flatten: (o) => new Flatten(o),
  relu: (o, _shape, _rng, where) => {
    if (Object.keys(o).length > 0) throw new RangeError(`${where}: relu takes no options, got '${Object.keys(o)[0]}'`);
    return new ReLU();
  },
};

/**
 * Builds a Sequential from a model description such as
 * `{"input": [1, 3, 32, 32], "layers": [{"type": "conv2d", "outChannels": 6, "kernelSize": 5},
 * {"type": "relu"}, {"type": "maxpool2d", "kernelSize": 2}, {"type": "flatten"},
 * {"type": "linear", "outFeatures": 10}]}`.
 *
 * Types: conv2d, maxpool2d, relu, flatten, linear, and sequential (a nested block with its own
 * "layers"). Options are the constructors' (kernelSize, stride, padding, dilation, groups, bias,
 * ceilMode, startDim, ...); inChannels and inFeatures default to the size the previous layer
 * produces. Names: without any "name" in a list the layers are "0", "1", ... as in PyTorch; once a
 * list names a layer, its unnamed ones are called type + index ("relu1"). A name is an identifier
 * (letters, digits, "_"). Weights come from a fixed seed, so the global generator is not touched.
 *
 * `input` (or `inputOverride`, which wins) gives the shape the sizes are inferred from.
 * @throws TypeError/RangeError naming the layer ("layers[2] (maxpool2d): ...") for a bad description.
 *
 * @example
 * const { model, input } = buildModelFromSpec(JSON.parse(fs.readFileSync('net.json', 'utf8')));
 * console.log(formatSummary(summary(model, input)));
 */
export function buildModelFromSpec(spec: unknown, inputOverride?: readonly number[]): { model: Sequential; input: number[] } {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError(`model spec must be a JSON object, got ${describe(spec)}`);
  const { input: specInput, layers, ...rest } = spec as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new RangeError(`model spec: unknown key '${extra[0]}' (expected "input" and "layers")`);
  const raw = inputOverride ?? specInput;
  if (raw === undefined) throw new RangeError('model spec: no input shape (give "input": [N, C, H, W] or an input shape)');
  const input = [...checkShape('model spec: input', raw)];
  if (input.length === 0 || input.some((d) => d < 1)) throw new RangeError(`model spec: input must have sizes >= 1, got ${formatShape(input)}`);
  const rng = new Generator(0);
  const { model } = buildList(layers, 'layers', input, rng);
  return { model, input };
}

/** Builds one list of layers into a Sequential; returns it and the shape it produces. */
function buildList(layers: unknown, where: string, shape: number[], rng: Generator): { model: Sequential; shape: number[] } {
  if (!Array.isArray(layers)) throw new TypeError(`model spec: "${where}" must be an array of layers, got ${describe(layers)}`);
  const named = layers.some((l) => l !== null && typeof l === 'object' && 'name' in l);
  const entries: [string, Module][] = [];
  layers.forEach((layer: unknown, i) => {
    const at = `${where}[${i}]`;
    if (layer === null || typeof layer !== 'object' || Array.isArray(layer)) throw new TypeError(`${at}: a layer must be an object with a "type", got ${describe(layer)}`);
    const { type, name, layers: inner, ...options } = layer as Record<string, unknown>;
    if (typeof type !== 'string') throw new TypeError(`${at}: "type" must be a string (one of ${SPEC_LAYER_TYPES.join(', ')}), got ${describe(type)}`);
    const kind = type.toLowerCase();
    const label = `${at} (${type})`;
    const layerName = name === undefined ? (named ? `${kind}${i}` : String(i)) : checkName(name, label);
    if (entries.some(([n]) => n === layerName)) throw new RangeError(`${label}: duplicate layer name '${layerName}'`);
    let module: Module;
    if (kind === 'sequential') {
      if (Object.keys(options).length > 0) throw new RangeError(`${label}: sequential takes only "layers", got '${Object.keys(options)[0]}'`);
      ({ model: module, shape } = buildList(inner, `${at}.layers`, shape, rng));
    } else {
      const build = Object.prototype.hasOwnProperty.call(BUILDERS, kind) ? BUILDERS[kind] : undefined;
      if (!build) throw new RangeError(`${label}: unknown layer type (known: ${SPEC_LAYER_TYPES.join(', ')})`);
      if (inner !== undefined) throw new RangeError(`${label}: only sequential takes "layers"`);
      if ('generator' in options) throw new RangeError(`${label}: unknown or unsupported option 'generator'`);
      try {
        module = build(options, shape, rng, label);
        shape = module.outputShape(shape);
      } catch (err) {
        if (err instanceof Error && !err.message.startsWith(label)) err.message = `${label} with input ${formatShape(shape)}: ${err.message}`;
        throw err;
      }
    }
    entries.push([layerName, module]);
  });
  // Identifier names never look like array indices, so the object keeps the list's order.
  const model = named ? new Sequential(Object.fromEntries(entries)) : new Sequential(...entries.map(([, m]) => m));
  return { model, shape };
}

function checkName(name: unknown, label: string): string {
  if (typeof name !== 'string') throw new TypeError(`${label}: "name" must be a string, got ${describe(name)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new RangeError(`${label}: name '${name}' must be an identifier (letters, digits, '_'; not starting with a digit)`);
  return name;
}
