// SPDX-License-Identifier: MIT
// ONNX import, naming: the module path of each imported layer or op (from its weights' names or the exporter's node
// names), and the model assembled from named steps: a Sequential (nested by dotted names) for a chain, else a Graph.
import type { onnx } from 'onnx-proto';
import { Graph, GRAPH_INPUT, type GraphNodeSpec } from '../modules/graph';
import type { GraphOp } from '../modules/graph-op';
import type { Module } from '../modules/module';
import { Sequential } from '../modules/sequential';

/** A layer or op made from a node, with its name and the steps it reads (-1: the graph input). */
export interface ImportedStep {
  name: string;
  /** The node part of the name ("Relu_1"), appended when `name` is also the path of other steps' container. */
  tail: string;
  module?: Module;
  op?: GraphOp;
  inputs: number[];
}

const PARAM = /^(.+)\.(weight|bias|running_mean|running_var|onnx_scale|onnx_bias)$/;
const INDEX = /^(0|[1-9][0-9]*)$/;

/** A name segment made valid: letters, digits and '_' only, not starting with a digit unless all digits. */
function segment(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(clean) && !INDEX.test(clean) ? `_${clean}` : clean;
}

/**
 * The node's name in the model and its last part: the state-dict prefix of its weights ("conv1"), else from its node
 * name: PyTorch's TorchScript exporter writes "/<scope>/<scope>/<Op>_k" with the module path spread over the scopes
 * ("/layers/layers.0/conv1/Conv" -> "layers.0.conv1"; "/pool1/MaxPool" -> "pool1"; "/Relu_1" -> "Relu_1"), the dynamo
 * exporter "node_<op>" ("node_max_pool2d" -> "max_pool2d").
 */
export function stepName(node: onnx.INodeProto, index: number): { name: string; tail: string } {
  const param = PARAM.exec(node.input?.[1] ?? '');
  let name = node.name ?? '';
  let tail = '';
  if (param) {
    name = param[1];
  } else if (/^node_./.test(name)) {
    name = name.slice(5);
  } else if (name.startsWith('/')) {
    const segments = name.split('/').filter((s) => s !== '');
    tail = segments[segments.length - 1] ?? '';
    if (segments.length >= 2) {
      // Each scope is a child name or a dotted path that extends the one before ("layers", "layers.0").
      let path = '';
      for (const s of segments.slice(0, -1))
        path = path === '' || !s.startsWith(`${path}.`) ? (path ? `${path}.${s}` : s) : s;
      name = path;
    } else {
      name = tail;
    }
  }
  const path = name
    .split('.')
    .map(segment)
    .filter((s) => s !== '');
  const fallback = String(index);
  return { name: path.length > 0 ? path.join('.') : fallback, tail: segment(tail || node.opType || fallback) };
}

/**
 * The names made unique: a repeated name gets "_1", "_2", ... (on an index as the last part, "body.11", that part
 * becomes "_11_1": "11_1" is not a valid name).
 */
export function unique(names: string[]): string[] {
  const seen = new Set<string>();
  const numbered = (base: string, k: number): string => {
    const cut = base.lastIndexOf('.') + 1;
    return base.slice(0, cut) + segment(`${base.slice(cut)}_${k}`);
  };
  return names.map((base) => {
    let name = base;
    for (let k = 1; seen.has(name); k++) name = numbered(base, k);
    seen.add(name);
    return name;
  });
}

/**
 * A Sequential from named layers: dotted names become nested Sequentials ("block.0"), so state-dict names
 * survive the round trip. Returns null when the names cannot nest (a name is also a block, or a block is split).
 */
function nest(entries: [string[], Module][]): Sequential | null {
  const children: [string, Module][] = [];
  for (let i = 0; i < entries.length;) {
    const [path, layer] = entries[i];
    const head = path[0];
    if (children.some(([n]) => n === head)) return null;
    if (path.length === 1) {
      children.push([head, layer]);
      i++;
      continue;
    }
    let j = i;
    while (j < entries.length && entries[j][0][0] === head) j++;
    if (entries.slice(i, j).some(([p]) => p.length === 1)) return null;
    const inner = nest(entries.slice(i, j).map(([p, m]) => [p.slice(1), m]));
    if (inner === null) return null;
    children.push([head, inner]);
    i = j;
  }
  if (children.every(([n], k) => n === String(k))) return new Sequential(...children.map(([, m]) => m));
  // Integer-like keys would be reordered by an object literal: "3" becomes "layer3" when mixed with other names.
  const names = unique(children.map(([n]) => (INDEX.test(n) ? `layer${n}` : n)));
  return new Sequential(Object.fromEntries(children.map(([, m], k) => [names[k], m])));
}

/** A chain of layers: unique names, nested when possible ("block.0" in a Sequential "block"), else flat with "." as "_". */
function assembleChain(layers: [string, Module][]): Sequential {
  const names = unique(layers.map(([n]) => n));
  const nested = nest(names.map((n, i) => [n.split('.'), layers[i][1]]));
  if (nested !== null) return nested;
  const flat = unique(names.map((n) => n.replace(/\./g, '_')));
  return nest(flat.map((n, i) => [[n], layers[i][1]]))!;
}

/**
 * The model of the imported steps whose last one is the output: a Sequential when they form a chain of layers (each
 * reading the one before), else a Graph. Steps that do not lead to the output are dropped.
 */
export function assemble(steps: readonly ImportedStep[], output: number): Sequential | Graph {
  const live = new Array<boolean>(steps.length).fill(false);
  live[output] = true;
  for (let k = output; k >= 0; k--) if (live[k]) for (const v of steps[k].inputs) if (v >= 0) live[v] = true;
  const kept = steps.map((_, k) => k).filter((k) => live[k]);
  const chain = kept.every(
    (k, i) => steps[k].module && steps[k].inputs.length === 1 && steps[k].inputs[0] === (i === 0 ? -1 : kept[i - 1]),
  );
  if (chain) return assembleChain(kept.map((k) => [steps[k].name, steps[k].module as Module]));
  // A name that is also the container of other names, or that several steps share (the Sigmoid and Mul of one SiLU),
  // gets its node part ("layers.0" -> "layers.0.Relu").
  const all = kept.map((k) => steps[k].name);
  const shared = new Set(all.filter((n, i) => all.indexOf(n) !== i));
  const containers = new Set(
    all.flatMap((n) =>
      n
        .split('.')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
    ),
  );
  const named = unique(
    kept.map((k) => {
      const base =
        containers.has(steps[k].name) || shared.has(steps[k].name)
          ? `${steps[k].name}.${steps[k].tail}`
          : steps[k].name;
      return base === GRAPH_INPUT ? `${GRAPH_INPUT}_` : base;
    }),
  );
  const nameOf = new Map(kept.map((k, i) => [k, named[i]]));
  const specs: GraphNodeSpec[] = kept.map((k) => ({
    name: nameOf.get(k) as string,
    module: steps[k].module,
    op: steps[k].op,
    inputs: steps[k].inputs.map((v) => (v < 0 ? GRAPH_INPUT : (nameOf.get(v) as string))),
  }));
  return new Graph(specs);
}
