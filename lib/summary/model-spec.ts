// SPDX-License-Identifier: MIT
// buildModelFromSpec(): a Sequential (a list of "layers") or a Graph (a list of "nodes" naming their inputs) from a JSON
// model description (docs/models.md), inferring input sizes from the running shape and returning the normalised
// description that rebuilds it; the layer types and graph ops are declared by their kinds (lib/layers/; no file I/O here).
import { checkInt, checkOptions, describe } from '../check';
import type { OpKind, SpecType } from '../layers/kind';
import { specTypes } from '../layers/registry';
import { Graph, GRAPH_INPUT, type GraphNodeSpec } from '../modules/graph';
import type { GraphOp } from '../modules/graph-op';
import { Module } from '../modules/module';
import { Sequential } from '../modules/sequential';
import { Generator } from '../random';
import { checkShape, formatShape } from '../tensor/shape';

/** One layer (or graph node): its type, an optional name, and the layer's options (camelCase, as its constructor takes them). */
export interface LayerSpec {
  type: string;
  name?: string;
  /** Only for type "sequential": its layers. */
  layers?: LayerSpec[];
  /** Only for type "graph": its nodes. */
  nodes?: LayerSpec[];
  /** Only for a graph's nodes: the names of the values it reads (default: the node before it, or "input"). */
  inputs?: string | string[];
  [option: string]: unknown;
}

/** A model description: the input shape (batch first) and the layers in order (a Sequential) or the nodes (a Graph). */
export interface ModelSpec {
  input?: number[];
  layers?: LayerSpec[];
  nodes?: LayerSpec[];
}

/** A normalised description of a Sequential: its input and layers. */
export type NormalisedListSpec = { input: number[]; layers: LayerSpec[] };
/** A normalised description of a Graph: its input and nodes. */
export type NormalisedGraphSpec = { input: number[]; nodes: LayerSpec[] };
/** A normalised description: its input, and its layers or its nodes. */
export type NormalisedSpec = NormalisedListSpec | NormalisedGraphSpec;

/**
 * A Sequential or Graph built from a spec, carrying its normalised spec as `config` (what saveModel records as
 * the "Sequential" or "Graph" architecture's config, and loadModel rebuilds from).
 */
export type SpecModel = (Sequential | Graph) & { readonly config: NormalisedSpec };

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

/** Layers and nodes a spec may have in all, nested blocks and their contents included (real CNNs have hundreds). */
export const MAX_SPEC_LAYERS = 10_000;
/** How deep "sequential" and "graph" blocks may nest. */
export const MAX_SPEC_DEPTH = 64;

/** What every entry's build shares: the weights' generator and the parameter budget (maxStateValues). */
interface BuildContext {
  rng: Generator;
  budget: { max: number; used: number };
}

/** What buildModelFromSpec() returns (M: the model's type, a Sequential or a Graph; S: its normalised spec's). */
export interface BuiltSpec<M extends SpecModel = SpecModel, S extends NormalisedSpec = NormalisedSpec> {
  model: M;
  /** The input shape the sizes were inferred from (batch first). */
  input: number[];
  /** The shape the model produces for `input`. */
  output: number[];
  /**
   * The normalised description: the input, lower-case types, every inferred size written out
   * (inChannels, inFeatures, numFeatures) and, in a list that names any layer, every name. Building
   * it again gives the same layers, parameter names and shapes.
   */
  spec: S;
}

/** The layer types a spec can use in "layers" (lower case; matching ignores case). */
export const SPEC_LAYER_TYPES: readonly string[] = Object.freeze([
  ...[...specTypes()].filter(([, e]) => 'layer' in e).map(([t]) => t),
  'sequential',
  'graph',
]);

/** The graph ops a graph's "nodes" can use besides the layer types. */
export const SPEC_OP_TYPES: readonly string[] = Object.freeze(
  [...specTypes()].filter(([, e]) => 'op' in e).map(([t]) => t),
);

