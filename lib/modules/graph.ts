// SPDX-License-Identifier: MIT
// Graph: a module running a directed acyclic graph of modules and ops (residual adds, concatenations, ...): forward in
// the nodes' order, backward in reverse with gradients summed where a value is read twice. Building one from code is
// graph-builder.ts, the ops graph-ops*.ts, the native inference program program.ts.
import { describe } from '../check';
import { native } from '../native';
import { formatShape, sameShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { ModuleDict } from './graph-container';
import { checkArity, GraphOp, type OpContext } from './graph-op';
import { Add } from './graph-ops';
import { BackwardContext, ForwardContext, hasFastBackward, Module } from './module';
import { appendModuleSteps, compileGraphProgram, type CompiledProgram, type ProgramStep } from './program';
import { programKey, runProgram } from './program-run';
import { Sequential } from './sequential';
import type { BatchNormBase } from './batch-norm';
import { fusesBatchNormAddRelu, fusesBatchNormRelu, reluFusedInto } from './fuse-relu';
import { ReLU } from './relu';

/** The name of the graph's input value. */
export const GRAPH_INPUT = 'input';

/** One node as given to the Graph constructor: a module or an op, and the names of the values it reads. */
export interface GraphNodeSpec {
  /** Unique; a module's path in the state dict ("conv1", "layers.0.conv1": segments of letters, digits, '_'). */
  name: string;
  module?: Module;
  op?: GraphOp;
  /** Names of earlier nodes, or "input" for the graph's input; a module reads one value. */
  inputs: readonly string[];
}

/** A node of a built Graph: `inputs` index values (0 is the graph input, k + 1 the output of nodes[k]). */
export interface GraphNode {
  readonly name: string;
  readonly module: Module | null;
  readonly op: GraphOp | null;
  readonly inputs: readonly number[];
}

const REUSE: ForwardContext = Object.freeze({ reuse: true });
const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*|0|[1-9][0-9]*)$/;

/**
 * A directed acyclic graph of modules and ops, as a PyTorch module whose forward() adds, multiplies or concatenates
 * values (or a Keras functional model). The last node's output is the graph's output; every node must lead to it.
 * Module nodes are children named by their node's path, so stateDict() names are PyTorch's ("layers.0.conv1.weight").
 * A module may appear in one node only (no weight sharing).
 *
 * Build one with GraphBuilder (see docs/models.md for a ResNet block), from a JSON model file, by importing a
 * branching ONNX model, or from node specs:
 *
 * @example
 * const block = new Graph([
 *   { name: 'conv', module: new Conv2d({ inChannels: 8, outChannels: 8, kernelSize: 3, padding: 1 }), inputs: ['input'] },
 *   { name: 'add', op: new Add(), inputs: ['conv', 'input'] },
 * ]);
 */
export class Graph extends Module {
  readonly nodes: readonly GraphNode[];
  private compiled: { key: string; program: CompiledProgram | null } | null = null;
  private reluReaders: (ReLU | null)[] | null = null;
  private addReluReaders: ({ relu: ReLU; other: number } | null)[] | null = null;

