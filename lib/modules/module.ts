// SPDX-License-Identifier: MIT
// Module: the base class of layers and models (parameters, buffers, children, modes, state dicts).
import { describe, ShapeError } from '../errors';
import { formatShape, sameShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { Parameter } from './parameter';
import { predictBatched } from './predict-batcher';

/**
 * Base class of every layer and model. Subclasses implement forward, backward and outputShape,
 * register their parameters, buffers and child modules, and describe themselves in extraRepr().
 *
 * forward() in training mode keeps what backward() needs; backward(dout) accumulates parameter
 * gradients into `param.grad` and returns the gradient with respect to the input.
 */
export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  private readonly workspace = new Map<string, Tensor>();

  /** The output shape for an input shape (validates the input shape). */
  abstract outputShape(inputShape: readonly number[]): number[];

  /** Computes the output; in training mode keeps what backward() needs. Returns a new tensor. */
  forward(input: Tensor): Tensor {
    return this.forwardWith(input, FRESH_FORWARD);
  }

  /**
   * Accumulates parameter gradients into `param.grad` and returns the gradient with respect to
   * the input of the last forward(). With `{ inputGrad: false }` the input gradient is not
   * computed (cheaper for a model's first layer) and null is returned.
   */
  backward(doutput: Tensor): Tensor;
  backward(doutput: Tensor, options: BackwardOptions): Tensor | null;
  backward(doutput: Tensor, options: BackwardOptions = {}): Tensor | null {
    return this.backwardWith(doutput, { reuse: false, inputGrad: options.inputGrad ?? true });
  }

  /**
   * Inference: the output for `input` as in eval mode, leaving the module's mode and the state
   * backward() needs untouched. (Sequential models of Conv2d, MaxPool2d, Linear, ReLU and Flatten
   * run it as one native call.)
   */
  predict(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`predict: input must be a Tensor, got ${describe(input)}`);
    const restore = saveModes(this);
    this.eval();
    try {
      return this.forwardWith(input, { reuse: false, keepState: false });
    } finally {
      restore();
    }
  }

  /**
   * predict() off the event loop where the model supports it: Sequential models that compile to a
   * native program run on a thread-pool thread, and concurrent calls with the same sample shape are
   * batched (setBatching; docs/serving.md). Each call resolves to exactly what a lone predict() of
   * its input gives, with the weights as they are when its batch starts (an immutable snapshot shared
   * by the batch: later weight changes never tear a result). The input is copied at the call. Other
   * modules run predict() now.
   */
  async predictAsync(input: Tensor): Promise<Tensor> {
    return predictBatched(this, input);
  }

  /** forward() for containers: `ctx.reuse` allows returning a buffer the next call overwrites. */
  abstract forwardWith(input: Tensor, ctx: ForwardContext): Tensor;
  /** backward() for containers; returns null only when `ctx.inputGrad` is false. */
  abstract backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null;

  /**
   * A tensor for an op's result: with `reuse`, the same memory each call while the shape holds
   * (steady-state training allocates nothing); otherwise new. Contents are not cleared unless `zero`.
   */
  protected scratch(role: string, shape: readonly number[], reuse: boolean, zero = false): Tensor {
    if (!reuse) return Tensor.zeros(shape);
    let t = this.workspace.get(role);
    if (!t || !sameShape(t.shape, shape)) {
      t = Tensor.zeros(shape);
      this.workspace.set(role, t);
    } else if (zero) {
      t.data.fill(0);
    }
    return t;
  }

  protected registerParameter(name: string, param: Parameter): Parameter {
    this.ownParameters.set(name, param);
    return param;
  }

  /** Buffers are saved in the state dict but not trained (e.g. BatchNorm running statistics). */
  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    this.ownBuffers.set(name, tensor);
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    if (name === '' || name.includes('.'))
      throw new RangeError(`Module: child name '${name}' must be non-empty without '.'`);
    this.children.set(name, module);
    return module;
  }

  /** Direct children as [name, module] pairs, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter with its PyTorch-style dotted name ("conv1.weight"), in registration order. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, child] of this.children) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, b] of this.ownBuffers) out.push([prefix + name, b]);
    for (const [name, child] of this.children) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  /** Total number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.data.size, 0);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and buffers by PyTorch name. The tensors are the module's own (not copies), like
   * PyTorch's state_dict(); clone them to keep a snapshot.
   */
  stateDict(): Record<string, Tensor> {
    const dict: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) dict[name] = p.data;
    for (const [name, b] of this.namedBuffers()) dict[name] = b;
    return dict;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers. Strict: a missing,
   * unexpected or misshapen entry throws an error naming it, and nothing is changed.
   */
  loadStateDict(dict: Record<string, Tensor>): void {
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    if (missing.length || unexpected.length) {
      const parts = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
      throw new RangeError(`loadStateDict: ${parts.join('; ')}`);
    }
    for (const [name, target] of Object.entries(own)) {
      const source = dict[name];
      if (!(source instanceof Tensor)) throw new TypeError(`loadStateDict: '${name}' must be a Tensor`);
      if (!sameShape(source.shape, target.shape)) {
        throw new ShapeError(
          `loadStateDict: '${name}' has shape ${formatShape(source.shape)}, expected ${formatShape(target.shape)}`,
        );
      }
    }
    for (const [name, target] of Object.entries(own)) target.data.set(dict[name].data);
  }

  /** The constructor arguments worth showing, e.g. "3, 6, kernelSize=[5, 5]". */
  extraRepr(): string {
    return '';
  }

  /** A PyTorch-like tree description of the module. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.children.size === 0) return `${head})`;
    const lines = [...this.children].map(([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

export interface BackwardOptions {
  /** Compute and return the input gradient. Default true. */
  inputGrad?: boolean;
}

export interface ForwardContext {
  /** The result may live in memory this module reuses on its next call. */
  reuse: boolean;
  /** Keep what backward() needs (default: when training). False for predict(). */
  keepState?: boolean;
}

export interface BackwardContext {
  reuse: boolean;
  inputGrad: boolean;
  /** The incoming gradient is a container's scratch that the module may overwrite in place. */
  overwriteGrad?: boolean;
}

const FRESH_FORWARD: ForwardContext = Object.freeze({ reuse: false });

/** Records the `training` flag of a module and all its descendants; the returned function puts them back. */
export function saveModes(model: Module): () => void {
  const saved: [Module, boolean][] = [];
  const visit = (m: Module): void => {
    saved.push([m, m.training]);
    for (const [, child] of m.namedChildren()) visit(child);
  };
  visit(model);
  return () => {
    for (const [m, mode] of saved) m.training = mode;
  };
}

/** Throws unless a forward() in training mode left what backward() needs. */
export function requireSaved<T>(saved: T | undefined | null, layer: string): T {
  if (saved === undefined || saved === null) {
    throw new Error(`${layer}.backward: call forward() in training mode first`);
  }
  return saved;
}