/**
 * Builds a Sequential from a model description such as
 * `{"input": [1, 3, 32, 32], "layers": [{"type": "conv2d", "outChannels": 6, "kernelSize": 5},
 * {"type": "relu"}, {"type": "maxpool2d", "kernelSize": 2}, {"type": "flatten"},
 * {"type": "linear", "outFeatures": 10}]}`.
 *
 * Types (SPEC_LAYER_TYPES, docs/models.md): conv1d, conv2d, maxpool2d, avgpool2d, adaptiveavgpool2d,
 * batchnorm1d, batchnorm2d, layernorm, groupnorm, relu, relu6, hardtanh, leakyrelu, sigmoid, tanh, softmax,
 * logsoftmax, gelu, silu, hardswish, hardsigmoid, elu, identity, dropout, dropout2d, flatten, linear, and sequential (a nested block with its own "layers"). Options are the constructors'
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
 * @throws TypeError/RangeError naming the layer ("layers[2] (maxpool2d): ...", "layers[0] 'conv1' (conv2d): ...") for a
 *   bad description; RangeError past a limit (SpecTooLargeError past maxStateValues).
 *
 * @example
 * const { model, input } = buildModelFromSpec(JSON.parse(fs.readFileSync('net.json', 'utf8')));
 * console.log(formatSummary(summary(model, input)));
 * saveModel('net.safetensors', model); // loadModel() rebuilds it from model.config
 */
export function buildModelFromSpec(
  spec: { layers: unknown; [key: string]: unknown },
  inputOverride?: readonly number[],
  options?: BuildSpecOptions,
): BuiltSpec<Sequential & { readonly config: NormalisedListSpec }, NormalisedListSpec>;
export function buildModelFromSpec(
  spec: { nodes: unknown; [key: string]: unknown },
  inputOverride?: readonly number[],
  options?: BuildSpecOptions,
): BuiltSpec<Graph & { readonly config: NormalisedGraphSpec }, NormalisedGraphSpec>;
export function buildModelFromSpec(
  spec: unknown,
  inputOverride?: readonly number[],
  options?: BuildSpecOptions,
): BuiltSpec;
export function buildModelFromSpec(
  spec: unknown,
  inputOverride?: readonly number[],
  options: BuildSpecOptions = {},
): BuiltSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new TypeError(`model spec must be a JSON object, got ${describe(spec)}`);
  const {
    input: specInput,
    layers,
    nodes,
  } = checkOptions('model spec', spec as Record<string, unknown>, ['input', 'layers', 'nodes']);
  if (layers !== undefined && nodes !== undefined)
    throw new RangeError('model spec: give "layers" (a Sequential) or "nodes" (a Graph), not both');
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
  checkSpecSize(nodes ?? layers, nodes !== undefined ? 'nodes' : 'layers');
  const ctx: BuildContext = { rng: new Generator(seed), budget: { max: maxStateValues, used: 0 } };
  let model: Module;
  let shape: number[];
  let normalised: NormalisedSpec;
  if (nodes !== undefined) {
    const built = buildNodes(nodes, 'nodes', input, ctx);
    ({ model, shape } = built);
    normalised = { input, nodes: built.nodes };
  } else {
    const built = buildList(layers, 'layers', input, ctx);
    ({ model, shape } = built);
    normalised = { input, layers: built.layers };
  }
  // Not enumerable: Module code that walks fields (e.g. for generators) sees only what a Sequential or Graph has.
  Object.defineProperty(model, 'config', { value: normalised, enumerable: false });
  return { model: model as SpecModel, input, output: shape, spec: normalised };
}

/** True for a Sequential or Graph that buildModelFromSpec() built (it carries its spec as `config`). */
export function isSpecModel(model: unknown): model is SpecModel {
  if (!(model instanceof Sequential || model instanceof Graph)) return false;
  if (model.constructor !== Sequential && model.constructor !== Graph) return false;
  const config = (model as { config?: unknown }).config as ModelSpec | undefined;
  if (config === null || typeof config !== 'object' || !Array.isArray(config.input)) return false;
  return model instanceof Sequential ? Array.isArray(config.layers) : Array.isArray(config.nodes);
}

/** What one entry of a list or graph builds into. */
interface BuiltEntry {
  module?: Module;
  op?: GraphOp;
  shape: number[];
  /** The options as the normalised spec records them (with "layers" or "nodes" for a block). */
  recorded: Record<string, unknown>;
}

/**
 * Builds one entry of type `kind` reading values of `shapes` (one, except for graph ops); `label` starts errors.
 * Blocks ("sequential", "graph") recurse; graph ops are allowed only when `ops`.
 */