  constructor(nodes: readonly GraphNodeSpec[]) {
    super();
    if (!Array.isArray(nodes) || nodes.length === 0)
      throw new TypeError(`Graph: nodes must be a non-empty array of node specs, got ${describe(nodes)}`);
    const index = new Map<string, number>([[GRAPH_INPUT, 0]]);
    const used = new Set<Module>();
    const built: GraphNode[] = [];
    nodes.forEach((spec, k) => {
      const at = `Graph: node ${k}`;
      if (spec === null || typeof spec !== 'object')
        throw new TypeError(`${at} must be an object, got ${describe(spec)}`);
      const name = checkNodeName(at, spec.name);
      if (index.has(name))
        throw new RangeError(`${at}: name '${name}' is ${name === GRAPH_INPUT ? "the graph input's" : 'taken'}`);
      const label = `Graph: node '${name}'`;
      const isModule = spec.module !== undefined;
      if (isModule === (spec.op !== undefined)) throw new TypeError(`${label} needs exactly one of module and op`);
      if (isModule && !(spec.module instanceof Module))
        throw new TypeError(`${label}: module must be a Module, got ${describe(spec.module)}`);
      if (!isModule && !(spec.op instanceof GraphOp))
        throw new TypeError(`${label}: op must be a GraphOp, got ${describe(spec.op)}`);
      if (!Array.isArray(spec.inputs))
        throw new TypeError(`${label}: inputs must be an array of names, got ${describe(spec.inputs)}`);
      const inputs = spec.inputs.map((n: unknown) => {
        const i = typeof n === 'string' ? index.get(n) : undefined;
        if (i === undefined)
          throw new RangeError(
            `${label}: input ${typeof n === 'string' ? `'${n}'` : describe(n)} is not "${GRAPH_INPUT}" or an earlier node`,
          );
        return i;
      });
      if (isModule) {
        if (inputs.length !== 1) throw new RangeError(`${label}: a module reads one value, got ${inputs.length}`);
        if (used.has(spec.module as Module))
          throw new RangeError(
            `${label}: its module is already another node's (a module runs once per forward: no weight sharing)`,
          );
        used.add(spec.module as Module);
      } else {
        try {
          checkArity(spec.op as GraphOp, inputs.length);
        } catch (err) {
          throw new RangeError(`${label}: ${(err as Error).message}`, { cause: err });
        }
      }
      index.set(name, k + 1);
      built.push({ name, module: spec.module ?? null, op: spec.op ?? null, inputs });
    });
    checkAllLeadToOutput(built);
    this.nodes = built;
    for (const node of built) if (node.module) this.place(node.name, node.module);
  }

  /** Registers `module` at dotted `path`, making ModuleDict containers for the leading segments. */
  private place(path: string, module: Module): void {
    const parts = path.split('.');
    // The container the next segment goes into (null: this graph).
    let parent: ModuleDict | null = null;
    for (const [i, part] of parts.entries()) {
      const existing = (parent ?? this).namedChildren().find(([n]) => n === part)?.[1];
      const last = i === parts.length - 1;
      if (last) {
        if (existing) throw new RangeError(`Graph: node '${path}' is also a container of other nodes`);
      } else if (existing && !(existing instanceof ModuleDict)) {
        throw new RangeError(
          `Graph: node '${parts.slice(0, i + 1).join('.')}' is a module, so '${path}' cannot sit inside it`,
        );
      }
      const child = last ? module : (existing ?? new ModuleDict());
      const placed: Module = parent === null ? this.registerModule(part, child) : parent.set(part, child);
      parent = last ? null : (placed as ModuleDict);
    }
  }

  /** The shape of every value for this input shape: [input, node 0's output, ...]; validates each node. */
  valueShapes(inputShape: readonly number[]): number[][] {
    const shapes: number[][] = [[...inputShape]];
    for (const node of this.nodes) {
      const ins = node.inputs.map((i) => shapes[i]);
      try {
        shapes.push(node.module ? node.module.outputShape(ins[0]) : (node.op as GraphOp).outputShape(ins));
      } catch (err) {
        if (err instanceof Error)
          err.message = `Graph: node '${node.name}' (${nodeType(node)}) with input ${ins.map(formatShape).join(', ')}: ${err.message}`;
        throw err;
      }
    }
    return shapes;
  }

