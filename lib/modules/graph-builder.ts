// SPDX-License-Identifier: MIT
// GraphBuilder: writes a Graph the way a PyTorch forward() or a Keras functional model reads: declare named layers,
// call them on symbolic values, combine values with add/mul/concat; build() checks and returns the Graph.
import { describe } from '../check';
import { Graph, GRAPH_INPUT, type GraphNodeSpec } from './graph';
import { GraphOp } from './graph-op';
import { Add, Concat, Mul } from './graph-ops';
import { Clamp, Pad, Reshape, Slice, type SliceOptions } from './graph-ops-shape';
import { Flatten } from './flatten';
import { Module } from './module';
import { ReLU } from './relu';
import { Sigmoid } from './sigmoid';

/** A value of a graph being built: the input, or a node's output. Only the builder that made it accepts it. */
export class GraphValue {
  /** @internal */
  constructor(
    readonly builder: GraphBuilder,
    /** 0 for the input, k + 1 for the k-th node. */
    readonly index: number,
  ) {}
}

interface Pending {
  /** Given by the user (a layer's name), or null: named after its type when built. */
  name: string | null;
  type: string;
  module?: Module;
  op?: GraphOp;
  inputs: number[];
}

/**
 * Builds a Graph. Declare each layer with a name (its state-dict path, as a PyTorch attribute name) and call it on a
 * value; parameter-free steps (relu, add, concat, ...) need no name.
 *
 * @example
 * // The basic block of a CIFAR ResNet: relu(bn2(conv2(relu(bn1(conv1(x))))) + x)
 * const g = new GraphBuilder();
 * const x = g.input();
 * const conv1 = g.layer('conv1', new Conv2d({ inChannels: 16, outChannels: 16, kernelSize: 3, padding: 1, bias: false }));
 * const bn1 = g.layer('bn1', new BatchNorm2d({ numFeatures: 16 }));
 * const conv2 = g.layer('conv2', new Conv2d({ inChannels: 16, outChannels: 16, kernelSize: 3, padding: 1, bias: false }));
 * const bn2 = g.layer('bn2', new BatchNorm2d({ numFeatures: 16 }));
 * const block = g.build(g.relu(g.add(bn2(conv2(g.relu(bn1(conv1(x))))), x)));
 */
export class GraphBuilder {
  private readonly pending: Pending[] = [];
  private readonly names = new Set<string>();
  private readonly declared = new Map<string, boolean>();
  private inputValue: GraphValue | null = null;
  private built = false;

  /** The graph's input (one per graph). */
  input(): GraphValue {
    if (this.inputValue) throw new RangeError('GraphBuilder.input: the graph already has its input');
    this.inputValue = new GraphValue(this, 0);
    return this.inputValue;
  }

  /**
   * Declares `module` as the layer `name` (its path in the state dict: "conv1", or "layers.0.conv1") and returns the
   * function that applies it to a value. Each layer is applied once (no weight sharing).
   */
  layer<M extends Module>(name: string, module: M): (x: GraphValue) => GraphValue {
    if (!(module instanceof Module))
      throw new TypeError(`GraphBuilder.layer: '${name}' must be a Module, got ${describe(module)}`);
    this.claim(name);
    this.declared.set(name, false);
    return (x) => {
      const input = this.index(x, name);
      if (this.declared.get(name))
        throw new RangeError(`GraphBuilder: layer '${name}' is applied twice (no weight sharing)`);
      this.declared.set(name, true);
      return this.push({ name, type: name, module, inputs: [input] });
    };
  }

  /** Applies an unnamed parameter-free module (it is named after its class: "relu", "relu_1", ...). */
  apply(module: Module, x: GraphValue): GraphValue {
    if (!(module instanceof Module))
      throw new TypeError(`GraphBuilder.apply: module must be a Module, got ${describe(module)}`);
    if (module.parameters().length > 0 || module.namedBuffers().length > 0)
      throw new RangeError(
        `GraphBuilder.apply: ${module.constructor.name} has parameters or buffers; give it a name with layer()`,
      );
    return this.push({
      name: null,
      type: module.constructor.name.toLowerCase(),
      module,
      inputs: [this.index(x, 'apply')],
    });
  }

  /** Applies a graph op to values. */
  op(op: GraphOp, ...inputs: GraphValue[]): GraphValue {
    if (!(op instanceof GraphOp)) throw new TypeError(`GraphBuilder.op: op must be a GraphOp, got ${describe(op)}`);
    return this.push({ name: null, type: op.type, op, inputs: inputs.map((v) => this.index(v, op.type)) });
  }