function buildEntry(
  kind: string,
  type: string,
  options: Record<string, unknown>,
  block: { layers?: unknown; nodes?: unknown },
  label: string,
  at: string,
  shapes: number[][],
  ctx: BuildContext,
  ops: boolean,
): BuiltEntry {
  if (kind === 'sequential' || kind === 'graph') {
    const own = kind === 'sequential' ? 'layers' : 'nodes';
    checkOptions(label, { [own]: block[own], ...options }, [own]);
    if (block[kind === 'sequential' ? 'nodes' : 'layers'] !== undefined)
      throw new RangeError(`${label}: ${kind} takes "${own}", not "${kind === 'sequential' ? 'nodes' : 'layers'}"`);
    if (kind === 'sequential') {
      const built = buildList(block.layers, `${at}.layers`, shapes[0], ctx);
      return { module: built.model, shape: built.shape, recorded: { layers: built.layers } };
    }
    const built = buildNodes(block.nodes, `${at}.nodes`, shapes[0], ctx);
    return { module: built.model, shape: built.shape, recorded: { nodes: built.nodes } };
  }
  const entry = specTypes().get(kind);
  if (!entry || ('op' in entry && !ops)) {
    const known = ops ? [...SPEC_LAYER_TYPES, ...SPEC_OP_TYPES] : SPEC_LAYER_TYPES;
    const hint = entry ? ` (${kind} is a graph op: use it in a graph's "nodes")` : '';
    throw new RangeError(`${label}: unknown layer type (known: ${known.join(', ')})${hint}`);
  }
  if (block.layers !== undefined) throw new RangeError(`${label}: only sequential takes "layers"`);
  if (block.nodes !== undefined) throw new RangeError(`${label}: only graph takes "nodes"`);
  checkOptions(label, options, 'layer' in entry ? entry.layer.options : entry.op.options);
  try {
    if ('layer' in entry) {
      const type = entry.layer as SpecType;
      const recorded = type.normalise ? type.normalise(options, shapes[0], label) : options;
      const values = type.stateValues ? type.stateValues(recorded) : 0;
      // Counted before the constructor allocates anything (NaN: invalid options, which the constructor reports).
      if (!Number.isNaN(values) && (ctx.budget.used += values) > ctx.budget.max)
        throw new SpecTooLargeError(
          `${label} with input ${formatShape(shapes[0])}: its ${values} parameter and buffer values take the model to ${ctx.budget.used}, more than the ${ctx.budget.max} allowed`,
        );
      const module = type.build(recorded, ctx.rng);
      return { module, shape: module.outputShape(shapes[0]), recorded };
    }
    const op = (entry.op as OpKind).make(options);
    return { op, shape: op.outputShape(shapes), recorded: op.options() };
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith(label))
      err.message = `${label} with input ${shapes.map(formatShape).join(', ')}: ${err.message}`;
    throw err;
  }
}

/** The parts of a list entry: type, name, nested blocks, inputs and options; `at` names it in errors. */
function entryParts(entry: unknown, at: string) {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    throw new TypeError(`${at}: a layer must be an object with a "type", got ${describe(entry)}`);
  const { type, name, layers, nodes, inputs, ...options } = entry as Record<string, unknown>;
  if (typeof type !== 'string')
    throw new TypeError(
      `${at}: "type" must be a string (one of ${SPEC_LAYER_TYPES.join(', ')}), got ${describe(type)}`,
    );
  if (name !== undefined) checkName(name, `${at} (${type})`);
  const label = name === undefined ? `${at} (${type})` : `${at} '${name}' (${type})`;
  return {
    type,
    kind: type.toLowerCase(),
    name: name as string | undefined,
    block: { layers, nodes },
    inputs,
    options,
    label,
  };
}

/**
 * Counts the layers and nodes of a spec and how deep its blocks nest, without recursion and before anything is built:
 * @throws RangeError past MAX_SPEC_LAYERS entries or MAX_SPEC_DEPTH levels (a hostile spec would otherwise run for
 *   minutes or overflow the stack).
 */
function checkSpecSize(top: unknown, key: string): void {
  let count = 0;
  const stack: [unknown, string, number][] = [[top, key, 1]];
  while (stack.length > 0) {
    const [list, where, depth] = stack.pop()!;
    if (!Array.isArray(list)) continue; // buildList / buildNodes say what is wrong with it
    if (depth > MAX_SPEC_DEPTH)
      throw new RangeError(
        `model spec: "${where}" is nested ${depth} blocks deep, more than the ${MAX_SPEC_DEPTH} a spec may have`,
      );
    count += list.length;
    if (count > MAX_SPEC_LAYERS)
      throw new RangeError(
        `model spec: more than ${MAX_SPEC_LAYERS} layers (nested ones included), the most a spec may have`,
      );
    list.forEach((entry: unknown, i) => {
      for (const inner of ['layers', 'nodes'] as const) {
        const value = (entry as Record<string, unknown> | null)?.[inner];
        if (value !== undefined) stack.push([value, `${where}[${i}].${inner}`, depth + 1]);
      }
    });
  }
}