  outputShape(inputShape: readonly number[]): number[] {
    const shapes = this.valueShapes(inputShape);
    return shapes[shapes.length - 1];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    // predict() must not overwrite the buffers a pending backward() reads.
    const childCtx = ctx.keepState === false ? ctx : REUSE;
    const keep = ctx.keepState !== false;
    const values: Tensor[] = [input];
    for (let k = 0; k < this.nodes.length; k++) {
      const node = this.nodes[k];
      const ins = node.inputs.map((i) => values[i]);
      const addRelu = this.addReluAfter(k);
      if (
        addRelu &&
        fusesBatchNormAddRelu(node.module as Module, addRelu.relu) &&
        sameShape(ins[0].shape, values[addRelu.other].shape)
      ) {
        // BatchNorm, the residual add and the ReLU in one pass (the add's and the ReLU's values are the same tensor);
        // backward runs as unfused: the ReLU's masks the gradient, the add's hands it to both inputs.
        const add = this.nodes[k + 1];
        const sum = (node.module as BatchNormBase).forwardWithAddRelu(ins[0], values[addRelu.other], childCtx);
        (add.op as Add).keepInputs([sum, values[addRelu.other]], this.opContext(add, childCtx.reuse, keep));
        const out = addRelu.relu.adoptOutput(sum, childCtx);
        values.push(out, out, out);
        k += 2;
        continue;
      }
      const relu = this.reluAfter(k);
      if (relu && fusesBatchNormRelu(node.module as Module, relu)) {
        // BatchNorm + ReLU in one pass; the ReLU's value (read by nothing else) is the same tensor.
        const out = relu.adoptOutput((node.module as BatchNormBase).forwardWithRelu(ins[0], childCtx), childCtx);
        values.push(out, out);
        k++;
        continue;
      }
      if (relu && node.op?.constructor === Add && sameShape(ins[0].shape, ins[1].shape)) {
        // The residual add + ReLU in one pass (not a subclass's add); backward runs as unfused: the ReLU's masks the
        // gradient once (in place when this graph may overwrite it), the add's hands that to both inputs.
        const sum = (node.op as Add).forwardWithRelu(ins, this.opContext(node, childCtx.reuse, keep));
        const out = relu.adoptOutput(sum, childCtx);
        values.push(out, out);
        k++;
        continue;
      }
      values.push(
        node.module
          ? node.module.forwardWith(ins[0], childCtx)
          : (node.op as GraphOp).forward(ins, this.opContext(node, childCtx.reuse, keep)),
      );
    }
    const out = values[values.length - 1];
    return childCtx === REUSE && !ctx.reuse ? out.clone() : out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const count = this.nodes.length + 1;
    const grads: (Tensor | null)[] = new Array<Tensor | null>(count).fill(null);
    // owned[v]: grads[v] may be overwritten in place: this graph's own sum buffer, a built-in module's scratch, or
    // the caller's gradient when it says so. A gradient an op returned may be shared (Add passes dout to both inputs).
    const owned: boolean[] = new Array<boolean>(count).fill(false);
    // shared[v]: grads[v] is an owned gradient an op handed to several inputs (Add's dout): it may be overwritten once
    // no other pending gradient holds that buffer.
    const shared: boolean[] = new Array<boolean>(count).fill(false);
    grads[count - 1] = doutput;
    owned[count - 1] = ctx.overwriteGrad === true;
    const mayOverwrite = (v: number): boolean => {
      const have = grads[v];
      if (have === null || owned[v]) return owned[v];
      return shared[v] && grads.every((h, u) => u === v || h === null || h.data.buffer !== have.data.buffer);
    };
    const accumulate = (v: number, g: Tensor | null, gOwned: boolean, gShared = false): void => {
      if (g === null) return;
      const have = grads[v];
      if (have === null) {
        grads[v] = g;
        owned[v] = gOwned;
        shared[v] = gShared;
        return;
      }
      if (mayOverwrite(v)) owned[v] = true;
      // Where a value fans out, its gradient is the sum of its readers' gradients, added into a buffer that may be
      // overwritten (a + b == b + a in floats, so which one holds the sum does not change it).
      let sum = have;
      let add = g;
      if (!owned[v]) {
        if (gOwned) {
          [sum, add] = [g, have];
        } else {
          sum = this.scratch(`grad:${v}`, have.shape, true);
          sum.data.set(have.data);
        }
        grads[v] = sum;
        owned[v] = true;
      }
      if (sum.data.length > 0) native.add(sum.data, sum.data, add.data);
    };
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const node = this.nodes[k];
      const g = grads[k + 1];
      if (g === null) throw new Error(`Graph.backward: node '${node.name}' got no gradient`);
      const needed = node.inputs.map((i) => i > 0 || ctx.inputGrad);
      const before = k > 0 ? this.nodes[k - 1].module : null;
      if (node.module && before && this.reluAfter(k - 1) === node.module && reluFusedInto(before, node.module)) {
        // Fused into the BatchNorm before it (forward), whose backward runs this ReLU's.
        grads[k] = g;
        owned[k] = owned[k + 1];
      } else if (node.module) {
        // A module may add its input gradient straight into the one its input already has (a residual block's conv1
        // into the shortcut's): one pass over the gradient fewer than the add below.
        const v = node.inputs[0];
        const addInto = needed[0] && mayOverwrite(v) ? (grads[v] as Tensor) : undefined;
        const dx = node.module.backwardWith(g, {
          reuse: true,
          inputGrad: needed[0],
          overwriteGrad: owned[k + 1],
          addInto,
        });
        if (addInto !== undefined && dx === addInto) {
          owned[v] = true;
        } else {
          // A built-in module returns its own scratch, or the gradient it was given (masked in place, reshaped).
          const dxOwned = dx !== null && (dx.data === g.data ? owned[k + 1] : hasFastBackward(node.module));
          accumulate(v, needed[0] ? dx : null, dxOwned);
        }
      } else {
        const handed: Tensor[] = [];
        const dxs = (node.op as GraphOp).backward(g, needed, this.opContext(node, true, true, handed));
        node.inputs.forEach((i, j) => {
          const dx = needed[j] ? dxs[j] : null;
          // Scratch handed to the op by this call and returned for this input alone is this graph's to overwrite (a
          // conv reading the same value then adds into it: the stride-2 shortcut's slice gradient, no add pass).
          const own = dx !== null && handed.includes(dx) && dxs.filter((d) => d?.data === dx.data).length === 1;
          accumulate(i, dx, own, owned[k + 1] && dx !== null && dx.data === g.data);
        });
      }
      grads[k + 1] = null;
    }
    if (!ctx.inputGrad) return null;
    const dinput = grads[0];
    if (dinput === null) throw new Error('Graph.backward: the input got no gradient');
    return ctx.reuse ? dinput : dinput.clone();
  }

  /**
   * The ReLU module of node k + 1 when it reads only node k's output and nothing else reads that output (so node k,
   * a BatchNorm or an add, may write the ReLU's result in place of its own), else null. Computed once.
   */
  private reluAfter(k: number): ReLU | null {
    if (this.reluReaders === null) {
      const readers = new Array<number>(this.nodes.length + 1).fill(0);
      for (const n of this.nodes) for (const i of n.inputs) readers[i]++;
      this.reluReaders = this.nodes.map((_, j) => {
        const next = this.nodes[j + 1];
        const only = next?.module?.constructor === ReLU && next.inputs[0] === j + 1 && readers[j + 1] === 1;
        return only ? (next.module as ReLU) : null;
      });
    }
    return this.reluReaders[k];
  }

  /**
   * When node k + 1 is an add (not a subclass's) of node k's output, which nothing else reads, and another value, and
   * node k + 2 a ReLU alone reading the add: that ReLU and the add's other input (a value index), else null. Computed
   * once; the forward checks the shapes.
   */
  private addReluAfter(k: number): { relu: ReLU; other: number } | null {
    if (this.addReluReaders === null) {
      const readers = new Array<number>(this.nodes.length + 1).fill(0);
      for (const n of this.nodes) for (const i of n.inputs) readers[i]++;
      this.addReluReaders = this.nodes.map((_, j) => {
        const add = this.nodes[j + 1];
        const relu = this.reluAfter(j + 1);
        if (add?.op?.constructor !== Add || relu === null || readers[j + 1] !== 1) return null;
        const other = add.inputs.find((i) => i !== j + 1);
        return other !== undefined && add.inputs.includes(j + 1) ? { relu, other } : null;
      });
    }
    return this.addReluReaders[k] ?? null;
  }

  /** The op's context; `handed` (when given) collects the scratch tensors it gives out. */
  private opContext(node: GraphNode, reuse: boolean, keep: boolean, handed?: Tensor[]): OpContext {
    return {
      keep,
      scratch: (role, shape, zero = false) => {
        const t = this.scratch(`${node.name}:${role}`, shape, reuse, zero);
        handed?.push(t);
        return t;
      },
    };
  }

  override predict(input: Tensor): Tensor {
    const program = this.inferenceProgram(input);
    return program ? runProgram(this, program, input) : super.predict(input);
  }

  /**
   * The native program for this input's sample shape (compiled once per shape), or null; used by predict() and by
   * predictAsync()'s batcher. Throws on a malformed input.
   */
  inferenceProgram(input: Tensor): CompiledProgram | null {
    const key = programKey(input);
    if (this.compiled?.key !== key) this.compiled = { key, program: compileGraphProgram(this, input.shape.slice(1)) };
    return this.compiled.program;
  }

  /** The graph's leaf steps for the program compiler (nested Sequentials and Graphs expanded); returns the output value. */
  appendSteps(steps: ProgramStep[], input: number): number {
    const values = [input];
    const append = (module: Module, x: number): number =>
      module instanceof Sequential
        ? module.namedChildren().reduce((v, [, child]) => append(child, v), x)
        : appendModuleSteps(steps, module, x);
    for (const node of this.nodes) {
      const ins = node.inputs.map((i) => values[i]);
      if (node.module) {
        values.push(append(node.module, ins[0]));
      } else {
        steps.push({ op: node.op as GraphOp, inputs: ins });
        values.push(steps.length - 1);
      }
    }
    return values[values.length - 1];
  }

  /** A PyTorch-like listing: each node, and what it reads when that is not the node before it. */
  override toString(): string {
    const names = [GRAPH_INPUT, ...this.nodes.map((n) => n.name)];
    const lines = this.nodes.map((node, k) => {
      const what = node.module ? node.module.toString().replace(/\n/g, '\n  ') : (node.op as GraphOp).toString();
      const reads =
        node.inputs.length === 1 && node.inputs[0] === k ? '' : ` <- ${node.inputs.map((i) => names[i]).join(', ')}`;
      return `  (${node.name}): ${what}${reads}`;
    });
    return `${this.constructor.name}(${this.extraRepr()}\n${lines.join('\n')}\n)`;
  }
}

