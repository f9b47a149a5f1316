// SPDX-License-Identifier: MIT
// buildModelFromSpec(): a Sequential from a JSON model description (docs/models.md), inferring input sizes from the running
// shape and returning the normalised description that rebuilds it; the per-type builders are in model-spec-layers.ts (no file I/O here).
import { checkInt, checkOptions, describe } from '../check';
import { Module } from '../modules/module';
import { Sequential } from '../modules/sequential';
import { Generator } from '../random';
import { checkShape, formatShape } from '../tensor/shape';
import { LAYER_TYPES } from './model-spec-layers';

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

/**
 * A Sequential built from a spec, carrying its normalised spec as `config` (what saveModel records as
 * the "Sequential" architecture's config, and loadModel rebuilds from).
 */
export type SpecModel = Sequential & { readonly config: Required<ModelSpec> };

/** Options of buildModelFromSpec(). */
export interface BuildSpecOptions {
  /** Seed of the initial weights (and of Dropout's mask streams). Default 0. */
  seed?: number;
  /**
   * Refuse (RangeError) before building the layer whose parameters and buffers would take the model past this
   * many values; loadModel passes the number of values the weights file holds. Default: no bound.
   */
  maxStateValues?: number;
}

/** A spec's layers need more parameter and buffer values than BuildSpecOptions.maxStateValues allows. */
export class SpecTooLargeError extends RangeError {
  override name = 'SpecTooLargeError';
}

/** Layers a spec may have in all, nested blocks and their contents included (real CNNs have hundreds). */
export const MAX_SPEC_LAYERS = 10_000;
/** How deep "sequential" blocks may nest. */
export const MAX_SPEC_DEPTH = 64;

/** What buildModelFromSpec() returns. */
export interface BuiltSpec {
  model: SpecModel;
  /** The input shape the sizes were inferred from (batch first). */
  input: number[];
  /** The shape the model produces for `input`. */
  output: number[];
  /**
   * The normalised description: the input, lower-case types, every inferred size written out
   * (inChannels, inFeatures, numFeatures) and, in a list that names any layer, every name. Building
   * it again gives the same layers, parameter names and shapes.
   */
  spec: Required<ModelSpec>;
}

/** The layer types a spec can use (lower case; matching ignores case). */
export const SPEC_LAYER_TYPES: readonly string[] = Object.freeze([...Object.keys(LAYER_TYPES), 'sequential']);

/**
 * Builds a Sequential from a model description such as
 * `{"input": [1, 3, 32, 32], "layers": [{"type": "conv2d", "outChannels": 6, "kernelSize": 5},
 * {"type": "relu"}, {"type": "maxpool2d", "kernelSize": 2}, {"type": "flatten"},
 * {"type": "linear", "outFeatures": 10}]}`.
 *
 * Types (SPEC_LAYER_TYPES, docs/models.md): conv1d, conv2d, maxpool2d, avgpool2d, adaptiveavgpool2d,
 * batchnorm1d, batchnorm2d, relu, leakyrelu, sigmoid, tanh, softmax, logsoftmax, dropout, flatten,
 * linear, and sequential (a nested block with its own "layers"). Options are the constructors'
 * (kernelSize, stride, padding, dilation, groups, bias, ceilMode, startDim, p, dim, ...);
 * inChannels, numFeatures and inFeatures default to the size the previous layer produces. Names:
 * without any "name" in a list the layers are "0", "1", ... as in PyTorch; once a list names a
 * layer, its unnamed ones are called type + index ("relu1"). A name is an identifier (letters,
 * digits, "_"). Weights come from their own generator (`options.seed`, default 0), so the global
 * generator is not touched.
 *
 * `input` (or `inputOverride`, which wins) gives the shape the sizes are inferred from. Limits, checked before
 * anything is built: at most MAX_SPEC_LAYERS layers and MAX_SPEC_DEPTH levels of blocks, and with
 * `options.maxStateValues` that many parameter and buffer values (each layer's are counted before it is built).
 * @throws TypeError/RangeError naming the layer ("layers[2] (maxpool2d): ...", "layers[0] 'conv1' (conv2d): ...") for a bad
 *   description; RangeError past a limit (SpecTooLargeError past maxStateValues).
 *
 * @example
 * const { model, input } = buildModelFromSpec(JSON.parse(fs.readFileSync('net.json', 'utf8')));
 * console.log(formatSummary(summary(model, input)));
 * saveModel('net.safetensors', model); // loadModel() rebuilds it from model.config
 */