/** Builds one list of layers into a Sequential; returns it, the shape it produces and its normalised layers. */
function buildList(
  layers: unknown,
  where: string,
  shape: number[],
  ctx: BuildContext,
): { model: Sequential; shape: number[]; layers: LayerSpec[] } {
  if (!Array.isArray(layers))
    throw new TypeError(`model spec: "${where}" must be an array of layers, got ${describe(layers)}`);
  const named = layers.some((l) => l !== null && typeof l === 'object' && 'name' in l);
  const taken = new Set<string>();
  const entries: [string, Module][] = [];
  const normalised: LayerSpec[] = [];
  layers.forEach((layer: unknown, i) => {
    const at = `${where}[${i}]`;
    const { type, kind, name, block, inputs, options, label } = entryParts(layer, at);
    if (inputs !== undefined)
      throw new RangeError(`${label}: "inputs" is for a graph's nodes; a list's layers read the layer before`);
    const layerName = name === undefined ? (named ? `${kind}${i}` : String(i)) : name;
    if (taken.has(layerName)) throw new RangeError(`${label}: duplicate layer name '${layerName}'`);
    taken.add(layerName);
    const built = buildEntry(kind, type, options, block, label, at, [shape], ctx, false);
    shape = built.shape;
    entries.push([layerName, built.module as Module]);
    normalised.push({ type: kind, ...(named ? { name: layerName } : {}), ...built.recorded });
  });
  // Identifier names never look like array indices, so the object keeps the list's order.
  const model = named ? new Sequential(Object.fromEntries(entries)) : new Sequential(...entries.map(([, m]) => m));
  return { model, shape, layers: normalised };
}

/**
 * Builds a graph's nodes into a Graph: each node reads the values its "inputs" name ("input" is the graph's input),
 * by default the node before it; unnamed nodes are called type + index ("add3"). The last node is the output.
 */
function buildNodes(
  nodes: unknown,
  where: string,
  input: number[],
  ctx: BuildContext,
): { model: Graph; shape: number[]; nodes: LayerSpec[] } {
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw new TypeError(`model spec: "${where}" must be a non-empty array of nodes, got ${describe(nodes)}`);
  const shapes = new Map<string, number[]>([[GRAPH_INPUT, input]]);
  const specs: GraphNodeSpec[] = [];
  const normalised: LayerSpec[] = [];
  let previous = GRAPH_INPUT;
  nodes.forEach((node: unknown, i) => {
    const at = `${where}[${i}]`;
    const { type, kind, name, block, inputs, options, label } = entryParts(node, at);
    const nodeName = name ?? `${kind}${i}`;
    if (shapes.has(nodeName))
      throw new RangeError(
        `${label}: ${nodeName === GRAPH_INPUT ? `'${GRAPH_INPUT}' names the graph input` : `duplicate node name '${nodeName}'`}`,
      );
    const reads = inputs === undefined ? [previous] : typeof inputs === 'string' ? [inputs] : inputs;
    if (!Array.isArray(reads) || reads.length === 0 || reads.some((r) => typeof r !== 'string'))
      throw new TypeError(
        `${label}: "inputs" must be a node name or a non-empty array of them, got ${describe(inputs)}`,
      );
    const missing = (reads as string[]).find((r) => !shapes.has(r));
    if (missing !== undefined)
      throw new RangeError(`${label}: input '${missing}' is not "${GRAPH_INPUT}" or an earlier node`);
    const ins = (reads as string[]).map((r) => shapes.get(r) as number[]);
    const built = buildEntry(kind, type, options, block, label, at, ins, ctx, true);
    if (built.module && reads.length !== 1)
      throw new RangeError(`${label}: a layer reads one value, got ${reads.length} inputs`);
    shapes.set(nodeName, built.shape);
    specs.push({ name: nodeName, module: built.module, op: built.op, inputs: reads as string[] });
    normalised.push({ type: kind, name: nodeName, inputs: [...(reads as string[])], ...built.recorded });
    previous = nodeName;
  });
  let model: Graph;
  try {
    model = new Graph(specs);
  } catch (err) {
    if (err instanceof Error) err.message = `model spec: "${where}": ${err.message}`;
    throw err;
  }
  return { model, shape: shapes.get(previous) as number[], nodes: normalised };
}

function checkName(name: unknown, label: string): string {
  if (typeof name !== 'string') throw new TypeError(`${label}: "name" must be a string, got ${describe(name)}`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new RangeError(
      `${label}: name '${name}' must be an identifier (letters, digits, '_'; not starting with a digit)`,
    );
  return name;
}