/** "Conv2d" for a module node, "add" for an op node. */
export function nodeType(node: GraphNode): string {
  return node.module ? node.module.constructor.name : (node.op as GraphOp).type;
}

function checkNodeName(at: string, name: unknown): string {
  if (typeof name !== 'string') throw new TypeError(`${at}: name must be a string, got ${describe(name)}`);
  if (!name.split('.').every((s) => SEGMENT.test(s)))
    throw new RangeError(
      `${at}: name '${name}' must be dot-separated identifiers or indices (letters, digits, '_'; "layers.0.conv1")`,
    );
  return name;
}

/** Throws unless every node's output is read on some path to the last node (nothing is computed for nothing). */
function checkAllLeadToOutput(nodes: readonly GraphNode[]): void {
  const live = new Array<boolean>(nodes.length + 1).fill(false);
  live[nodes.length] = true;
  for (let k = nodes.length - 1; k >= 0; k--) if (live[k + 1]) for (const i of nodes[k].inputs) live[i] = true;
  const dead = nodes.findIndex((_, k) => !live[k + 1]);
  if (dead >= 0)
    throw new RangeError(
      `Graph: node '${nodes[dead].name}' does not lead to the output (the last node, '${nodes[nodes.length - 1].name}')`,
    );
  if (!live[0]) throw new RangeError('Graph: the output does not depend on the input');
}