export function buildModelFromSpec(
  spec: unknown,
  inputOverride?: readonly number[],
  options: BuildSpecOptions = {},
): BuiltSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new TypeError(`model spec must be a JSON object, got ${describe(spec)}`);
  const { input: specInput, layers } = checkOptions('model spec', spec as Record<string, unknown>, ['input', 'layers']);
  const raw = inputOverride ?? specInput;
  if (raw === undefined)
    throw new RangeError('model spec: no input shape (give "input": [N, C, H, W] or an input shape)');
  const input = [...checkShape('model spec: input', raw)];
  if (input.length === 0 || input.some((d) => d < 1))
    throw new RangeError(`model spec: input must have sizes >= 1, got ${formatShape(input)}`);
  const o = checkOptions('buildModelFromSpec', options, ['seed', 'maxStateValues']);
  const seed = checkInt('buildModelFromSpec: seed', o.seed ?? 0, 0);
  const maxStateValues = o.maxStateValues ?? Infinity;
  if (typeof maxStateValues !== 'number' || !(maxStateValues >= 0))
    throw new RangeError(`buildModelFromSpec: maxStateValues must be a number >= 0, got ${describe(maxStateValues)}`);
  checkSpecSize(layers);
  const budget = { max: maxStateValues, used: 0 };
  const built = buildList(layers, 'layers', input, new Generator(seed), budget);
  const normalised = { input, layers: built.layers };
  // Not enumerable: Module code that walks fields (e.g. for generators) sees only what a Sequential has.
  Object.defineProperty(built.model, 'config', { value: normalised, enumerable: false });
  return { model: built.model as SpecModel, input, output: built.shape, spec: normalised };
}

/** True for a Sequential that buildModelFromSpec() built (it carries its spec as `config`). */
export function isSpecModel(model: unknown): model is SpecModel {
  if (!(model instanceof Sequential) || model.constructor !== Sequential) return false;
  const config = (model as { config?: unknown }).config as ModelSpec | undefined;
  return config !== null && typeof config === 'object' && Array.isArray(config.layers) && Array.isArray(config.input);
}

/**
 * Counts the layers of a spec and how deep its blocks nest, without recursion and before anything is built:
 * @throws RangeError past MAX_SPEC_LAYERS layers or MAX_SPEC_DEPTH levels (a hostile spec would otherwise run for
 *   minutes or overflow the stack).
 */
function checkSpecSize(layers: unknown): void {
  let count = 0;
  const stack: [unknown, string, number][] = [[layers, 'layers', 1]];
  while (stack.length > 0) {
    const [list, where, depth] = stack.pop()!;
    if (!Array.isArray(list)) continue; // buildList says what is wrong with it
    if (depth > MAX_SPEC_DEPTH)
      throw new RangeError(
        `model spec: "${where}" is nested ${depth} blocks deep, more than the ${MAX_SPEC_DEPTH} a spec may have`,
      );
    count += list.length;
    if (count > MAX_SPEC_LAYERS)
      throw new RangeError(
        `model spec: more than ${MAX_SPEC_LAYERS} layers (nested ones included), the most a spec may have`,
      );
    list.forEach((layer: unknown, i) => {
      const inner = (layer as { layers?: unknown } | null)?.layers;
      if (inner !== undefined) stack.push([inner, `${where}[${i}].layers`, depth + 1]);
    });
  }
}