  /** a + b, broadcasting (torch.add). */
  add(a: GraphValue, b: GraphValue): GraphValue {
    return this.op(new Add(), a, b);
  }

  /** a * b, broadcasting (torch.mul). */
  mul(a: GraphValue, b: GraphValue): GraphValue {
    return this.op(new Mul(), a, b);
  }

  /** torch.cat(values, dim): joined along `dim` (default 1, the channels). */
  concat(values: readonly GraphValue[], dim = 1): GraphValue {
    if (!Array.isArray(values))
      throw new TypeError(`GraphBuilder.concat: values must be an array, got ${describe(values)}`);
    return this.op(new Concat({ dim }), ...values);
  }

  /** torch.flatten(x, startDim, endDim). */
  flatten(x: GraphValue, startDim = 1, endDim = -1): GraphValue {
    return this.apply(new Flatten({ startDim, endDim }), x);
  }

  /** x.view(x.size(0), ...shape): each sample gets `shape` (one entry may be -1). */
  reshape(x: GraphValue, shape: readonly number[]): GraphValue {
    return this.op(new Reshape({ shape }), x);
  }

  relu(x: GraphValue): GraphValue {
    return this.apply(new ReLU(), x);
  }

  sigmoid(x: GraphValue): GraphValue {
    return this.apply(new Sigmoid(), x);
  }

  /** torch.clamp(x, min, max); null for no bound (ReLU6: clamp(x, 0, 6)). */
  clamp(x: GraphValue, min: number | null, max: number | null): GraphValue {
    return this.op(new Clamp({ min, max }), x);
  }

  /** Constant padding: [before, after] for each dim after the batch. */
  pad(x: GraphValue, pads: readonly (readonly [number, number])[], value = 0): GraphValue {
    return this.op(new Pad({ pads, value }), x);
  }

  /** A strided slice (x[:, :, ::2, ::2] is slice(x, { axes: [2, 3], steps: [2, 2] })). */
  slice(x: GraphValue, options: SliceOptions): GraphValue {
    return this.op(new Slice(options), x);
  }

  /** The Graph computing `output`; the builder cannot be used afterwards. */
  build(output: GraphValue): Graph {
    return new Graph(this.specs(output));
  }

  /**
   * The node specs of the graph computing `output` (what build() passes to the Graph constructor; a Graph subclass
   * passes them to super()). The builder cannot be used afterwards.
   */
  specs(output: GraphValue): GraphNodeSpec[] {
    const at = this.index(output, 'build');
    if (this.built) throw new RangeError('GraphBuilder.build: this builder already built its graph');
    if (at === 0) throw new RangeError('GraphBuilder.build: the output is the input itself; add at least one node');
    const unused = [...this.declared].find(([, applied]) => !applied);
    if (unused) throw new RangeError(`GraphBuilder.build: layer '${unused[0]}' is declared but never applied`);
    this.built = true;
    const nodes = this.pending.slice(0, at);
    const counts = new Map<string, number>();
    const names: string[] = [GRAPH_INPUT];
    const specs: GraphNodeSpec[] = nodes.map((p) => {
      let name = p.name;
      if (name === null) {
        // fx-style names for unnamed steps: add, add_1, ...; never one a layer already has.
        for (let n = counts.get(p.type) ?? 0; ; n++) {
          const candidate = n === 0 ? p.type : `${p.type}_${n}`;
          if (!this.names.has(candidate) && !this.names.has(candidate.split('.')[0])) {
            counts.set(p.type, n + 1);
            name = candidate;
            break;
          }
        }
        this.names.add(name);
      }
      names.push(name);
      return { name, module: p.module, op: p.op, inputs: p.inputs.map((i) => names[i]) };
    });
    return specs;
  }

  private claim(name: string): void {
    if (typeof name !== 'string' || name === '')
      throw new TypeError(`GraphBuilder.layer: name must be a non-empty string, got ${describe(name)}`);
    if (name === GRAPH_INPUT) throw new RangeError(`GraphBuilder.layer: '${GRAPH_INPUT}' names the graph input`);
    if (this.names.has(name)) throw new RangeError(`GraphBuilder.layer: name '${name}' is taken`);
    this.names.add(name);
    this.names.add(name.split('.')[0]);
  }

  private index(v: GraphValue, what: string): number {
    if (!(v instanceof GraphValue) || v.builder !== this)
      throw new TypeError(
        `GraphBuilder (${what}): expected a value of this builder (from input() or a layer), got ${describe(v)}`,
      );
    return v.index;
  }

  private push(p: Pending): GraphValue {
    if (this.built) throw new RangeError('GraphBuilder: the graph is built already');
    this.pending.push(p);
    return new GraphValue(this, this.pending.length);
  }
}