/** Builds one list of layers into a Sequential; returns it, the shape it produces and its normalised layers. */
function buildList(
  layers: unknown,
  where: string,
  shape: number[],
  rng: Generator,
  budget: { max: number; used: number },
): { model: Sequential; shape: number[]; layers: LayerSpec[] } {
  if (!Array.isArray(layers))
    throw new TypeError(`model spec: "${where}" must be an array of layers, got ${describe(layers)}`);
  const named = layers.some((l) => l !== null && typeof l === 'object' && 'name' in l);
  const taken = new Set<string>();
  const entries: [string, Module][] = [];
  const normalised: LayerSpec[] = [];
  layers.forEach((layer: unknown, i) => {
    const at = `${where}[${i}]`;
    if (layer === null || typeof layer !== 'object' || Array.isArray(layer))
      throw new TypeError(`${at}: a layer must be an object with a "type", got ${describe(layer)}`);
    const { type, name, layers: inner, ...options } = layer as Record<string, unknown>;
    if (typeof type !== 'string')
      throw new TypeError(
        `${at}: "type" must be a string (one of ${SPEC_LAYER_TYPES.join(', ')}), got ${describe(type)}`,
      );
    const kind = type.toLowerCase();
    if (name !== undefined) checkName(name, `${at} (${type})`);
    const label = name === undefined ? `${at} (${type})` : `${at} '${name}' (${type})`;
    const layerName = name === undefined ? (named ? `${kind}${i}` : String(i)) : (name as string);
    if (taken.has(layerName)) throw new RangeError(`${label}: duplicate layer name '${layerName}'`);
    taken.add(layerName);
    let module: Module;
    let recorded: Record<string, unknown>;
    if (kind === 'sequential') {
      checkOptions(label, { layers: inner, ...options }, ['layers']);
      const block = buildList(inner, `${at}.layers`, shape, rng, budget);
      ({ model: module, shape } = block);
      recorded = { layers: block.layers };
    } else {
      const layerType = Object.prototype.hasOwnProperty.call(LAYER_TYPES, kind) ? LAYER_TYPES[kind] : undefined;
      if (!layerType) throw new RangeError(`${label}: unknown layer type (known: ${SPEC_LAYER_TYPES.join(', ')})`);
      if (inner !== undefined) throw new RangeError(`${label}: only sequential takes "layers"`);
      checkOptions(label, options, layerType.options);
      try {
        recorded = layerType.normalise(options, shape, label);
        const values = layerType.stateValues(recorded);
        // Counted before the constructor allocates anything (NaN: invalid options, which the constructor reports).
        if (!Number.isNaN(values) && (budget.used += values) > budget.max)
          throw new SpecTooLargeError(
            `${label} with input ${formatShape(shape)}: its ${values} parameter and buffer values take the model to ${budget.used}, more than the ${budget.max} allowed`,
          );
        module = layerType.build(recorded, rng);
        shape = module.outputShape(shape);
      } catch (err) {
        if (err instanceof Error && !err.message.startsWith(label))
          err.message = `${label} with input ${formatShape(shape)}: ${err.message}`;
        throw err;
      }
    }
    entries.push([layerName, module]);
    normalised.push({ type: kind, ...(named ? { name: layerName } : {}), ...recorded });
  });
  // Identifier names never look like array indices, so the object keeps the list's order.
  const model = named ? new Sequential(Object.fromEntries(entries)) : new Sequential(...entries.map(([, m]) => m));
  return { model, shape, layers: normalised };
}

function checkName(name: unknown, label: string): string {
  if (typeof name !== 'string') throw new TypeError(`${label}: "name" must be a string, got ${describe(name)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new RangeError(
      `${label}: name '${name}' must be an identifier (letters, digits, '_'; not starting with a digit)`,
    );
  return name;
}
